"""Value checks shared by the scenario parsers: each failure is one line naming the key and file."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from pipeline.errors import InvalidScenarioError

#: Sentinel-2A's first acquisitions; nothing can be simulated before them.
FIRST_S2_DATE: Final = date(2015, 6, 23)
_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_-]{1,40}")


def fail(where: str, key: str, problem: str) -> InvalidScenarioError:
    return InvalidScenarioError(f"scenario {where}: {key}: {problem}")


def check_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str, path: str) -> None:
    for key in table:
        if key not in known:
            shown = key if _PLAIN_KEY.fullmatch(str(key)) else repr(key)  # keep messages one line
            full = f"{path}.{shown}" if path else shown
            raise fail(where, full, f"unknown key (known keys here: {', '.join(known)})")


def parse_date(value: Any, where: str, key: str) -> date:
    if isinstance(value, datetime):
        raise fail(where, key, f"{value.isoformat()} has a time of day; give a date YYYY-MM-DD")
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise fail(where, key, f"{value!r} is not a valid date (YYYY-MM-DD)") from None
    else:
        raise fail(where, key, f"expected a date YYYY-MM-DD, got {type(value).__name__}")
    if parsed < FIRST_S2_DATE:
        raise fail(where, key, f"{parsed} is before Sentinel-2's first images ({FIRST_S2_DATE})")
    return parsed


def number(value: Any, where: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(where, key, f"expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise fail(where, key, f"{value!r} is larger than {high:g}") from None
    if not math.isfinite(number):
        raise fail(where, key, f"{value!r} is not finite")
    if number < low:
        raise fail(where, key, f"{value!r} is negative" if low == 0 else f"{value!r} < {low}")
    if number > high:
        raise fail(where, key, f"{value!r} is larger than {high:g}")
    return number


def integer(value: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(where, key, f"expected an integer, got {value!r}")
    if not low <= value <= high:
        raise fail(where, key, f"{value} is outside {low}-{high}")
    return value

"""The analysts' hand counts (``seeds/osint.csv``): comparison points, not truth at 10 m.

Columns, all required and no others: ``start, end`` (dates, inclusive; equal for a single
image), ``aoi``, ``metric`` (``ships`` or ``railcar_equivalents``), ``value`` (a number, or
empty when the report is not a count per image), ``reported`` (what the analysts wrote)
and ``source``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from pipeline.errors import RasonWatchError

COLUMNS: Final = ("start", "end", "aoi", "metric", "value", "reported", "source")
METRICS: Final = ("ships", "railcar_equivalents")


class InvalidOsintError(RasonWatchError, ValueError):
    """The OSINT table is malformed: a missing or unknown column, or a bad value."""


@dataclass(frozen=True)
class OsintPoint:
    """One observation reported by analysts on high-resolution imagery."""

    start: date
    """First date the report covers."""
    end: date
    """Last date it covers (equal to ``start`` for one image)."""
    aoi: str
    """AOI id it is about."""
    metric: str
    """The metric it compares with."""
    value: float | None
    """The count reported, or None when the report is not a count per image."""
    reported: str
    """What the analysts wrote."""
    source: str
    """Who reported it."""

    @property
    def is_point(self) -> bool:
        """A single date rather than a period."""
        return self.start == self.end


def load_osint(path: Path | str) -> tuple[OsintPoint, ...]:
    """Read and validate the OSINT table.

    Raises:
        InvalidOsintError: the file cannot be read, or a column or value is wrong.
    """
    where = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            if set(header) != set(COLUMNS) or len(header) != len(COLUMNS):
                raise InvalidOsintError(
                    f"OSINT table {where!r}: columns must be {', '.join(COLUMNS)}; "
                    f"found {', '.join(header) or 'none'}"
                )
            return tuple(_row(row, where, i + 2) for i, row in enumerate(reader))
    except OSError as exc:
        raise InvalidOsintError(f"cannot read OSINT table {where!r}: {exc.strerror}") from None
    except csv.Error as exc:
        raise InvalidOsintError(f"OSINT table {where!r}: not valid CSV ({exc})") from None


def _row(row: dict[str, str | None], where: str, line: int) -> OsintPoint:
    at = f"OSINT table {where!r}, line {line}"
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    try:
        start, end = date.fromisoformat(values["start"]), date.fromisoformat(values["end"])
    except ValueError:
        raise InvalidOsintError(f"{at}: start and end must be dates (YYYY-MM-DD)") from None
    if end < start:
        raise InvalidOsintError(f"{at}: end is before start")
    if values["metric"] not in METRICS:
        raise InvalidOsintError(f"{at}: metric must be one of {', '.join(METRICS)}")
    value: float | None = None
    if values["value"]:
        try:
            value = float(values["value"])
        except ValueError:
            raise InvalidOsintError(f"{at}: value {values['value']!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise InvalidOsintError(f"{at}: value must be a count of 0 or more")
    for key in ("aoi", "reported", "source"):
        if not values[key]:
            raise InvalidOsintError(f"{at}: {key} is empty")
    return OsintPoint(
        start, end, values["aoi"], values["metric"], value, values["reported"], values["source"]
    )

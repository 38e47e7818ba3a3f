"""The analysts' hand counts (``seeds/osint.csv``): comparison points, not truth at 10 m.

Columns: ``start, end`` (dates, inclusive; equal for a single image), ``aoi``, ``metric``
(``ships`` or ``railcar_equivalents``), ``value`` (a number, or empty when the report is not
a count per image), ``reported`` (what the analysts wrote) and ``source``, all required;
and ``zone``, optional: a yard zone of the AOI (``tumangang-yard``, ``khasan-yard``) when the
count is of that yard alone, empty (or no such column, as in tables written before it
existed) when it is of the whole AOI. A zoned count is compared with that yard's own series.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from pipeline.errors import RasonWatchError
from pipeline.geo.aoi import AOI_ID_PATTERN
from pipeline.types import Aoi

COLUMNS: Final = ("start", "end", "aoi", "metric", "value", "reported", "source")
#: Columns a table may leave out (older tables have none of them).
OPTIONAL_COLUMNS: Final = ("zone",)
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
    zone: str | None = None
    """The yard zone of the AOI the count is of (``tumangang-yard``), or None for the
    whole AOI."""

    @property
    def is_point(self) -> bool:
        """A single date rather than a period."""
        return self.start == self.end


def yard_zones(aois: Iterable[Aoi]) -> dict[str, frozenset[str]]:
    """Each AOI's yard zones: the zones with a series of their own (``zone_observations``)."""
    return {a.id: frozenset(z.name for z in a.zones if z.kind == "yard") for a in aois}


def load_osint(
    path: Path | str, *, aoi_zones: Mapping[str, frozenset[str]] | None = None
) -> tuple[OsintPoint, ...]:
    """Read and validate the OSINT table.

    Args:
        path: the CSV file.
        aoi_zones: each AOI's yard zones (:func:`yard_zones`); a row's ``zone`` must be one
            of its AOI's. None checks only that the name is well formed.

    Raises:
        InvalidOsintError: the file cannot be read, or a column or value is wrong (a zone
            that is not a yard zone of the row's AOI among them).
    """
    where = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            extra = set(header) - set(COLUMNS) - set(OPTIONAL_COLUMNS)
            if not set(COLUMNS) <= set(header) or extra or len(set(header)) != len(header):
                raise InvalidOsintError(
                    f"OSINT table {where!r}: columns must be {', '.join(COLUMNS)} "
                    f"(and optionally {', '.join(OPTIONAL_COLUMNS)}); "
                    f"found {', '.join(header) or 'none'}"
                )
            return tuple(_row(row, where, i + 2, aoi_zones) for i, row in enumerate(reader))
    except OSError as exc:
        raise InvalidOsintError(f"cannot read OSINT table {where!r}: {exc.strerror}") from None
    except csv.Error as exc:
        raise InvalidOsintError(f"OSINT table {where!r}: not valid CSV ({exc})") from None


def _row(
    row: dict[str, str | None],
    where: str,
    line: int,
    aoi_zones: Mapping[str, frozenset[str]] | None,
) -> OsintPoint:
    at = f"OSINT table {where!r}, line {line}"
    values = {k: (row.get(k) or "").strip() for k in (*COLUMNS, *OPTIONAL_COLUMNS)}
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
    zone = values["zone"] or None
    if zone is not None:
        _check_zone(zone, aoi=values["aoi"], metric=values["metric"], at=at, known=aoi_zones)
    return OsintPoint(
        start,
        end,
        values["aoi"],
        values["metric"],
        value,
        values["reported"],
        values["source"],
        zone,
    )


def _check_zone(
    zone: str, *, aoi: str, metric: str, at: str, known: Mapping[str, frozenset[str]] | None
) -> None:
    """Refuse a zone that has no series to compare with.

    Raises:
        InvalidOsintError: the zone is malformed, on a ships row, or not a yard of ``aoi``.
    """
    if metric != "railcar_equivalents":
        raise InvalidOsintError(
            f"{at}: zone {zone!r} on a {metric} row; zones are for railcar_equivalents rows "
            "only (yards have railcar series of their own), so leave zone empty"
        )
    if not AOI_ID_PATTERN.fullmatch(zone):
        raise InvalidOsintError(f"{at}: zone {zone!r} must match {AOI_ID_PATTERN.pattern}")
    if known is None:
        return
    if aoi not in known:
        raise InvalidOsintError(
            f"{at}: zone {zone!r} cannot be checked: no AOI file for {aoi!r} in the AOI "
            "folder; add one or leave zone empty"
        )
    if zone not in known[aoi]:
        raise InvalidOsintError(
            f"{at}: zone {zone!r} is not a yard zone of AOI {aoi!r} (its yard zones: "
            f"{', '.join(sorted(known[aoi])) or 'none'}); fix the name or leave zone empty"
        )

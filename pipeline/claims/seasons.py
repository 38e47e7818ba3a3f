"""Seasons: the same calendar days in other years, clear scenes per month, de-seasoned values.

Traffic and clear skies both follow the seasons at Rason (trade after the thaw, clear dry
winters, monsoon summers). A test window of August to November compared with a baseline
of mostly clear winter scenes compares seasons, not years. The default comparison is
therefore **season-matched**: the window against the same calendar days of the baseline
years (:func:`matched_ranges`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Range = tuple[date, date]
#: The year of the pre-border-closure baseline (the border closed in January 2020).
PRE_CLOSURE_YEAR: Final = 2019


def calendar_key(day: date) -> int:
    """``month * 32 + day``: orders the days of any year by calendar (29 Feb included)."""
    return day.month * 32 + day.day


def in_calendar(keys: NDArray[np.int64], first: int, last: int) -> NDArray[np.bool_]:
    """Which calendar keys lie in ``first..last``, wrapping over the new year."""
    if first <= last:
        return (keys >= first) & (keys <= last)
    return (keys >= first) | (keys <= last)


def _shift(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes the 28th in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def matched_ranges(window: Range, baseline: Range) -> tuple[Range, ...]:
    """The window's calendar days in every year of the baseline, clipped to it.

    A window of a year or more matches the whole baseline.
    """
    start, end = window
    if (end - start).days >= 365:
        return (baseline,)
    out = []
    for years in range(baseline[0].year - end.year - 1, 0):
        first, last = _shift(start, years), _shift(end, years)
        first, last = max(first, baseline[0]), min(last, baseline[1])
        if first <= last:
            out.append((first, last))
    return tuple(out)


def year_range(year: int, baseline: Range) -> tuple[Range, ...]:
    """One calendar year of the baseline (empty when the baseline misses it)."""
    first, last = max(date(year, 1, 1), baseline[0]), min(date(year, 12, 31), baseline[1])
    return ((first, last),) if first <= last else ()


def in_ranges(dates: Sequence[date], ranges: Sequence[Range]) -> NDArray[np.bool_]:
    """Mask of ``dates`` inside any of ``ranges`` (inclusive)."""
    return range_index(dates, ranges) >= 0


def range_index(dates: Sequence[date], ranges: Sequence[Range]) -> NDArray[np.int64]:
    """Index of the range each date falls in (-1 for none; the last range wins an overlap)."""
    days = np.fromiter((d.toordinal() for d in dates), dtype=np.int64, count=len(dates))
    out = np.full(days.size, -1, dtype=np.int64)
    for k, (a, b) in enumerate(ranges):
        out[(days >= a.toordinal()) & (days <= b.toordinal())] = k
    return out


def months_of(ranges: Sequence[Range]) -> list[tuple[int, int]]:
    """Every ``(year, month)`` the ranges touch, in order."""
    months: list[tuple[int, int]] = []
    for first, last in ranges:
        day = first.replace(day=1)
        while day <= last:
            if (day.year, day.month) not in months:
                months.append((day.year, day.month))
            day = (day + timedelta(days=32)).replace(day=1)
    return months


def clear_per_month(
    dates: Sequence[date], ranges: Sequence[Range], *, since: date | None = None
) -> dict[str, int]:
    """Clear scenes in each calendar month the ranges touch (``"2019-08": 3``), from the
    month of ``since`` on (the series' first scene: the months before it were never seen)."""
    inside = [d for d, keep in zip(dates, in_ranges(dates, ranges), strict=True) if keep]
    first = (since.year, since.month) if since is not None else (0, 0)
    counts = {f"{y:04d}-{m:02d}": 0 for y, m in months_of(ranges) if (y, m) >= first}
    for d in inside:
        counts[f"{d.year:04d}-{d.month:02d}"] += 1
    return counts


def empty_months(per_month: dict[str, int]) -> list[str]:
    """The months (``"2019-08"``) without a clear scene."""
    return [month for month, count in per_month.items() if count == 0]


def deseasoned(dates: Sequence[date], values: FloatArray) -> FloatArray:
    """Values minus the mean of their calendar month over the years, for each month seen
    in at least two years (one year's month mean is that year's data, not its season)."""
    months = np.array([d.month for d in dates], dtype=np.int64)
    years = np.array([d.year for d in dates], dtype=np.int64)
    out = values.astype(np.float64).copy()
    for month in np.unique(months):
        mine = months == month
        if np.unique(years[mine]).size >= 2:
            out[mine] -= values[mine].mean()
        else:
            out[mine] -= values.mean()
    return out

"""How likely the archive was to see a visit: month by month, and quarter by quarter.

For each calendar month, the share of its days on which a visit of ``visit_days`` starting
that day overlaps at least one clear scene. Visits are taken to arrive as a Poisson stream of
``visits_per_month``, each seen independently with that month's chance, so the chance of
having seen at least one in a quarter is ``1 - exp(-visits_per_month * sum of its months'
chances)`` (:mod:`pipeline.claims.visits` has the whole rule). Pure: dates and numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Quarter:
    """A block of months of the absence period and the chance of having seen a visit in it."""

    months: tuple[str, ...]
    """Its months (``2019-01``...)."""
    chance: float
    """Chance of at least one visit seen, had ships called at ``visits_per_month``."""

    @property
    def label(self) -> str:
        """``2019-01..2019-03``."""
        return self.months[0] if len(self.months) == 1 else f"{self.months[0]}..{self.months[-1]}"


def month_key(day: date) -> str:
    """``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


def months_between(start: date, end: date) -> list[date]:
    """The first day of every calendar month from ``start``'s to ``end``'s."""
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_chances(
    clear_days: Sequence[date], months: Sequence[date], *, visit_days: float
) -> list[tuple[str, float, int]]:
    """Per month: the share of its days on which a visit of ``visit_days`` starting that day
    overlaps a clear scene, and the month's clear scenes."""
    ordinals = np.array(sorted(d.toordinal() for d in clear_days), dtype=np.int64)
    span = max(1, math.ceil(visit_days))
    out = []
    for first in months:
        nxt = months_between(first, first + timedelta(days=31))[-1]
        starts = np.arange(first.toordinal(), nxt.toordinal(), dtype=np.int64)
        # first clear scene on or after each start day, and whether it falls inside the stay
        idx = np.searchsorted(ordinals, starts, side="left")
        has = idx < ordinals.size
        seen = np.zeros(starts.size, dtype=bool)
        seen[has] = ordinals[idx[has]] < starts[has] + span
        n_clear = int(np.count_nonzero((ordinals >= starts[0]) & (ordinals < nxt.toordinal())))
        out.append((month_key(first), float(seen.mean()), n_clear))
    return out


def seen_chance(chances: Iterable[float], *, visits_per_month: float) -> float:
    """Chance of at least one visit seen over months with these chances, visits arriving
    as a Poisson stream of ``visits_per_month``."""
    return 1.0 - math.exp(-visits_per_month * float(sum(chances)))


def quarters_of(
    month_chance: Sequence[tuple[str, float, int]], *, visits_per_month: float
) -> list[Quarter]:
    """Blocks of three months from the first; a remainder of one or two joins the last."""
    blocks = [list(month_chance[i : i + 3]) for i in range(0, len(month_chance), 3)]
    if len(blocks) > 1 and len(blocks[-1]) < 3:
        tail = blocks.pop()
        blocks[-1] += tail
    return [
        Quarter(
            tuple(m for m, _, _ in b),
            seen_chance((p for _, p, _ in b), visits_per_month=visits_per_month),
        )
        for b in blocks
        if b
    ]


def month_ranges(months: Sequence[str]) -> str:
    """``2019-01..2019-12, 2020-03`` from a sorted list of ``YYYY-MM``: runs collapsed."""
    runs: list[list[str]] = []
    for m in months:
        if runs and _next_month(runs[-1][-1]) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def _next_month(key: str) -> str:
    y, m = int(key[:4]), int(key[5:])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"

"""Error and bias of the detectors by season, for ``rasonwatch bench sim``.

Winter brings snow, harbour ice and long shadows; summer brings monsoon cloud and haze; the
trade itself has a season. An error that is small over the year can hide a bias that is large
in one season and cancels in another, and a season-dependent bias is exactly what turns into a
false "spike" when a claim's window and its baseline cover different seasons. So the bench
reports each season on its own.

Seasons are the meteorological ones: winter is December-February (``DJF``), spring
``MAM``, summer ``JJA``, autumn ``SON``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

SEASONS: Final = ("DJF", "MAM", "JJA", "SON")


def season_of(day: date) -> str:
    """The meteorological season of a date: ``DJF``, ``MAM``, ``JJA`` or ``SON``."""
    return SEASONS[(day.month % 12) // 3]


@dataclass(frozen=True)
class Scored:
    """One scored scene: the truth and what a detector said."""

    day: date
    """Acquisition date."""
    truth: float
    """True count."""
    estimate: float
    """The detector's count."""

    @property
    def error(self) -> float:
        """Signed error, estimate minus truth."""
        return self.estimate - self.truth

    @property
    def relative_error(self) -> float:
        """Signed error relative to the truth (the truth must be positive)."""
        return self.error / self.truth


Summary = Callable[[Sequence[Scored]], dict[str, float | int | None]]


def count_errors(scored: Sequence[Scored]) -> dict[str, float | int | None]:
    """``n``, mean absolute error and mean signed error (bias) of counts."""
    if not scored:
        return {"n": 0, "mae": None, "bias": None}
    return {
        "n": len(scored),
        "mae": round(statistics.fmean(abs(s.error) for s in scored), 3),
        "bias": round(statistics.fmean(s.error for s in scored), 3),
    }


def relative_errors(scored: Sequence[Scored]) -> dict[str, float | int | None]:
    """``n``, median absolute relative error and median signed relative error (bias)."""
    if not scored:
        return {"n": 0, "median_relative_error": None, "median_relative_bias": None}
    return {
        "n": len(scored),
        "median_relative_error": round(statistics.median(abs(s.relative_error) for s in scored), 3),
        "median_relative_bias": round(statistics.median(s.relative_error for s in scored), 3),
    }


def by_season(
    scored: Sequence[Scored], summary: Summary
) -> dict[str, dict[str, float | int | None]]:
    """``summary`` of the scenes of each season (every season present, empty ones too)."""
    return {
        season: summary([s for s in scored if season_of(s.day) == season]) for season in SEASONS
    }

"""The window-scan null: how often a window of the claim's length stands out with no change.

Every window of the claim's length placed in the baseline years (one starting every
:data:`SCAN_STEP_DAYS`) is tested the way the claim's window is: its mean per clear scene
against the same calendar days of the *other* baseline years, by the contrast of
:func:`contrast` (the difference of means over its standard error, so that a monsoon window
with few clear looks does not stand out for its noise alone; the raw ratio's placebo tail
was that heavy). Stays, seasons, slow drifts and whatever else the baseline holds all show
up in the spread of these placebo contrasts, without a model of any of them. The share of
placebo windows whose contrast reaches the claim's is the **empirical false-alarm rate**:
how often a window stands out this much in years when nothing was claimed. It also makes
choosing a window with hindsight visible: a window picked from many stands out only when
few windows of the baseline do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from pipeline.claims.seasons import calendar_key, in_calendar

FloatArray = NDArray[np.float64]
Direction = Literal["increase", "decrease"]

#: Days between the starts of consecutive placebo windows (the Sentinel-2 revisit).
SCAN_STEP_DAYS: Final = 5


@dataclass(frozen=True)
class Scan:
    """The claim's ratio against the ratios of every placebo window in the baseline."""

    windows: int
    """Placebo windows with enough clear scenes on both sides to be tested."""
    skipped: int
    """Placebo windows left out for too few clear scenes (in them or in other years)."""
    exceed: int
    """Placebo windows whose ratio reaches the claim's (in the claimed direction)."""
    first: date | None
    """Start of the first placebo window tested."""
    last: date | None
    """Start of the last placebo window tested."""

    @property
    def false_alarm_rate(self) -> float:
        """``exceed / windows``: nan when no placebo window could be tested."""
        return self.exceed / self.windows if self.windows else math.nan


def placebo_contrasts(
    dates: Sequence[date],
    values: FloatArray,
    *,
    length_days: int,
    baseline: tuple[date, date],
    min_n: int,
) -> tuple[FloatArray, list[date], int]:
    """Contrast of every placebo window of ``length_days`` in the baseline with its other years.

    Args:
        dates: clear-scene dates (any; those outside the baseline are ignored).
        values: the metric per scene.
        length_days: days in a window (both ends inclusive).
        baseline: the baseline period; placebo windows and their references lie in it.
        min_n: fewest clear scenes in a placebo window and in its reference.

    Returns:
        The contrasts (:func:`contrast`) of the placebo windows that could be tested, their
        start dates, and how many could not.
    """
    inside = np.array([baseline[0] <= d <= baseline[1] for d in dates], dtype=bool)
    days = np.array([d.toordinal() for d in dates], dtype=np.int64)[inside]
    keys = np.array([calendar_key(d) for d in dates], dtype=np.int64)[inside]
    vals = values[inside]
    starts = []
    day = baseline[0]
    while day + timedelta(days=length_days - 1) <= baseline[1]:
        starts.append(day)
        day += timedelta(days=SCAN_STEP_DAYS)
    if not starts or length_days >= 365:
        return np.empty(0), [], len(starts)
    first = np.array([s.toordinal() for s in starts], dtype=np.int64)[:, np.newaxis]
    in_window = (days >= first) & (days <= first + length_days - 1)
    first_key = np.array([calendar_key(s) for s in starts], dtype=np.int64)
    last_key = np.array(
        [calendar_key(s + timedelta(days=length_days - 1)) for s in starts], dtype=np.int64
    )
    same_days = np.stack(
        [in_calendar(keys, a, b) for a, b in zip(first_key, last_key, strict=True)]
    )
    reference = same_days & ~in_window
    n_w, n_r = in_window.sum(axis=1), reference.sum(axis=1)
    ok = (n_w >= min_n) & (n_r >= min_n)
    mean_w = (in_window * vals).sum(axis=1) / np.maximum(n_w, 1)
    mean_r = (reference * vals).sum(axis=1) / np.maximum(n_r, 1)
    var_r = (reference * (vals - mean_r[:, np.newaxis]) ** 2).sum(axis=1) / np.maximum(n_r - 1, 1)
    stats = contrast(mean_w, mean_r, var_r, n_w, n_r)[ok]
    kept = [s for s, keep in zip(starts, ok, strict=True) if keep]
    return stats, kept, int(np.count_nonzero(~ok))


def contrast(
    mean_w: FloatArray,
    mean_r: FloatArray,
    var_r: FloatArray,
    n_w: NDArray[np.int64],
    n_r: NDArray[np.int64],
) -> FloatArray:
    """Welch-like contrast of a window with its reference: the difference of means over its
    standard error, the reference's variance (at least its mean, as for counts) standing for
    both sides. Scaled by the numbers of clear scenes, so a window in the monsoon with few
    clear looks does not stand out for its noise alone."""
    scale = np.maximum(np.maximum(var_r, mean_r), 1e-9)
    out: FloatArray = (mean_w - mean_r) / np.sqrt(
        scale * (1.0 / np.maximum(n_w, 1) + 1.0 / np.maximum(n_r, 1))
    )
    return out


def window_scan(
    dates: Sequence[date],
    values: FloatArray,
    *,
    test: FloatArray,
    reference: FloatArray,
    baseline: tuple[date, date],
    length_days: int,
    min_n: int,
    direction: Direction,
) -> Scan:
    """Place the claim's window everywhere in the baseline and count those that stand out.

    Args:
        dates: clear-scene dates of the whole series.
        values: the metric per scene.
        test: the values in the claim's window.
        reference: the values of its season-matched baseline.
        baseline: the baseline period.
        length_days: days in the claim's window.
        min_n: fewest clear scenes in a placebo window and in its reference.
        direction: the claimed direction.
    """
    stats, starts, skipped = placebo_contrasts(
        dates, values, length_days=length_days, baseline=baseline, min_n=min_n
    )
    var_r = float(np.var(reference, ddof=1)) if reference.size > 1 else 0.0
    claim = contrast(
        np.array([test.mean() if test.size else 0.0]),
        np.array([reference.mean() if reference.size else 0.0]),
        np.array([var_r]),
        np.array([test.size]),
        np.array([reference.size]),
    )[0]
    if direction == "increase":
        exceed = int(np.count_nonzero(stats >= claim))
    else:
        exceed = int(np.count_nonzero(stats <= claim))
    return Scan(
        windows=int(stats.size),
        skipped=skipped,
        exceed=exceed,
        first=starts[0] if starts else None,
        last=starts[-1] if starts else None,
    )

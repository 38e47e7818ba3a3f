"""Resampling blocks of consecutive scenes, not scenes: for series whose looks are not independent.

A ship that stays twelve days is seen in two or three consecutive scenes; a busy season
fills a whole quarter. Resampling single scenes treats each look as new evidence and makes
intervals too narrow and p-values too small. Here every interval and p-value comes from
**blocks**: runs of consecutive clear scenes spanning :func:`block_length` days.

- :func:`autocorrelation_time` estimates how long the series remembers (the integrated
  autocorrelation time of the de-seasoned values, in days; for ships arriving at random and
  staying an exponential time it equals the mean stay).
- :func:`block_length` is twice that, never less than :data:`BLOCK_FLOOR_DAYS` (14 days:
  two weeks is a long stay for a cargo ship at Rajin, and a block must span at least two
  revisits so that consecutive looks stay together).
- :func:`effective_n` is the number of independent looks the scenes are worth.
- :func:`block_bootstrap_means` is a moving-block bootstrap of a side's mean;
  :func:`block_permutation_p` a permutation test that swaps whole blocks between sides.

Pure numpy; every random draw comes from the caller's generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Direction = Literal["increase", "decrease"]

#: Shortest block, in days (module docstring).
BLOCK_FLOOR_DAYS: Final = 14.0
#: Block length in units of the autocorrelation time: a block twice the memory of the
#: series keeps most of the dependence inside blocks.
BLOCK_FACTOR: Final = 2.0
#: Longest lag (days) at which the autocorrelation is estimated.
MAX_LAG_DAYS: Final = 180.0
#: Width (days) of the lag bins of the autocorrelation (the Sentinel-2 revisit).
LAG_BIN_DAYS: Final = 5.0


@dataclass(frozen=True)
class Side:
    """One side of a comparison: clear-scene days, values and the runs they fall in."""

    days: FloatArray
    """Scene times in days (any origin), ascending within each run."""
    values: FloatArray
    """The metric per scene."""
    runs: IntArray
    """Run label per scene (e.g. the baseline year): a block never spans two runs."""
    sd: FloatArray | None = None
    """Per-scene measurement standard deviation, if known."""

    def __post_init__(self) -> None:
        if not self.days.shape == self.values.shape == self.runs.shape:
            raise ValueError("days, values and runs must have one entry per scene")

    @property
    def n(self) -> int:
        """Scenes on this side."""
        return int(self.values.size)


def autocorrelation_time(days: FloatArray, residuals: FloatArray) -> float:
    """Integrated autocorrelation time (days) of irregularly sampled ``residuals``.

    The autocorrelation is estimated in lag bins of :data:`LAG_BIN_DAYS` up to
    :data:`MAX_LAG_DAYS` from every pair of scenes, and summed over the bins until the
    first one at or below zero (the initial positive sequence). An exponential memory of
    ``d`` days gives about ``d``; independent scenes about 0.

    Args:
        days: scene times in days, ascending.
        residuals: values with their mean (and season) removed, one per day.
    """
    n = residuals.size
    variance = float(np.mean(residuals**2)) if n else 0.0
    if n < 3 or variance <= 0:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    lag = days[j] - days[i]
    keep = (lag > 0) & (lag <= MAX_LAG_DAYS)
    bins = np.ceil(lag[keep] / LAG_BIN_DAYS).astype(np.int64)
    products = residuals[i[keep]] * residuals[j[keep]]
    n_bins = int(MAX_LAG_DAYS / LAG_BIN_DAYS)
    sums = np.bincount(bins, weights=products, minlength=n_bins + 1)[1:]
    counts = np.bincount(bins, minlength=n_bins + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(counts > 0, sums / np.maximum(counts, 1) / variance, np.nan)
    total = 0.0
    for value in rho:
        if math.isnan(value):
            continue
        if value <= 0:
            break
        total += float(value) * LAG_BIN_DAYS
    return total


def block_length(tau_days: float) -> float:
    """Days per block: :data:`BLOCK_FACTOR` autocorrelation times, at least the floor."""
    return max(BLOCK_FLOOR_DAYS, BLOCK_FACTOR * tau_days)


def effective_n(days: FloatArray, tau_days: float) -> float:
    """Independent looks the scenes are worth: ``n^2 / sum_ij rho(|t_i - t_j|)``.

    With ``rho(k) = exp(-k / tau)``, the memory :func:`autocorrelation_time` measured.
    Equal to ``n`` for independent scenes (``tau = 0``).
    """
    n = days.size
    if n == 0 or tau_days <= 0:
        return float(n)
    rho = np.exp(-np.abs(days[:, np.newaxis] - days[np.newaxis, :]) / tau_days)
    return float(n * n / rho.sum())


def _block_totals(side: Side, length: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sum, count and summed variance of the moving block starting at each scene."""
    order = np.lexsort((side.days, side.runs))
    runs, days, values = side.runs[order], side.days[order], side.values[order]
    key = runs.astype(np.float64) * 1e7 + days
    stop = np.searchsorted(key, key + length, side="left")
    csum = np.concatenate([[0.0], np.cumsum(values)])
    start = np.arange(values.size)
    sums: FloatArray = csum[stop] - csum[start]
    counts = (stop - start).astype(np.float64)
    variances = np.zeros_like(sums)
    if side.sd is not None:
        cvar = np.concatenate([[0.0], np.cumsum(side.sd[order] ** 2)])
        variances = cvar[stop] - cvar[start]
    return sums, counts, variances


def blocks_per_resample(side: Side, length: float) -> int:
    """Blocks drawn per resample: as many as tile the days each run spans."""
    total = 0.0
    for run in np.unique(side.runs):
        days = side.days[side.runs == run]
        total += float(days.max() - days.min()) + LAG_BIN_DAYS
    return max(1, round(total / length))


def block_bootstrap_means(
    side: Side, *, length: float, n_boot: int, rng: np.random.Generator
) -> FloatArray:
    """Moving-block bootstrap of the side's mean per scene.

    Each resample draws :func:`blocks_per_resample` blocks (each the scenes of ``length``
    days from a random scene on, within its run) with replacement; its mean is their
    summed values over their summed scene counts. A per-scene measurement deviation adds
    normal noise with the drawn blocks' variance.

    Raises:
        ValueError: the side has no scene.
    """
    if side.n == 0:
        raise ValueError("a block bootstrap needs at least one scene")
    sums, counts, variances = _block_totals(side, length)
    k = blocks_per_resample(side, length)
    pick = rng.integers(0, side.n, size=(n_boot, k))
    total = counts[pick].sum(axis=1)
    means: FloatArray = sums[pick].sum(axis=1) / total
    if side.sd is not None:
        noise = np.sqrt(variances[pick].sum(axis=1)) / total
        means = np.maximum(means + noise * rng.standard_normal(n_boot), 0.0)
    return means


def tile_blocks(side: Side, length: float) -> tuple[FloatArray, FloatArray]:
    """Sum and count of each non-overlapping block of ``length`` days tiling each run."""
    sums: list[FloatArray] = []
    counts: list[FloatArray] = []
    for run in np.unique(side.runs):
        mine = side.runs == run
        days, values = side.days[mine], side.values[mine]
        index = np.floor((days - days.min()) / length).astype(np.int64)
        sums.append(np.bincount(index, weights=values).astype(np.float64))
        counts.append(np.bincount(index).astype(np.float64))
    s, c = np.concatenate(sums), np.concatenate(counts)
    filled = c > 0
    return s[filled], c[filled]


def block_permutation_p(
    baseline: Side,
    test: Side,
    *,
    length: float,
    direction: Direction,
    n_perm: int,
    rng: np.random.Generator,
) -> float:
    """One-sided p-value that the test side's mean is higher (lower), swapping whole blocks.

    Both sides are tiled into blocks of ``length`` days; under no change the blocks are
    exchangeable, so the test side's blocks are drawn again at random from all of them
    ``n_perm`` times. The statistic is the difference of means per scene (blocks weighted by
    their scenes). ``p = (1 + #{as extreme}) / (1 + n_perm)``.
    """
    if baseline.n == 0 or test.n == 0:
        return math.nan
    base_s, base_c = tile_blocks(baseline, length)
    test_s, test_c = tile_blocks(test, length)
    sums, counts = np.concatenate([test_s, base_s]), np.concatenate([test_c, base_c])
    k, total_s, total_c = test_s.size, sums.sum(), counts.sum()
    sign = 1.0 if direction == "increase" else -1.0

    def statistic(ts: FloatArray, tc: FloatArray) -> FloatArray:
        rest_c = np.maximum(total_c - tc, 1e-12)
        out: FloatArray = sign * (ts / np.maximum(tc, 1e-12) - (total_s - ts) / rest_c)
        return out

    observed = statistic(np.array([test_s.sum()]), np.array([test_c.sum()]))[0]
    if sums.size <= k:
        return 1.0
    order = np.argsort(rng.random((n_perm, sums.size)), axis=1)[:, :k]
    stats = statistic(sums[order].sum(axis=1), counts[order].sum(axis=1))
    return float((1 + np.count_nonzero(stats >= observed - 1e-12)) / (1 + n_perm))

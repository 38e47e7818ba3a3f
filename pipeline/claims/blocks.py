"""Resampling blocks of consecutive scenes, not scenes: for series whose looks are not independent.

A ship that stays twelve days is seen in two or three consecutive scenes; a busy season
fills a whole quarter. Resampling single scenes treats each look as new evidence and makes
intervals too narrow and p-values too small. Here every interval and p-value comes from
**blocks**: runs of consecutive clear scenes spanning :func:`block_length` days.

- :func:`autocorrelation_time` estimates how long the series remembers (the decay time of
  the autocorrelation of the de-seasoned values, in days; for ships arriving at random and
  staying an exponential time it equals the mean stay).
- :func:`block_length` is twice that, never less than :data:`BLOCK_FLOOR_DAYS` (14 days:
  two weeks is a long stay for a cargo ship at Rajin, and a block must span at least two
  revisits so that consecutive looks stay together).
- :func:`effective_n` is the number of independent looks the scenes are worth.
- :func:`block_bootstrap_means` is a moving-block bootstrap of a side's mean, its spread
  corrected for the dependence between blocks that resampling drops
  (:func:`block_variance_ratio`; without it a 95 % interval covered the truth in about 70 %
  of simulated series with 12-day stays, with it in about 85-92 %);
  :func:`block_permutation_p` a permutation test that swaps whole blocks between sides.
- :func:`log_t_interval` turns two sides' bootstrapped means into the interval of their
  ratio: symmetric on the log scale, its half-width a Student t quantile (Welch's degrees
  of freedom from each side's effective n) times the bootstrap's standard error. The
  percentile interval of the ratio covered a ratio of 1 in 80-86 % of simulated null series
  with stays (91 % without): few independent looks in a 120-day window make its tails too
  short, and the ratio's skew puts them on the wrong side. This one covers in 93-96 %.

Pure numpy; every random draw comes from the caller's generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

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
#: Autocorrelation below which a lag bin is noise and the exponential fit stops.
MIN_RHO: Final = 0.05
#: Longest memory credited (a year: beyond it a "memory" is a trend, not a stay).
MAX_MEMORY_DAYS: Final = 365.0


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
    """Memory (days) of irregularly sampled ``residuals``: the ``tau`` of ``exp(-lag / tau)``.

    The autocorrelation is estimated in lag bins of :data:`LAG_BIN_DAYS` up to
    :data:`MAX_LAG_DAYS` from every pair of scenes. Over the bins before the first at or
    below :data:`MIN_RHO`, ``log rho`` is fitted by a line in the lag (weighted by pairs):
    ``tau = -1 / slope``. The slope ignores a drop at lag 0 (independent detector noise on
    top of ships that stay), which would bias a plain sum of the autocorrelation low. With
    fewer than two such bins the memory is the plain sum (about 0 for independent scenes).
    When those bins show no decay but a later one is at or below :data:`MIN_RHO`, the memory
    is what falls from their level ``a`` to :data:`MIN_RHO` by that lag
    (``lag / ln(a / MIN_RHO)``): with a few dozen scenes the first bins are noisy, and a flat
    line through them would otherwise say "a year" of a series whose correlation is gone
    within weeks. Ships arriving at random and staying an exponential time of mean ``d``
    give ``d``.

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
    n_bins = int(MAX_LAG_DAYS / LAG_BIN_DAYS)
    sums = np.bincount(bins, weights=residuals[i[keep]] * residuals[j[keep]], minlength=n_bins + 1)
    lags = np.bincount(bins, weights=lag[keep], minlength=n_bins + 1)[1:]
    counts = np.bincount(bins, minlength=n_bins + 1)[1:]
    filled = counts > 0
    rho = sums[1:][filled] / counts[filled] / variance
    mean_lag, weight = lags[filled] / counts[filled], counts[filled].astype(np.float64)
    low = np.flatnonzero(rho <= MIN_RHO)
    used = int(low[0]) if low.size else rho.size
    if used < 2:
        return float(np.sum(rho[:used]) * LAG_BIN_DAYS)
    x, y, w = mean_lag[:used], np.log(rho[:used]), weight[:used]
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    slope = float(np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2))
    if slope < -1.0 / MAX_MEMORY_DAYS:
        return -1.0 / slope
    if not low.size:
        return MAX_MEMORY_DAYS
    # No decay through the first bins, yet the correlation is gone (at or below MIN_RHO) at a
    # later lag: few scenes made those bins noisy. The memory is what reaches MIN_RHO there
    # from the bins' level ``a``: ``a exp(-lag / tau) = MIN_RHO``.
    start = min(1.0, math.exp(ym))
    return float(mean_lag[used]) / math.log(max(start / MIN_RHO, math.e))


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


def block_variance_ratio(memory_days: float, length: float, spacing: float) -> float:
    """Share of the long-run variance of a mean that blocks of ``length`` days keep.

    Resampling blocks keeps the dependence inside a block and drops the rest (the block
    bootstrap's variance is biased low by about ``sum |k| gamma(k) / block``, Kunsch 1989).
    For scenes ``spacing`` days apart with correlation ``rho^j``, ``rho = exp(-spacing /
    memory)``, and ``m = length / spacing`` scenes per block, the share is
    ``(1 + 2 sum_{j<m} (1 - j/m) rho^j) / (1 + 2 rho / (1 - rho))``: 1 for independent
    scenes, about 0.6 for blocks of twice the memory.
    """
    if memory_days <= 0 or spacing <= 0:
        return 1.0
    rho = math.exp(-spacing / memory_days)
    if rho >= 1.0:
        return 1.0
    m = max(1.0, length / spacing)
    j = np.arange(1, math.ceil(m))
    within = 1.0 + 2.0 * float(np.sum((1.0 - j / m) * rho**j))
    return min(1.0, within / (1.0 + 2.0 * rho / (1.0 - rho)))


def block_bootstrap_means(
    side: Side,
    *,
    length: float,
    n_boot: int,
    rng: np.random.Generator,
    memory_days: float = 0.0,
) -> FloatArray:
    """Moving-block bootstrap of the side's mean per scene, its spread corrected.

    Each resample draws :func:`blocks_per_resample` blocks (each the scenes of ``length``
    days from a random scene on, within its run) with replacement; its mean is their
    summed values over their summed scene counts. The resampled means are then spread
    about the side's mean by ``sqrt(k / (k - 1) / R)``: ``k / (k - 1)`` for drawing ``k``
    blocks from ``k``, and ``R`` (:func:`block_variance_ratio`) for the dependence between
    blocks that resampling drops. A per-scene measurement deviation adds normal noise with
    the drawn blocks' variance. Means are kept at 0 or above.

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
    spacing = float(np.median(np.diff(np.sort(side.days)))) if side.n > 1 else 0.0
    spread = (k / (k - 1) if k > 1 else 1.0) / block_variance_ratio(memory_days, length, spacing)
    centre = float(side.values.mean())
    means = centre + math.sqrt(spread) * (means - centre)
    if side.sd is not None:
        noise = np.sqrt(variances[pick].sum(axis=1)) / total
        means = means + noise * rng.standard_normal(n_boot)
    out: FloatArray = np.maximum(means, 0.0)
    return out


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
    memory_days: float = 0.0,
) -> float:
    """One-sided p-value that the test side's mean is higher (lower), swapping whole blocks.

    Both sides are tiled into blocks of ``length`` days; under no change the blocks are
    exchangeable, so the test side's blocks are drawn again at random from all of them
    ``n_perm`` times. The statistic is the difference of means per scene (blocks weighted by
    their scenes). ``p = (1 + #{as extreme}) / (1 + n_perm)``.

    Blocks drawn at random are independent of each other, but neighbouring blocks of a
    series with ``memory_days`` of memory are not: a stay that spans two of the window's
    blocks lifts both. The permuted statistics are therefore spread about their mean by
    ``1 / sqrt(R)`` (:func:`block_variance_ratio`, the same correction as the bootstrap's);
    without it, 10 % of simulated null series with 30-day stays gave p < 0.05 on presence.
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
    days = np.concatenate([test.days, baseline.days])
    spacing = float(np.median(np.diff(np.sort(days)))) if days.size > 1 else 0.0
    ratio = block_variance_ratio(memory_days, length, spacing)
    if ratio < 1.0:
        centre = float(stats.mean())
        stats = centre + (stats - centre) / math.sqrt(ratio)
    return float((1 + np.count_nonzero(stats >= observed - 1e-12)) / (1 + n_perm))


#: Share of a side's bootstrapped means that may be 0 before its log spread is meaningless
#: (the interquartile range must lie on positive means).
MAX_ZERO_SHARE: Final = 0.2


def log_t_interval(
    boot_test: FloatArray,
    boot_base: FloatArray,
    *,
    means: tuple[float, float],
    n_effective: tuple[float, float],
    confidence: float,
) -> tuple[float, float] | None:
    """Interval of test mean over baseline mean: ``log ratio +- t * se``, back on the ratio scale.

    ``se`` combines each side's spread of the log of its bootstrapped means, measured
    robustly (interquartile range / 1.349, so a few resamples with no ships do not inflate
    it); ``t`` is the Student quantile with Welch-Satterthwaite degrees of freedom from each
    side's effective n (at least 0.5 each), so a window worth three independent looks gets
    the wide interval three looks deserve.

    Args:
        boot_test: bootstrapped means of the test side.
        boot_base: bootstrapped means of the baseline side.
        means: the observed test and baseline means.
        n_effective: each side's effective n (:func:`effective_n`), test first.
        confidence: two-sided coverage.

    Returns:
        ``(low, high)``, or None when a side's mean is 0 or more than
        :data:`MAX_ZERO_SHARE` of its bootstrapped means are (the log scale does not hold
        there; the caller keeps the percentile interval).
    """
    mean_t, mean_b = means
    if mean_t <= 0 or mean_b <= 0:
        return None
    spreads = []
    for boot in (boot_test, boot_base):
        if boot.size == 0 or np.mean(boot <= 0) > MAX_ZERO_SHARE:
            return None
        q1, q3 = np.quantile(np.log(np.maximum(boot, 1e-300)), [0.25, 0.75])
        spreads.append((float(q3 - q1) / 1.349) ** 2)
    v_t, v_b = spreads
    se = math.sqrt(v_t + v_b)
    if se == 0:
        return mean_t / mean_b, mean_t / mean_b
    df_t, df_b = (max(n - 1.0, 0.5) for n in n_effective)
    nu = (v_t + v_b) ** 2 / (v_t**2 / df_t + v_b**2 / df_b)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, nu)) * se
    centre = math.log(mean_t / mean_b)
    return float(np.exp(centre - half)), float(np.exp(centre + half))

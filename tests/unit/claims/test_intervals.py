"""Issue 15, point 1: the season-matched block interval covers the truth about 95 % of the time.

The percentile interval of the block-bootstrapped ratio covered a ratio of 1 in only 80-86 %
of SIMULATED null series with stays (too few independent looks in a 120-day window for its
tails, and the ratio's skew on the wrong side); ``log_t_interval`` is what rule 2.1 reports.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pipeline.bench.verdict_series import CLAIM, Condition, draw_series
from pipeline.claims.blocks import (
    block_bootstrap_means,
    block_length,
    block_permutation_p,
    log_t_interval,
)
from pipeline.claims.robust import _side, memory_days, robust_rate_ratio, series_onset
from pipeline.claims.seasons import in_ranges, matched_ranges, range_index
from pipeline.claims.series import Series
from pipeline.claims.stats import ratio_of_means


def test_log_t_interval_known_answers() -> None:
    """Log-normal bootstraps with known spreads: many looks give z * se, few give t * se."""
    rng = np.random.default_rng(0)
    boot_t = np.exp(math.log(3.0) + 0.2 * rng.standard_normal(20000))
    boot_b = np.exp(math.log(1.5) + 0.1 * rng.standard_normal(20000))
    se = math.hypot(0.2, 0.1)
    many = log_t_interval(boot_t, boot_b, means=(3.0, 1.5), n_effective=(1e6, 1e6), confidence=0.95)
    assert many is not None
    assert math.log(many[1] / 2.0) == pytest.approx(1.96 * se, rel=0.03)
    assert math.log(2.0 / many[0]) == pytest.approx(1.96 * se, rel=0.03)
    few = log_t_interval(boot_t, boot_b, means=(3.0, 1.5), n_effective=(4.0, 1e6), confidence=0.95)
    assert few is not None
    # Welch: the test side (variance 0.04 of 0.05) with 3 degrees of freedom dominates
    nu = 0.05**2 / (0.04**2 / 3.0)
    assert math.log(few[1] / 2.0) == pytest.approx(stats.t.ppf(0.975, nu) * se, rel=0.03)


def test_log_t_interval_leaves_empty_sides_to_the_percentile_interval() -> None:
    boot = np.full(100, 1.0)
    assert log_t_interval(boot, boot, means=(0.0, 1.0), n_effective=(5, 5), confidence=0.95) is None
    mostly_zero = np.r_[np.zeros(30), np.ones(70)]
    assert (
        log_t_interval(mostly_zero, boot, means=(1.0, 1.0), n_effective=(5, 5), confidence=0.95)
        is None
    )


@pytest.mark.slow  # ~2 s: 150 null series (make test runs it)
def test_season_matched_interval_covers_no_change_with_12_day_stays() -> None:
    """SIMULATED: 150 null series with 12-day stays and the season (the demo's sampling).
    Rule 2.1's interval holds 1 in 91 % of them (93 % at 300 series; at least 87 % asked,
    two standard errors below), the percentile interval of the same bootstrap in 83 %."""
    covered = percentile_covered = 0
    reps = 150
    for seed in range(reps):
        series = draw_series(Condition(12.0, 0.4, 1.0), seed)
        rng = np.random.default_rng([seed, 2])
        evidence = robust_rate_ratio(
            CLAIM, series, onset=series_onset(CLAIM, series), rng=rng, sensitivity=False
        )[2]
        primary = evidence.baselines[0]
        assert primary.ci_low is not None
        assert primary.ci_high is not None
        covered += primary.ci_low <= 1.0 <= primary.ci_high
        percentile_covered += _percentile_covers(series, seed)
    assert covered / reps >= 0.87
    assert percentile_covered / reps <= covered / reps - 0.04


def _percentile_covers(series: Series, seed: int) -> bool:
    """The interval rule 2 reported before: percentiles of the same block bootstrap."""
    tau = memory_days(series, CLAIM.baseline, series_onset(CLAIM, series))
    length = block_length(tau)
    ranges = matched_ranges(CLAIM.window, CLAIM.baseline)
    zeros = np.zeros(len(series.dates), dtype=np.int64)
    test = _side(series, series.between(*CLAIM.window), zeros)
    base = _side(series, in_ranges(series.dates, ranges), range_index(series.dates, ranges))
    rng = np.random.default_rng([seed, 2])
    boot_b, boot_t = (
        block_bootstrap_means(s, length=length, n_boot=2000, rng=rng, memory_days=tau)
        for s in (base, test)
    )
    low, high = np.quantile(ratio_of_means(boot_t, boot_b), [0.025, 0.975], method="inverted_cdf")
    return bool(low <= 1.0 <= high)


@pytest.mark.slow  # ~1 s: many null series (make test runs it)
def test_block_permutation_p_holds_its_level_with_stays() -> None:
    """SIMULATED: 150 null series with 12-day stays and the season. Blocks drawn at random
    forget that neighbouring blocks share stays: p < 0.05 in 16 of them (11 %; 9 % of 300).
    Spread for that dependence (rule 2.1), in 10 (7 %; 4 % of 300; 150 series leave a
    standard error of about 2 points)."""
    ranges = matched_ranges(CLAIM.window, CLAIM.baseline)
    plain = spread = 0
    reps = 150
    for seed in range(reps):
        series = draw_series(Condition(12.0, 0.4, 1.0), seed)
        tau = memory_days(series, CLAIM.baseline, series_onset(CLAIM, series))
        zeros = np.zeros(len(series.dates), dtype=np.int64)
        test = _side(series, series.between(*CLAIM.window), zeros)
        base = _side(series, in_ranges(series.dates, ranges), range_index(series.dates, ranges))
        for memory in (0.0, tau):
            p = block_permutation_p(
                base,
                test,
                length=block_length(tau),
                direction="increase",
                n_perm=1000,
                rng=np.random.default_rng(seed),
                memory_days=memory,
            )
            if memory:
                spread += p < 0.05
            else:
                plain += p < 0.05
    assert spread / reps <= 0.07
    assert plain / reps >= spread / reps + 0.03

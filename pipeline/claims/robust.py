"""The rate-ratio rule of issue 15: verdicts that hold when ships stay and seasons turn.

Rule version :data:`RULE_VERSION`. With margin M (default 1.25) and alpha (default 0.05):

1. **Season-matched.** The window is compared with the same calendar days of the baseline
   years (:func:`pipeline.claims.seasons.matched_ranges`). The full baseline and the 2019
   (pre-border-closure) baseline are computed too, as sensitivity lines; they never decide.
2. **Blocks, not scenes.** The block length is twice the baseline's memory (the decay time
   of its autocorrelation, season and change-point levels removed), at least 14 days
   (:mod:`pipeline.claims.blocks`). The 95 % interval of the ratio comes from a
   moving-block bootstrap of each side, its spread corrected for the dependence between
   blocks, as ``log ratio +- t * se`` with Welch's degrees of freedom from the effective
   n (:func:`pipeline.claims.blocks.log_t_interval`; rule 2.1); p is a block-permutation
   test, its permuted statistics spread for the dependence between neighbouring blocks
   (rule 2.1). The effective sample size is reported next to n.
3. **Window scan.** The contrast (difference of means over its standard error) of every
   same-length window of the baseline years with their other years gives the empirical
   false-alarm rate (:mod:`pipeline.claims.scan`).
4. **Onset.** The change point (long-run noise; the best single split when no change passes
   the penalty) must have a 95 % interval overlapping baseline end..window end. Where the
   series changed more than once in the claimed direction, the change checked is the latest
   one by the window's end, the one that set the level the window saw (rule 2.3; rule 2.2
   checked the most significant, so a world that rose in 2021 and again in August 2023 had
   its autumn-2023 claim judged by the 2021 step, "inside the baseline").

Verdicts:

- fewer than ``min_n`` clear scenes in the window or in the season-matched baseline →
  **inconclusive**;
- interval above M, block p < alpha, false-alarm rate < alpha from at least
  :data:`MIN_SCAN_WINDOWS` placebo windows, and the onset consistent → **supported**;
- interval below M → **contradicted**;
- otherwise → **inconclusive**, naming every condition that failed.

For a claimed decrease the rules mirror around 1/M.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.claims.blocks import (
    Side,
    autocorrelation_time,
    block_bootstrap_means,
    block_length,
    block_permutation_p,
    effective_n,
    log_t_interval,
)
from pipeline.claims.changepoint import Onset, detect_onset, single_change
from pipeline.claims.evidence import Baseline, Evidence, WindowSide
from pipeline.claims.parse import Claim
from pipeline.claims.scan import Scan, window_scan
from pipeline.claims.seasons import (
    PRE_CLOSURE_YEAR,
    Range,
    clear_per_month,
    deseasoned,
    in_ranges,
    matched_ranges,
    range_index,
    year_range,
)
from pipeline.claims.series import TRANSFORMS, Series
from pipeline.claims.stats import CONFIDENCE, N_BOOT, RatioEstimate, ratio_of_means
from pipeline.claims.verdict import VerdictLabel

FloatArray = NDArray[np.float64]
#: Version of the rules in this module; recorded with every verdict.
RULE_VERSION: Final = (
    "2.3 (issue 15: blocks, season-matched, window scan, onset; log-t interval, permutation "
    "spread; memory bounded where the correlation is gone; onset = latest change by the "
    "window's end)"
)
#: Block permutations for the p-value (its resolution is 1 / 2001).
N_PERM: Final = 2000
#: Fewest placebo windows for a false-alarm rate: at alpha 0.05 one window in twenty may
#: stand out by chance, so fewer than forty cannot tell chance from a change.
MIN_SCAN_WINDOWS: Final = 40


def _side(series: Series, mask: NDArray[np.bool_], runs: NDArray[np.int64]) -> Side:
    days = np.array([d.toordinal() for d, m in zip(series.dates, mask, strict=True) if m], float)
    return Side(
        days=days,
        values=series.values[mask],
        runs=runs[mask],
        sd=None if series.sd is None else series.sd[mask],
    )


def _baseline(
    name: str,
    ranges: tuple[Range, ...],
    series: Series,
    test: Side,
    *,
    tau: float,
    length: float,
    rng: np.random.Generator,
    n_boot: int,
) -> tuple[Baseline, Side]:
    mask = in_ranges(series.dates, ranges)
    side = _side(series, mask, range_index(series.dates, ranges))
    per_month = tuple(clear_per_month(series.dates, ranges, since=_first(series)).items())
    if side.n == 0 or test.n == 0:
        return Baseline(
            name, ranges, side.n, float(side.n), None, None, None, None, per_month
        ), side
    boot_b, boot_t = (
        block_bootstrap_means(s, length=length, n_boot=n_boot, rng=rng, memory_days=tau)
        for s in (side, test)
    )
    mean_b, mean_t = float(side.values.mean()), float(test.values.mean())
    n_eff = effective_n(side.days, tau)
    interval = log_t_interval(
        boot_t,
        boot_b,
        means=(mean_t, mean_b),
        n_effective=(effective_n(test.days, tau), n_eff),
        confidence=CONFIDENCE,
    )
    if interval is None:  # a side without ships: the percentile interval keeps the infinities
        tail = (1.0 - CONFIDENCE) / 2.0
        ends = ratio_of_means(boot_t, boot_b)
        q = np.quantile(ends, [tail, 1 - tail], method="inverted_cdf")
        interval = (float(q[0]), float(q[1]))
    low, high = interval
    ratio = float(ratio_of_means(np.array([mean_t]), np.array([mean_b]))[0])
    baseline = Baseline(
        name,
        ranges,
        side.n,
        n_eff,
        mean_b,
        math.nan if mean_b == 0 and mean_t == 0 else ratio,
        float(low),
        float(high),
        per_month,
    )
    return baseline, side


def series_onset(claim: Claim, series: Series) -> Onset:
    """The change point of the whole series, the noise allowing for autocorrelation: the
    latest change in the claimed direction by the window's end (the one that set the level
    the window saw; rule 2.3), else the most significant."""
    return detect_onset(
        series.dates,
        series.values,
        direction=claim.direction,
        transform=TRANSFORMS[claim.metric],
        autocorrelated=True,
        by=claim.window[1],
    )


def timing_onset(claim: Claim, series: Series, onset: Onset) -> Onset:
    """The onset the timing rule checks: the change point, else the best single split."""
    if onset.date is not None:
        return onset
    return single_change(
        series.dates, series.values, direction=claim.direction, transform=TRANSFORMS[claim.metric]
    )


def memory_days(series: Series, baseline: Range, onset: Onset) -> float:
    """Autocorrelation time (days) of the baseline series, its season and the levels of the
    change-point segments removed (a step is a change, not a memory)."""
    levels = np.zeros(len(series.dates))
    for first, last, mean in onset.segments:
        levels[series.between(first, last)] = mean
    mask = series.between(*baseline)
    dates = [d for d, m in zip(series.dates, mask, strict=True) if m]
    days = np.array([d.toordinal() for d in dates], dtype=np.float64)
    return autocorrelation_time(days, deseasoned(dates, (series.values - levels)[mask]))


def robust_rate_ratio(
    claim: Claim,
    series: Series,
    *,
    onset: Onset,
    rng: np.random.Generator,
    sensitivity: bool = True,
    n_boot: int = N_BOOT,
) -> tuple[VerdictLabel, str, Evidence, RatioEstimate | None, float]:
    """Apply the rule (module docstring) to one claim's clear-scene series.

    Args:
        claim: the claim (windows, margin, alpha, direction, min_n).
        series: its clear-scene series.
        onset: the change point of the whole series (:func:`series_onset`).
        rng: seeded generator.
        sensitivity: also compute the full and 2019 baselines (they never decide).
        n_boot: bootstrap resamples.

    Returns:
        Verdict, reason, the evidence, the season-matched ratio estimate and block p.
    """
    tau = memory_days(series, claim.baseline, onset)
    length = block_length(tau)
    test_mask = series.between(*claim.window)
    test = _side(series, test_mask, np.zeros(len(series.dates), dtype=np.int64))
    window = WindowSide(
        claim.window,
        test.n,
        effective_n(test.days, tau),
        tuple(clear_per_month(series.dates, (claim.window,), since=_first(series)).items()),
    )
    names: list[tuple[str, tuple[Range, ...]]] = [
        ("season-matched", matched_ranges(claim.window, claim.baseline))
    ]
    if sensitivity:
        names += [
            ("full", (claim.baseline,)),
            (str(PRE_CLOSURE_YEAR), year_range(PRE_CLOSURE_YEAR, claim.baseline)),
        ]
    baselines, sides = [], []
    for name, ranges in names:
        b, side = _baseline(
            name, ranges, series, test, tau=tau, length=length, rng=rng, n_boot=n_boot
        )
        baselines.append(b)
        sides.append(side)
    primary, base_side = baselines[0], sides[0]

    def evidence(p: float | None, scan: Scan | None, onset_ok: bool | None) -> Evidence:
        return Evidence(RULE_VERSION, window, tuple(baselines), tau, length, p, scan, onset_ok)

    few = claim.too_few(
        primary.n, test.n, base="on the window's calendar days in the baseline years"
    )
    if few is not None or primary.mean is None:
        return (
            "inconclusive",
            few or "no clear scenes to compare",
            evidence(None, None, None),
            None,
            math.nan,
        )
    estimate = RatioEstimate(
        primary.mean,
        float(test.values.mean()),
        math.nan if primary.ratio is None else primary.ratio,
        math.nan if primary.ci_low is None else primary.ci_low,
        math.nan if primary.ci_high is None else primary.ci_high,
    )
    p = block_permutation_p(
        base_side,
        test,
        length=length,
        direction=claim.direction,
        n_perm=N_PERM,
        rng=rng,
        memory_days=tau,
    )
    scan = window_scan(
        series.dates,
        series.values,
        test=test.values,
        reference=base_side.values,
        baseline=claim.baseline,
        length_days=(claim.window[1] - claim.window[0]).days + 1,
        min_n=claim.min_n,
        direction=claim.direction,
    )
    label, reason, onset_ok = decide(claim, estimate, p, scan, timing_onset(claim, series, onset))
    return label, reason, evidence(p, scan, onset_ok), estimate, p


def decide(
    claim: Claim,
    estimate: RatioEstimate,
    p: float,
    scan: Scan,
    timing: Onset,
) -> tuple[VerdictLabel, str, bool]:
    """The verdict from the season-matched interval, block p, the scan and the onset.

    Returns:
        The verdict, its reason (every condition that failed, when inconclusive) and
        whether the onset was consistent with the claim.
    """
    increase = claim.direction == "increase"
    margin = claim.margin if increase else 1.0 / claim.margin
    lo, hi = estimate.ci_low, estimate.ci_high
    shown = lo > margin if increase else hi < margin
    ruled_out = hi < margin if increase else lo > margin
    interval = f"season-matched 95% block interval of the ratio {_fmt(lo)}-{_fmt(hi)}"
    consistent = onset_consistent(timing, claim.baseline[1], claim.window[1])
    if ruled_out:
        side = "below" if increase else "above"
        reason = f"{interval} lies {side} {margin:.2f}: no {claim.direction} of a meaningful size"
        return "contradicted", reason, consistent
    rate = scan.false_alarm_rate
    scan_text = (
        f"{scan.exceed} of {scan.windows} baseline windows reach it (false-alarm rate {rate:.0%})"
        if scan.windows
        else "no baseline window could be tested"
    )
    failed = []
    if not shown:
        failed.append(f"{interval} straddles {margin:.2f}")
    if not p < claim.alpha:
        failed.append(f"block-permutation p = {p:.2g} >= {claim.alpha}")
    if scan.windows < MIN_SCAN_WINDOWS:
        failed.append(
            f"the window scan needs {MIN_SCAN_WINDOWS} testable baseline windows, "
            f"found {scan.windows}"
        )
    elif not rate < claim.alpha:
        failed.append(f"the window does not stand out: {scan_text}")
    if not consistent:
        failed.append(_timing_text(claim, timing))
    if failed:
        return "inconclusive", "; ".join(failed), consistent
    side = "above" if increase else "below"
    return (
        "supported",
        (
            f"{interval} lies {side} {margin:.2f}, block-permutation p = {p:.2g} < "
            f"{claim.alpha}, {scan_text}, change point {_day(timing.date)} "
            f"(95% {_day(timing.low)} to {_day(timing.high)})"
        ),
        consistent,
    )


def _timing_text(claim: Claim, onset: Onset) -> str:
    where = "after the test window"
    if onset.date is None:
        where = "nowhere: no change point"
    elif onset.high is not None and onset.high < claim.baseline[1]:
        where = "inside the baseline"
    return (
        f"the {claim.direction} began around {_day(onset.date)} (95% {_day(onset.low)} to "
        f"{_day(onset.high)}), {where}, not between {claim.baseline[1]} and "
        f"{claim.window[1]}: not a change in the test window"
    )


def onset_consistent(onset: Onset, baseline_end: date, window_end: date) -> bool:
    """Whether the onset's 95 % interval overlaps ``baseline_end..window_end``."""
    if onset.low is None or onset.high is None:
        return False
    return onset.low <= window_end and onset.high >= baseline_end


def _first(series: Series) -> date | None:
    return series.dates[0] if series.dates else None


def _fmt(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.2f}"


def _day(value: date | None) -> str:
    return "?" if value is None else value.isoformat()

"""Rule 1, the rate-ratio rule before issue 15, kept to be measured against rule 2.

``rasonwatch bench verdicts`` runs it beside :mod:`pipeline.claims.robust` on the same
simulated series; ``evaluate`` no longer uses it. It treats every clear scene as an
independent draw: a bootstrap over scenes, a one-sided Mann-Whitney p, the whole baseline
against the window. With margin M (default 1.25) and alpha (0.05):

1. fewer than ``min_n`` clear scenes on either side → **inconclusive**;
2. the 95 % bootstrap interval above M and p < alpha → **supported**, unless the
   change point's whole 95 % interval lies before the baseline ends → **inconclusive**;
3. the interval below M → **contradicted**;
4. otherwise → **inconclusive**.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Final

import numpy as np

from pipeline.claims.changepoint import Onset
from pipeline.claims.parse import Claim
from pipeline.claims.series import FloatArray, Series
from pipeline.claims.stats import N_BOOT, RatioEstimate, bootstrap_ratio, rank_p_value
from pipeline.claims.verdict import VerdictLabel

#: The version recorded for this rule.
RULE_VERSION: Final = "1 (scenes as independent draws)"


def legacy_rate_ratio(
    claim: Claim,
    series: Series,
    *,
    onset_of: Callable[[], Onset],
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
) -> tuple[VerdictLabel, str]:
    """Rule 1 on a clear-scene series; ``onset_of`` is called only when rule 2 needs it."""
    base, test, estimate = scene_ratio(claim, series, rng=rng, n_boot=n_boot)
    p_value = rank_p_value(base, test, direction=claim.direction)
    return rate_ratio_rule(claim, estimate, p_value, base.size, test.size, onset_of)


def scene_ratio(
    claim: Claim, series: Series, *, rng: np.random.Generator, n_boot: int = N_BOOT
) -> tuple[FloatArray, FloatArray, RatioEstimate | None]:
    """The baseline's and the window's values, and their ratio bootstrapped over scenes as
    independent draws (None when a side is empty)."""
    base_mask, test_mask = series.between(*claim.baseline), series.between(*claim.window)
    base, test = series.values[base_mask], series.values[test_mask]
    if not (base.size and test.size):
        return base, test, None
    estimate = bootstrap_ratio(
        base,
        test,
        rng=rng,
        baseline_sd=None if series.sd is None else series.sd[base_mask],
        test_sd=None if series.sd is None else series.sd[test_mask],
        n_boot=n_boot,
    )
    return base, test, estimate


def rate_ratio_rule(
    claim: Claim,
    estimate: RatioEstimate | None,
    p_value: float,
    n_base: int,
    n_test: int,
    onset_of: Callable[[], Onset],
) -> tuple[VerdictLabel, str]:
    """Apply the rate-ratio rules (module docstring) and say which one decided."""
    few = claim.too_few(n_base, n_test)
    if few is not None or estimate is None:
        return "inconclusive", few or "no clear scenes to compare"
    lo, hi = estimate.ci_low, estimate.ci_high
    increase = claim.direction == "increase"
    margin = claim.margin if increase else 1.0 / claim.margin
    shown = lo > margin if increase else hi < margin
    ruled_out = hi < margin if increase else lo > margin
    interval = f"95% interval of the ratio {_fmt(lo)}-{_fmt(hi)}"
    if shown and p_value < claim.alpha:
        onset = onset_of()
        if onset.high is not None and onset.high < claim.baseline[1]:
            return "inconclusive", (
                f"the {claim.direction} is real ({interval}) but began around "
                f"{_day(onset.date)} (95% by {_day(onset.high)}), inside the baseline: "
                "not a change in the test window"
            )
        return "supported", (
            f"{interval} lies {'above' if increase else 'below'} {margin:.2f} "
            f"and one-sided p = {p_value:.2g} < {claim.alpha}"
        )
    if ruled_out:
        return "contradicted", (
            f"{interval} lies {'below' if increase else 'above'} {margin:.2f}: "
            f"no {claim.direction} of a meaningful size"
        )
    if shown:
        return "inconclusive", f"{interval}, but one-sided p = {p_value:.2g} >= {claim.alpha}"
    return "inconclusive", f"{interval} straddles {margin:.2f}"


def _fmt(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.2f}"


def _day(value: date | None) -> str:
    return "?" if value is None else value.isoformat()

"""The packaged demo gives rule 2 what it needs: the claims' whole baseline, and a window scan.

Issue 15 asks that the demo's verdicts follow its truth. Rule 2 supports a spike only when the
window stands out against :data:`~pipeline.claims.robust.MIN_SCAN_WINDOWS` placebo windows of
the baseline, each compared with the same calendar days of the other baseline years. The
16-month demo of issue 13 (2022-09..2023-12) had none, so it could never say "supported".
The clear looks below are drawn from the demo's clouds by month; scenes only partly clear
fall below a claim's ``min_clear_fraction`` and make real series thinner, so passing here is
necessary for the demo's verdicts to follow its truth, not sufficient (an archive from
2021-06 passes here, yet its port series scanned no window).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from pipeline.claims.evaluate import DEFAULT_CLAIMS
from pipeline.claims.parse import Claim, load_claims
from pipeline.claims.robust import MIN_SCAN_WINDOWS
from pipeline.claims.scan import placebo_contrasts
from pipeline.run.simulated_archive import demo_scenario_path
from pipeline.simulate import Scenario, load_scenario


def _spike_claims() -> list[Claim]:
    return [c for c in load_claims(DEFAULT_CLAIMS) if c.test == "rate-ratio"]


def _clear_dates(demo: Scenario, *, seed: int) -> list[date]:
    """One draw of the demo's clear looks: its clouds by month, and no port look while the
    basin is frozen (such scenes are low-confidence and left out of every series)."""
    clouds = demo.world.cloud_probability_by_month
    assert clouds is not None
    rng = np.random.default_rng(seed)
    frozen = set(demo.world.sea_ice_months)
    return [d for d in demo.dates if d.month not in frozen and rng.random() >= clouds[d.month - 1]]


def test_the_demo_spans_every_spike_claims_baseline_and_window() -> None:
    demo = load_scenario(demo_scenario_path())
    claims = _spike_claims()
    assert claims
    for claim in claims:
        assert demo.start <= claim.baseline[0], claim.id
        assert demo.end >= claim.window[1], claim.id


def test_the_demo_sampling_leaves_the_window_scan_enough_placebo_windows() -> None:
    demo = load_scenario(demo_scenario_path())
    for claim in _spike_claims():
        length = (claim.window[1] - claim.window[0]).days + 1
        for seed in range(5):
            dates = _clear_dates(demo, seed=seed)
            contrasts, _, _ = placebo_contrasts(
                dates,
                np.ones(len(dates)),
                length_days=length,
                baseline=claim.baseline,
                min_n=claim.min_n,
            )
            assert contrasts.size >= MIN_SCAN_WINDOWS, (claim.id, seed, contrasts.size)

"""Issue 15, points 4-6 and the old rule against the new: onset, groups, pre-registration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from claims_fixtures import demo_like, fill_store, observations_of

from pipeline.bench.verdict_series import CLAIM, Condition, draw_series
from pipeline.claims.changepoint import Onset, detect_onset, long_run_variance
from pipeline.claims.evaluate import evaluate_store
from pipeline.claims.groups import joint_label
from pipeline.claims.legacy import legacy_rate_ratio
from pipeline.claims.parse import InvalidClaimsError, load_claims, parse_claims
from pipeline.claims.robust import RULE_VERSION, decide, onset_consistent
from pipeline.claims.rules import evaluate_claim, evaluate_claims
from pipeline.claims.scan import Scan
from pipeline.claims.stats import RatioEstimate

REPO = Path(__file__).resolve().parents[3]
D = date
GOOD_SCAN = Scan(windows=300, skipped=0, exceed=0, first=D(2019, 1, 1), last=D(2023, 3, 1))
STRONG = RatioEstimate(1.0, 3.0, 3.0, 2.0, 4.5)


def onset(low: date, high: date) -> Onset:
    return Onset(low, low, high, 1.0, 3.0)


# --- point 4: onset consistent with the claim ---------------------------------------------------
@pytest.mark.parametrize(
    ("low", "high", "consistent"),
    [
        (D(2023, 7, 20), D(2023, 8, 10), True),  # in the gap and the window
        (D(2023, 6, 1), D(2023, 6, 30), True),  # touches the baseline's end
        (D(2023, 11, 29), D(2023, 12, 20), True),  # touches the window's end
        (D(2023, 1, 1), D(2023, 3, 1), False),  # inside the baseline
        (D(2024, 1, 10), D(2024, 2, 20), False),  # after the claim was made
    ],
)
def test_onset_must_overlap_baseline_end_to_window_end(
    low: date, high: date, consistent: bool
) -> None:
    assert onset_consistent(onset(low, high), D(2023, 6, 30), D(2023, 11, 29)) is consistent


def test_a_rise_that_starts_in_2024_cannot_support_a_2023_claim() -> None:
    label, reason, ok = decide(
        CLAIM, STRONG, 0.001, GOOD_SCAN, onset(D(2024, 1, 10), D(2024, 2, 1))
    )
    assert (label, ok) == ("inconclusive", False)
    assert "after the test window" in reason
    label, _, ok = decide(CLAIM, STRONG, 0.001, GOOD_SCAN, onset(D(2023, 7, 20), D(2023, 8, 10)))
    assert (label, ok) == ("supported", True)


def test_no_change_point_at_all_is_not_a_consistent_onset() -> None:
    none = Onset(None, None, None, None, None)
    label, reason, _ = decide(CLAIM, STRONG, 0.001, GOOD_SCAN, none)
    assert label == "inconclusive"
    assert "no change point" in reason


def _two_rises(rng: np.random.Generator) -> tuple[list[date], np.ndarray]:
    """Poisson counts every 10 days (half the 5-day looks clear), 2019 to the window's end:
    0.3 until June 2021, 2.0 until 10 August 2023, then 4.5. Both steps are rises; the 2021
    one, with years of looks either side, has the larger t."""
    days = [D(2019, 1, 1) + (D(2019, 1, 11) - D(2019, 1, 1)) * i for i in range(180)]
    days = [d for d in days if d <= D(2023, 11, 29)]
    means = np.array(
        [0.3 if d < D(2021, 6, 1) else 2.0 if d < D(2023, 8, 10) else 4.5 for d in days]
    )
    return days, rng.poisson(means).astype(np.float64)


def test_the_onset_checked_is_the_latest_rise_by_the_windows_end() -> None:
    """Rule 2.3: a series that rose in 2021 and again in August 2023 is judged, for a claim
    about autumn 2023, by the second rise; the most significant one is the 2021 step."""
    days, values = _two_rises(np.random.default_rng(1))
    kw = {"direction": "increase", "transform": "anscombe", "autocorrelated": True}
    significant = detect_onset(days, values, **kw)  # type: ignore[arg-type]
    latest = detect_onset(days, values, by=D(2023, 11, 29), **kw)  # type: ignore[arg-type]
    assert significant.date is not None
    assert latest.date is not None
    assert significant.date < D(2022, 1, 1)  # the 2021 step: rule 2.2's onset
    assert D(2023, 6, 30) <= latest.date <= D(2023, 11, 29)
    assert onset_consistent(latest, D(2023, 6, 30), D(2023, 11, 29))
    assert not onset_consistent(significant, D(2023, 6, 30), D(2023, 11, 29))


def test_a_rise_after_the_windows_end_is_never_the_onset_checked() -> None:
    days, values = _two_rises(np.random.default_rng(1))
    kw = {"direction": "increase", "transform": "anscombe", "autocorrelated": True}
    early = detect_onset(days, values, by=D(2022, 12, 31), **kw)  # type: ignore[arg-type]
    assert early.date is not None
    assert early.date < D(2022, 1, 1)  # the 2023 rise lies after `by`


def test_long_run_variance_allows_for_autocorrelation() -> None:
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(4000)
    ar = np.empty_like(noise)
    ar[0] = noise[0]
    for i in range(1, ar.size):
        ar[i] = 0.8 * ar[i - 1] + 0.6 * noise[i]
    _, independent = long_run_variance(noise, [noise.size])
    _, remembering = long_run_variance(ar, [ar.size])
    assert independent == pytest.approx(1.0, abs=0.1)
    assert remembering == pytest.approx(9.0, rel=0.25)  # (1 + 0.8) / (1 - 0.8)


def test_change_points_in_stays_without_change_are_rarer_allowing_for_autocorrelation() -> None:
    plain = allowing = 0
    for seed in range(20):
        s = draw_series(Condition(30.0, 0.0, 1.0), seed)
        kw = {"direction": "increase", "transform": "anscombe"}
        plain += detect_onset(s.dates, s.values, **kw).date is not None  # type: ignore[arg-type]
        allowing += detect_onset(s.dates, s.values, autocorrelated=True, **kw).date is not None  # type: ignore[arg-type]
    assert allowing < plain
    assert allowing <= 4


# --- the old rule against the new on an autocorrelated null ------------------------------------
@pytest.mark.parametrize(
    "condition", [Condition(30.0, 0.4, 1.0), Condition(12.0, 0.4, 1.0)], ids=["30d", "12d"]
)
def test_old_rule_supports_a_null_with_stays_and_seasons_the_new_does_not(
    condition: Condition,
) -> None:
    """No change at all: ships stay (30 or 12 days) and traffic and clouds follow the seasons.
    Scene by scene the window looks like a spike; in blocks, season-matched, it does not."""
    seed = 59 if condition.dwell_days == 30 else 35
    s = draw_series(condition, seed)
    old, _ = legacy_rate_ratio(
        CLAIM,
        s,
        onset_of=lambda: detect_onset(
            s.dates, s.values, direction="increase", transform="anscombe"
        ),
        rng=np.random.default_rng(0),
    )
    new = evaluate_claim(CLAIM, observations_of(s.dates, list(s.values)))
    assert old == "supported"
    assert new.verdict != "supported", new.reason


# --- point 5: one sentence, two parts -------------------------------------------------------------
@pytest.mark.parametrize(
    ("parts", "joint"),
    [
        (("supported", "supported"), "supported"),
        (("supported", "inconclusive"), "inconclusive"),
        (("supported", "contradicted"), "contradicted"),
        (("inconclusive", "inconclusive"), "inconclusive"),
    ],
)
def test_joint_verdict_needs_every_part(parts: tuple[str, str], joint: str) -> None:
    assert joint_label(parts) == joint  # type: ignore[arg-type]


def test_seed_claims_group_the_port_and_the_rail() -> None:
    claims = {c.id: c for c in load_claims(REPO / "seeds" / "claims.toml")}
    assert claims["port-spike-2023"].group == claims["rail-spike-2023"].group is not None
    assert claims["port-first-ships-since-2018"].group is None


def test_evaluate_adds_the_joint_verdict_to_each_part() -> None:
    claims = load_claims(REPO / "seeds" / "claims.toml")
    verdicts = {v.claim: v for v in evaluate_claims(claims, demo_like())}
    port, rail = verdicts["port-spike-2023"], verdicts["rail-spike-2023"]
    assert port.group == rail.group == "port-and-rail-spike-2023"
    assert port.group_verdict == rail.group_verdict == joint_label([port.verdict, rail.verdict])
    assert verdicts["port-first-ships-since-2018"].group_verdict is None
    parts = replace(claims[1], margin=50.0)  # the rail part can no longer be supported
    second = {v.claim: v for v in evaluate_claims((claims[0], parts), demo_like())}
    assert second["rail-spike-2023"].verdict != "supported"
    assert second["port-spike-2023"].group_verdict != "supported"


def test_group_must_be_an_id() -> None:
    text = "[claims.x]\nquote='q'\nsource='s'\naoi='rajin-port'\nmetric='ships'\ngroup='A B'\n"
    with pytest.raises(InvalidClaimsError, match="group must match"):
        parse_claims(text)


# --- point 6: reproducible and pre-registered ---------------------------------------------------
def test_each_verdict_records_hash_windows_reference_period_and_rule(tmp_path: Path) -> None:
    db = fill_store(tmp_path / "rasonwatch.sqlite", demo_like())
    claims = tmp_path / "claims.toml"
    claims.write_bytes((REPO / "seeds" / "claims.toml").read_bytes())
    result = evaluate_store(db, claims)
    digest = hashlib.sha256(claims.read_bytes()).hexdigest()
    for verdict in result.verdicts:
        doc = json.loads(json.dumps(verdict.to_json()))
        reg = doc["registration"]
        assert reg["claims_sha256"] == digest
        assert reg["reference_period"] == ["2019-01-01", "2023-06-30"]
        assert reg["window"] == ["2023-08-01", "2023-11-29"]
        assert reg["season_matched"][0] == ["2019-08-01", "2019-11-29"]
        assert reg["rule_version"]
    port = result.verdicts[0].to_json()
    assert port["registration"]["rule_version"] == RULE_VERSION
    assert [b["name"] for b in port["rule"]["baselines"]] == ["season-matched", "full", "2019"]
    assert port["n_baseline_effective"] <= port["n_baseline"]
    assert port["false_alarm_rate"] is not None
    claims.write_bytes(claims.read_bytes() + b"\n# edited\n")
    again = evaluate_store(db, claims).verdicts[0].registration
    assert again is not None
    assert again.claims_sha256 != digest

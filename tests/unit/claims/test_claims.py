"""Claims → verdicts on scenario-shaped series, onset dates, and the claims file format."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from claims_fixtures import series

from pipeline.claims.changepoint import detect_onset
from pipeline.claims.parse import Claim, InvalidClaimsError, load_claims, parse_claims
from pipeline.claims.rules import evaluate_claim
from pipeline.claims.stats import bootstrap_ratio, proportion, ratio_of_means
from pipeline.claims.verdict import CONTRACT_FIELDS
from pipeline.types import Observation

REPO = Path(__file__).resolve().parents[3]
D = date
PORT = Claim(id="port", quote="q", source="s", aoi="rajin-port", metric="ships")
RAIL = Claim(id="rail", quote="q", source="s", aoi="tumangang-rail", metric="railcar_equivalents")
FIRST = Claim(id="first", quote="q", source="s", aoi="rajin-port", metric="ships", test="presence")
SEEDS = (1, 2, 3)
#: How far an onset may lie from the true change: a few revisits, clouds included.
ONSET_TOLERANCE_DAYS = 30


def ships(levels: list[tuple[date, float]], **kw: object) -> list[Observation]:
    return series(levels, **kw)  # type: ignore[arg-type]


def rail(levels: list[tuple[date, float]], **kw: object) -> list[Observation]:
    return series(levels, aoi="tumangang-rail", metric="railcar_equivalents", **kw)  # type: ignore[arg-type]


def assert_onset_near(onset: date | None, low: date | None, high: date | None, truth: date) -> None:
    assert onset is not None, "no onset found"
    assert abs((onset - truth).days) <= ONSET_TOLERANCE_DAYS, onset
    assert low is not None
    assert high is not None
    assert low <= truth <= high, (low, high)


# --- verdicts -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_port_spike_inside_window_is_supported(seed: int) -> None:
    v = evaluate_claim(PORT, ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=seed))
    assert v.verdict == "supported", v.reason
    assert v.ci_low is not None
    assert v.ci_low > PORT.margin
    assert v.p_value is not None
    assert v.p_value < 0.05
    assert v.n_baseline >= PORT.min_n
    assert v.n_test >= PORT.min_n
    assert_onset_near(v.onset, v.onset_low, v.onset_high, D(2023, 8, 1))


@pytest.mark.parametrize("seed", SEEDS)
def test_rail_spike_inside_window_is_supported(seed: int) -> None:
    v = evaluate_claim(RAIL, rail([(D(2021, 1, 1), 10.0), (D(2023, 9, 15), 70.0)], seed=seed))
    assert v.verdict == "supported", v.reason
    assert_onset_near(v.onset, v.onset_low, v.onset_high, D(2023, 9, 15))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("claim", [PORT, RAIL], ids=["ships", "railcars"])
def test_flat_activity_is_never_supported(claim: Claim, seed: int) -> None:
    level = 0.5 if claim.metric == "ships" else 10.0
    obs = series([(D(2021, 1, 1), level)], aoi=claim.aoi, metric=claim.metric, seed=seed)
    v = evaluate_claim(claim, obs)
    assert v.verdict != "supported", v.reason
    assert v.onset is None, v.onset  # no change point in flat data


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("levels", "truth"),
    [
        # a spike in 2022 that went away again
        ([(D(2021, 1, 1), 0.5), (D(2022, 3, 1), 4.0), (D(2022, 7, 1), 0.5)], D(2022, 3, 1)),
        # a spike only after the claim's window
        ([(D(2021, 1, 1), 0.5), (D(2024, 1, 1), 4.0)], D(2024, 1, 1)),
        # a rise early in 2023 that lasted into the window: old, not a recent spike
        ([(D(2021, 1, 1), 0.5), (D(2023, 1, 1), 4.0)], D(2023, 1, 1)),
    ],
    ids=["transient-2022", "after-window", "rise-in-baseline"],
)
def test_spike_outside_window_is_never_supported(
    levels: list[tuple[date, float]], truth: date, seed: int
) -> None:
    v = evaluate_claim(PORT, ships(levels, seed=seed))
    assert v.verdict != "supported", v.reason
    assert_onset_near(v.onset, v.onset_low, v.onset_high, truth)


def test_rise_inside_baseline_names_the_timing_rule() -> None:
    v = evaluate_claim(PORT, ships([(D(2021, 1, 1), 0.5), (D(2023, 1, 1), 4.0)], seed=1))
    assert v.verdict == "inconclusive"
    assert v.ci_low is not None
    assert v.ci_low > PORT.margin
    assert "inside the baseline" in v.reason


@pytest.mark.parametrize("seed", SEEDS)
def test_mostly_cloudy_archive_is_inconclusive(seed: int) -> None:
    obs = ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=seed, cloud_probability=0.95)
    v = evaluate_claim(PORT, obs)
    assert v.verdict == "inconclusive"
    assert "too few clear scenes" in v.reason
    assert v.n_test < PORT.min_n


@pytest.mark.parametrize("seed", range(5))
def test_small_spike_is_never_supported(seed: int) -> None:
    """+10 % is below the 1.25 margin. With ~15 test scenes the interval usually straddles
    1.25 (inconclusive); a low draw can put it wholly below (contradicted). Never supported."""
    v = evaluate_claim(PORT, ships([(D(2021, 1, 1), 2.0), (D(2023, 8, 1), 2.2)], seed=seed))
    assert v.ci_low is not None
    assert v.ci_high is not None
    expected = "contradicted" if v.ci_high < PORT.margin else "inconclusive"
    assert v.verdict == expected, v.reason


def test_small_spike_usually_straddles() -> None:
    v = evaluate_claim(PORT, ships([(D(2021, 1, 1), 2.0), (D(2023, 8, 1), 2.2)], seed=1))
    assert v.verdict == "inconclusive"
    assert "straddles 1.25" in v.reason


def test_tight_interval_below_margin_is_contradicted() -> None:
    """Years of cloud-free looks every other day at flat activity rule out a 25 % rise."""
    obs = ships([(D(2021, 1, 1), 3.0)], revisit_days=2, cloud_probability=0.0)
    v = evaluate_claim(PORT, obs)
    assert v.verdict == "contradicted", v.reason
    assert v.ci_high is not None
    assert v.ci_high < PORT.margin


def test_decrease_rules_mirror() -> None:
    falling = replace(PORT, direction="decrease")
    v = evaluate_claim(falling, ships([(D(2021, 1, 1), 4.0), (D(2023, 8, 1), 0.5)], seed=2))
    assert v.verdict == "supported", v.reason
    assert v.ci_high is not None
    assert v.ci_high < 1 / PORT.margin
    assert_onset_near(v.onset, v.onset_low, v.onset_high, D(2023, 8, 1))
    rising = evaluate_claim(falling, ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=2))
    assert rising.verdict == "contradicted"


def test_cloudy_and_failed_scenes_are_left_out() -> None:
    obs = ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=1)
    # A cloudy scene with a huge count and a failed scene must not move anything.
    cloudy = replace(obs[0], scene_id="cloudy", clear_fraction=0.1, ships=500)
    failed = replace(obs[1], scene_id="failed", status="failed", error="boom", ships=None)
    base = evaluate_claim(PORT, obs)
    more = evaluate_claim(PORT, [*obs, cloudy, failed])
    assert (more.baseline_mean, more.n_baseline) == (base.baseline_mean, base.n_baseline)
    assert any("failed" in n for n in more.notes)


def test_low_confidence_scenes_are_left_out_and_counted() -> None:
    """A clear scene whose co-registration was unreliable moves nothing, and a note says so."""
    obs = ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=1)
    shaky = [
        replace(o, scene_id=f"shaky{i}", ships=60, clear_fraction=1.0, low_confidence="co-reg.")
        for i, o in enumerate(obs[:3])
    ]
    base = evaluate_claim(PORT, obs)
    more = evaluate_claim(PORT, [*obs, *shaky])
    assert (more.baseline_mean, more.n_baseline) == (base.baseline_mean, base.n_baseline)
    assert any("3 clear scenes left out as low confidence" in n for n in more.notes)


def test_a_zone_claim_is_tested_on_the_zone_alone() -> None:
    """A spike in the Tumangang yard under a flat total (Khasan emptied meanwhile)."""
    spike = rail([(D(2021, 1, 1), 10.0), (D(2023, 8, 1), 70.0)], seed=1)
    flat = rail([(D(2021, 1, 1), 60.0)], seed=1)
    zone_rows = [replace(o, zone="tumangang-yard") for o in spike]
    totals = [
        replace(o, scene_id=z.scene_id, datetime=z.datetime)
        for o, z in zip(flat, spike, strict=True)
    ]
    on_zone = replace(RAIL, zone="tumangang-yard")
    assert evaluate_claim(on_zone, [*totals, *zone_rows]).verdict == "supported"
    assert evaluate_claim(RAIL, [*totals, *zone_rows]).verdict != "supported"
    verdict = evaluate_claim(on_zone, [*totals, *zone_rows])
    assert any("tumangang-yard zone's own series" in n for n in verdict.notes)
    assert evaluate_claim(on_zone, totals).n_baseline == 0  # no zone rows: nothing to test


def test_zone_is_for_railcar_claims() -> None:
    with pytest.raises(InvalidClaimsError, match="zone is for railcar_equivalents"):
        replace(PORT, zone="harbour")
    text = (
        '[claims.r]\nquote = "q"\nsource = "s"\naoi = "tumangang-rail"\n'
        'metric = "railcar_equivalents"\nzone = "khasan-yard"\n'
    )
    (claim,) = parse_claims(text)
    assert claim.zone == "khasan-yard"


def test_verdicts_are_deterministic() -> None:
    obs = ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=4)
    assert evaluate_claim(PORT, obs) == evaluate_claim(PORT, obs)


def test_simulated_flag_follows_the_scenes() -> None:
    obs = ships([(D(2021, 1, 1), 0.5)], seed=1, simulated=False)
    assert evaluate_claim(PORT, obs).simulated is False
    assert evaluate_claim(PORT, [*obs[:-1], replace(obs[-1], simulated=True)]).simulated is True


# --- first time since ------------------------------------------------------------------------
def test_first_ships_since_supported_when_baseline_is_empty_and_covered() -> None:
    obs = ships([(D(2019, 1, 1), 0.0), (D(2023, 8, 1), 2.0)], start=D(2019, 1, 1), seed=1)
    v = evaluate_claim(FIRST, obs)
    assert v.verdict == "supported", v.reason
    assert v.presence_baseline is not None
    assert v.presence_baseline.k == 0
    # zero baseline: the ratio is unbounded, and JSON says null rather than Infinity
    assert v.ratio is not None
    assert math.isinf(v.ratio)
    out = v.to_json()
    assert out["ratio"] is None
    assert out["ci_high"] is None
    json.dumps(out, allow_nan=False)
    assert_onset_near(v.onset, v.onset_low, v.onset_high, D(2023, 8, 1))


def test_first_ships_since_inconclusive_when_archive_starts_late() -> None:
    """An archive from 2021 cannot show there were no ships in 2019-2020."""
    obs = ships([(D(2021, 1, 1), 0.0), (D(2023, 8, 1), 2.0)], seed=1)
    v = evaluate_claim(FIRST, obs)
    assert v.verdict == "inconclusive"
    assert "baseline's months" in v.reason
    assert any("first clear scene is 2021" in n for n in v.notes)


def test_first_ships_since_contradicted_when_ships_were_there_before() -> None:
    v = evaluate_claim(FIRST, ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=1))
    assert v.verdict == "contradicted", v.reason
    assert v.presence_baseline is not None
    assert v.presence_baseline.low > 0.10


# --- the statistics underneath ----------------------------------------------------------------
def test_ratio_of_means_zero_cases() -> None:
    out = ratio_of_means(np.array([2.0, 0.0, 0.0]), np.array([1.0, 0.0, 2.0]))
    assert out[0] == 2.0
    assert out[1] == 1.0
    assert out[2] == 0.0
    assert math.isinf(ratio_of_means(np.array([1.0]), np.array([0.0]))[0])


def test_bootstrap_interval_covers_the_true_ratio() -> None:
    rng = np.random.default_rng(0)
    base = rng.poisson(1.0, 200).astype(float)
    test = rng.poisson(3.0, 200).astype(float)
    est = bootstrap_ratio(base, test, rng=np.random.default_rng(1))
    assert est.ci_low < 3.0 < est.ci_high
    assert est.ci_low < est.ratio < est.ci_high


def test_proportion_interval() -> None:
    p = proportion(np.array([False] * 36))
    assert p.k == 0
    assert p.low == 0.0
    assert 0.09 < p.high < 0.1


def test_onset_of_a_long_series_is_placed_exactly() -> None:
    """Above EXACT_UP_TO scenes PELT searches a coarse grid; the onset is still exact."""
    days = [D(2015, 1, 1) + (D(2015, 1, 3) - D(2015, 1, 1)) * i for i in range(1001)]
    values = np.array([1.0] * 701 + [9.0] * 300) + np.tile([0.0, 0.5], 501)[:1001]
    onset = detect_onset(days, values, direction="increase", transform="log1p")
    assert onset.date == days[701]


def test_onset_of_a_clean_step() -> None:
    days = [D(2022, 1, 1) + (D(2022, 1, 6) - D(2022, 1, 1)) * i for i in range(60)]
    values = np.array([1.0] * 30 + [9.0] * 30) + np.tile([0.0, 0.5], 30)
    onset = detect_onset(days, values, direction="increase", transform="log1p")
    assert onset.date == days[30]
    assert onset.low is not None
    assert days[29] < onset.low <= days[30] == onset.high
    assert detect_onset(days, values, direction="decrease", transform="log1p").date is None


# --- the claims file ------------------------------------------------------------------------
def test_seed_claims_load_with_the_contract_ids() -> None:
    claims = load_claims(REPO / "seeds" / "claims.toml")
    ids = [c.id for c in claims]
    assert ids == ["port-spike-2023", "rail-spike-2023", "port-first-ships-since-2018"]
    for c in claims:
        assert c.window == (D(2023, 8, 1), D(2023, 11, 29))
        assert c.baseline == (D(2019, 1, 1), D(2023, 6, 30))
        assert c.quote
        assert c.source


GOOD = """
[claims.mine]
quote = "a quote"
source = "a source"
aoi = "rajin-port"
metric = "ships"
"""


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD + "colour = 'red'\n", "unknown key 'colour'"),
        (GOOD.replace('metric = "ships"', 'metric = "cars"'), "metric"),
        (GOOD.replace('aoi = "rajin-port"\n', ""), "missing key 'aoi'"),
        (GOOD + "window = [2023-08-01]\n", "window must be [start, end]"),
        (GOOD + "window = [2023-11-29, 2023-08-01]\n", "ends before it starts"),
        (GOOD + "baseline = [2019-01-01, 2023-09-01]\n", "before the test window"),
        (GOOD + "margin = 0.9\n", "margin"),
        (GOOD + "min_n = 'ten'\n", "min_n"),
        (GOOD.replace("[claims.mine]", "[claims.Bad_Id]"), "id must match"),
        ("title = 'x'\n" + GOOD, "unknown top-level key 'title'"),
        ("[claims\n", "not valid TOML"),
        ("", "no [claims.<id>] tables"),
    ],
)
def test_bad_claims_are_refused(text: str, needle: str) -> None:
    with pytest.raises(InvalidClaimsError) as info:
        parse_claims(text, where="test.toml")
    assert needle in str(info.value)


def test_defaults_fill_in() -> None:
    (claim,) = parse_claims(GOOD)
    assert claim.test == "rate-ratio"
    assert claim.direction == "increase"
    assert claim.window == (D(2023, 8, 1), D(2023, 11, 29))
    assert claim.margin == 1.25
    assert claim.min_n == 8


def test_missing_claims_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidClaimsError, match="cannot read claims file"):
        load_claims(tmp_path / "none.toml")


def test_json_has_the_contract_fields_first() -> None:
    v = evaluate_claim(PORT, ships([(D(2021, 1, 1), 0.5), (D(2023, 8, 1), 4.0)], seed=1))
    out = v.to_json()
    assert tuple(out)[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS
    assert out["onset"] == v.onset.isoformat() if v.onset else out["onset"] is None

"""End to end on a SIMULATED archive that reaches back before Level-2A (issue 17): simulate,
backfill through the flow, evaluate a visits claim. Each date is processed on its best
product, every row records its level, and Level-1C rows are counted after their
calibration to surface reflectance; a visits claim says that it joins both levels."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flow_helpers import rows

from pipeline.claims.evaluate import evaluate_store

pytestmark = pytest.mark.slow

SCENARIO = """
seed = 5
start = "2018-11-28"
end = "2018-12-31"
revisit_days = 3
cloud_probability = 0.0
[[aoi]]
id = "rajin-port"
activity = [ { from = "2018-11-28", ships = 3.0, dwell_days = 4, zone = "harbour" } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2018-11-28", railcars = 20 } ]
"""
CLAIMS = """
[claims.visits-test]
quote = "ships docking there for the first time"
source = "test"
aoi = "rajin-port"
metric = "ships"
test = "visits"
baseline = [2018-12-01, 2018-12-20]
window = [2018-12-21, 2018-12-31]
"""


@pytest.fixture(scope="module")
def store(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.flows import backfill_flow
    from pipeline.simulate import parse_scenario, write_archive

    tmp = tmp_path_factory.mktemp("levels")
    archive = tmp / "archive"
    write_archive(parse_scenario(SCENARIO, where="levels.toml"), archive)
    backfill_flow(
        start=date(2018, 11, 28),
        end=date(2018, 12, 31),
        source=str(archive),
        data_dir=str(tmp / "data"),
        batch_size=4,
        reference_period=(date(2018, 12, 1), date(2018, 12, 31)),
    )
    return tmp / "data" / "rasonwatch.sqlite"


def test_each_date_is_stored_once_on_its_best_product_with_its_level(store: Path) -> None:
    stored = rows(store, "SELECT aoi, scene_id, status, error, product_level FROM observations")
    days = {(aoi, sid.split("_")[2][:8]) for aoi, sid, *_ in stored}
    assert len(days) == len(stored) == 2 * 12  # 12 dates, 2 AOIs, one row each
    l1c = [r for r in stored if r[4] == "L1C"]
    assert {r[1] for r in l1c} == {"S2A_52TFM_20181128_0_L1C"}  # before Level-2A existed
    assert all(r[2] == "ok" for r in l1c)
    l2a = [r for r in stored if r[4] == "L2A"]
    assert all(r[1].endswith("_L2A") for r in l2a)
    assert sum(r[2] == "ok" for r in l2a) >= 18


def test_a_visits_claim_joins_both_levels_and_says_so(store: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_text(CLAIMS)
    (verdict,) = evaluate_store(store, claims).verdicts
    assert verdict.visits is not None
    assert "mixes product levels" not in verdict.reason
    assert any("joins product levels (1 L1C rows" in note for note in verdict.notes)
    assert verdict.simulated


def test_a_rate_claim_refuses_a_window_that_mixes_levels(store: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.toml"
    rate = CLAIMS.replace('test = "visits"', 'test = "rate-ratio"')
    claims.write_text(rate.replace("baseline = [2018-12-01", "baseline = [2018-11-28"))
    (mixed,) = evaluate_store(store, claims).verdicts
    assert "mixes product levels (1 L1C rows" in mixed.reason
    claims.write_text(rate)  # the Level-1C date lies outside baseline and window
    (alone,) = evaluate_store(store, claims).verdicts
    assert "mixes product levels" not in alone.reason

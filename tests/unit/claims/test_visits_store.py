"""The visits test through the store and the real AOI file's zones (SIMULATED world)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from visit_worlds import ALARM_DAYS, scenes, supported_world

from pipeline.claims.evaluate import evaluate_store
from pipeline.config import PROJECT_ROOT
from pipeline.store.results import Store


def test_the_seed_claim_reads_visits_from_the_store_in_the_aoi_harbour(tmp_path: Path) -> None:
    world = supported_world(
        start=date(2018, 7, 1), small_craft=True, anchorage_false_alarms=ALARM_DAYS
    )
    db = tmp_path / "rasonwatch.sqlite"
    with Store(db) as store:
        for s in scenes(world):
            store.write(s.observation, s.detections)
    result = evaluate_store(db, PROJECT_ROOT / "seeds" / "claims.toml")
    (v,) = [v for v in result.verdicts if v.claim == "port-first-ships-since-2018"]
    assert v.verdict == "supported", v.reason
    assert v.visits is not None
    assert v.visits.n_outside > 0
    assert v.visits.n_small > 0
    assert v.registration is not None
    assert v.registration.rule_version.startswith("visits")
    assert "last visit seen before 2019-01-01: 2018-" in v.reason

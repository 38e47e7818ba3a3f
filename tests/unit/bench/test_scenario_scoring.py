"""``bench sim --scenario`` scores a yard only where it was measured, as evaluate does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeline.bench.scenario_bench import _RailScores, add_rail_reading
from pipeline.detect.analyse import SceneAnalysis
from pipeline.types import Observation

WHEN = datetime(2023, 11, 18, 2, 16, tzinfo=UTC)
BASE = Observation(
    aoi="tumangang-rail",
    scene_id="S2A_1",
    datetime=WHEN,
    detector_version="v",
    source="local",
    clear_fraction=1.0,
    railcar_equivalents=90.0,
)


def _zone(name: str, cars: float, measured: float) -> Observation:
    return replace(BASE, zone=name, railcar_equivalents=cars, clear_fraction=measured)


def test_a_yard_under_snow_is_not_scored_as_an_empty_reading() -> None:
    scores = _RailScores()
    zones = (_zone("tumangang-yard", 0.0, 0.0), _zone("khasan-yard", 45.0, 1.0))
    analysis = SceneAnalysis(BASE, (), zones)
    add_rail_reading(scores, analysis, 90, {"tumangang-yard": 60.0, "khasan-yard": 30.0})
    assert scores.clear_scenes == 1
    assert dict(scores.zone_errors) == {"khasan-yard": [pytest.approx(0.5)]}
    assert scores.signed == [(11, 0.0)]


def test_an_empty_yard_measured_counts_for_its_month() -> None:
    scores = _RailScores()
    analysis = SceneAnalysis(BASE, (), (_zone("khasan-yard", 7.5, 0.95),))
    add_rail_reading(scores, analysis, 90, {"khasan-yard": 0.0})
    assert scores.empty_by_month[11] == [7.5]


def test_an_unmeasured_scene_is_not_a_clear_scene() -> None:
    scores = _RailScores()
    add_rail_reading(scores, SceneAnalysis(replace(BASE, clear_fraction=0.4), (), ()), 90, {})
    assert scores.clear_scenes == 0

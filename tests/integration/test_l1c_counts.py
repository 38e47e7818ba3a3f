"""Level-1C counted like Level-2A (issue 17): on SIMULATED dates that hold both levels of
one rendered scene, the calibrated Level-1C count follows the Level-2A count, and the
calibration is what makes it do so (top-of-atmosphere chips counted as they are do not)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import DEFAULT_AOI_DIR, Settings
from pipeline.detect.analyse import analyse_chip
from pipeline.detect.reference_looks import reference_from_chips
from pipeline.geo.aoi import load_aoi
from pipeline.read.chips import read_chip
from pipeline.simulate import parse_scenario, write_archive
from pipeline.sources.local import LocalSource
from pipeline.sources.normalise import normalise_item
from pipeline.types import Scene

pytestmark = pytest.mark.slow

#: Starts before 2018-12-01, so each date until 2019-03-01 has both levels.
SCENARIO = """
seed = 12
start = "2018-11-28"
end = "2018-12-31"
revisit_days = 3
cloud_probability = 0.0
haze = 0.3
[[aoi]]
id = "rajin-port"
activity = [ { from = "2018-11-25", ships = 3.0, dwell_days = 2 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2018-11-25", railcars = 20 } ]
"""


def test_level_1c_counts_follow_level_2a_on_the_same_scenes(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    write_archive(parse_scenario(SCENARIO, where="levels.toml"), archive)
    aoi, settings = load_aoi(DEFAULT_AOI_DIR / "rajin-port.geojson"), Settings()
    by_day: dict[str, dict[str, Scene]] = {}
    for item in LocalSource(archive).items():
        scene = normalise_item(item, source="local", allow_l1c=True)
        by_day.setdefault(scene.date_key, {})[scene.level] = scene
    pairs = {day: p for day, p in by_day.items() if set(p) == {"L1C", "L2A"}}
    assert len(pairs) >= 8
    surface = {day: read_chip(p["L2A"], aoi, settings=settings) for day, p in pairs.items()}
    reference = reference_from_chips(list(surface.values()), leave_out_snow=True)
    assert reference is not None
    calibrated, uncalibrated = [], []
    for day, pair in sorted(pairs.items()):
        toa = read_chip(pair["L1C"], aoi, settings=settings, allow_l1c=True)
        l2a = analyse_chip(surface[day], pair["L2A"], aoi, reference=reference).observation
        l1c = analyse_chip(toa, pair["L1C"], aoi, reference=reference).observation
        as_is = analyse_chip(toa, replace(pair["L1C"], level="L2A"), aoi, reference=reference)
        assert l1c.ships is not None
        assert l2a.ships is not None
        assert as_is.observation.ships is not None
        calibrated.append(abs(l1c.ships - l2a.ships))
        uncalibrated.append(abs(as_is.observation.ships - l2a.ships))
    assert float(np.mean(calibrated)) <= 1.0, calibrated
    assert float(np.mean(uncalibrated)) >= 2 * max(float(np.mean(calibrated)), 0.5), uncalibrated

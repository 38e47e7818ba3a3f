"""Issue 14, point 6: the AOI's railcar total is the sum of its yards, never below one of them.

Each yard's noise floor comes from its own track bed. One floor over both beds, which the
AOI total used to have, put a busy yard's spread into the quiet one's, and the total read
below the busy yard alone (SIMULATED 2019-2023 demo: 19 of the 111 scenes measured to 0.9).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from memory_scene import memory_scene

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.detect.analyse import analyse_chip, clear_pixels, scene_sun
from pipeline.detect.masks import clear_fraction
from pipeline.detect.rail import RailEstimate, sum_of_zones
from pipeline.detect.reference_looks import aoi_reference
from pipeline.geo.aoi import load_aois
from pipeline.simulate import parse_scenario, render_scene
from pipeline.simulate.grid import EPSG, aoi_mask, region
from pipeline.types import Aoi, Chip, Scene

AUTUMN = date(2023, 10, 6)


def _estimate(cars: float, low: float, high: float, measured: float) -> RailEstimate:
    return RailEstimate(cars * 14.0, cars, low, high, measured, shadow_width_m=2.0)


def test_sum_of_zones_adds_counts_and_interval_ends_and_weights_the_shares() -> None:
    total = sum_of_zones(
        [_estimate(10.0, 6.0, 14.0, 1.0), _estimate(50.0, 40.0, 61.0, 0.5)], [100, 300]
    )
    assert total.railcar_equivalents == 60.0
    assert total.occupied_track_m == 60.0 * 14.0
    assert (total.railcar_low, total.railcar_high) == (46.0, 75.0)
    assert total.measured_fraction == pytest.approx(0.25 * 1.0 + 0.75 * 0.5)
    assert total.shadow_width_m == pytest.approx(2.0)


def test_sum_of_zones_refuses_mismatched_weights() -> None:
    with pytest.raises(ValueError, match="2 zone estimates for 1 weights"):
        sum_of_zones([_estimate(1, 0, 2, 1), _estimate(1, 0, 2, 1)], [5])


def _scenario(khasan: int, tumangang: int, seed: int) -> str:
    return f"""
seed = {seed}
start = "{AUTUMN}"
end = "{AUTUMN}"
cloud_probability = 0.0
[[aoi]]
id = "rajin-port"
activity = [{{ from = "2021-01-01", ships = 0 }}]
[[aoi]]
id = "tumangang-rail"
activity = [
  {{ from = "2021-01-01", railcars = {tumangang}, dwell_days = 3, zone = "tumangang-yard" }},
  {{ from = "2021-01-01", railcars = {khasan}, dwell_days = 3, zone = "khasan-yard" }},
]
"""


def _chip(name: str, khasan: int, tumangang: int, seed: int) -> Chip:
    site = render_scene(parse_scenario(_scenario(khasan, tumangang, seed)), 0).sites[
        "tumangang-rail"
    ]
    scl = np.repeat(np.repeat(site.scl, 2, 0), 2, 1)
    reg = region("tumangang-rail")
    return Chip(
        name,
        "tumangang-rail",
        site.reflectance,
        scl,
        aoi_mask("tumangang-rail"),
        reg.transform,
        EPSG,
    )


def _scene(name: str) -> Scene:
    return memory_scene(name, datetime(AUTUMN.year, AUTUMN.month, AUTUMN.day, 2, 16, tzinfo=UTC))


@pytest.mark.slow
def test_the_aoi_total_is_the_sum_of_a_busy_and_a_quiet_yard() -> None:
    aoi: Aoi = next(a for a in load_aois(DEFAULT_AOI_DIR) if a.id == "tumangang-rail")
    renders = (_chip(f"ref{seed}", 0, 0, seed=seed) for seed in range(30, 60))
    looks = [c for c in renders if clear_fraction(clear_pixels(c), c.valid) >= 0.95][:6]
    assert len(looks) == 6
    scenes = [_scene(c.scene_id) for c in looks]
    assert scene_sun(scenes[0], aoi).elevation > 0
    reference = aoi_reference(aoi, looks, scenes)
    assert reference is not None
    busy = _chip("busy", khasan=90, tumangang=4, seed=7)
    analysis = analyse_chip(busy, _scene("busy"), aoi, reference=reference)
    total = analysis.observation.railcar_equivalents
    zones = {z.zone: z.railcar_equivalents for z in analysis.zones}
    assert total is not None
    assert set(zones) == {"tumangang-yard", "khasan-yard"}
    assert all(v is not None for v in zones.values())
    parts = [v for v in zones.values() if v is not None]
    assert total == pytest.approx(sum(parts), abs=1e-9)
    assert total >= max(parts)
    assert (zones["khasan-yard"] or 0.0) > (zones["tumangang-yard"] or 0.0)

"""A misregistered scene counts the ships it shows once it is registered to its reference.

The pixels are the simulator's (one clear summer scene of Rajin, empty and busy), moved by
known sub-pixel shifts as a misregistered Sentinel-2 scene would be (SIMULATED).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from memory_scene import memory_scene
from numpy.typing import NDArray

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.detect.analyse import analyse_chip, clear_pixels
from pipeline.detect.reference import Reference, build_reference
from pipeline.detect.ships import detect_ships
from pipeline.geo.aoi import load_aois
from pipeline.simulate import parse_scenario, render_scene
from pipeline.simulate.grid import EPSG, aoi_mask, region
from pipeline.simulate.hostile import misregister
from pipeline.types import Aoi, Chip, Scene

#: ~10 s: two simulated renders and a six-look reference (make test runs them).
pytestmark = pytest.mark.slow

SUMMER = date(2023, 8, 6)


def _scenario(ships: float) -> str:
    return f"""
seed = 16
start = "{SUMMER}"
end = "{SUMMER}"
cloud_probability = 0.0
[[aoi]]
id = "rajin-port"
activity = [{{ from = "2021-01-01", ships = {ships} }}]
[[aoi]]
id = "tumangang-rail"
activity = [{{ from = "2021-01-01", railcars = 0 }}]
"""


@pytest.fixture(scope="module")
def rajin() -> Aoi:
    return next(a for a in load_aois(DEFAULT_AOI_DIR) if a.id == "rajin-port")


@pytest.fixture(scope="module")
def renders() -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint8], int]:
    """Empty and busy reflectance of the Rajin region, its SCL at 10 m, and the true ships."""
    empty = render_scene(parse_scenario(_scenario(0)), 0).sites["rajin-port"]
    busy = render_scene(parse_scenario(_scenario(6)), 0).sites["rajin-port"]
    scl = np.repeat(np.repeat(busy.scl, 2, 0), 2, 1)
    return empty.reflectance, busy.reflectance, scl, len(busy.truth.ships)


def _chip(
    name: str, refl: NDArray[np.float32], scl: NDArray[np.uint8], dx: float, dy: float
) -> Chip:
    reg = region("rajin-port")
    noise = np.random.default_rng(abs(hash(name)) % 2**32).normal(0, 0.0015, refl.shape)
    moved = misregister(refl, (dx, dy)) + noise.astype(np.float32)
    return Chip(
        name,
        "rajin-port",
        moved.astype(np.float32),
        scl,
        aoi_mask("rajin-port"),
        reg.transform,
        EPSG,
    )


def _scene(name: str) -> Scene:
    return memory_scene(name, datetime(2023, 8, 6, 2, 16, tzinfo=UTC))


@pytest.fixture(scope="module")
def reference(
    renders: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint8], int],
) -> Reference:
    """Six empty looks, each misregistered by up to ~0.8 px, as a real series is."""
    empty, _busy, scl, _n = renders
    rng = np.random.default_rng(4)
    chips = [_chip(f"ref{i}", empty, scl, *rng.normal(0, 0.5, 2)) for i in range(6)]
    return build_reference(chips, [clear_pixels(c) for c in chips])


def test_a_misregistered_scene_is_registered_and_counts_its_ships(
    renders: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint8], int],
    reference: Reference,
    rajin: Aoi,
) -> None:
    _empty, busy, scl, true_ships = renders
    assert true_ships >= 3
    chip = _chip("scene", busy, scl, 0.8, -0.6)
    unregistered = detect_ships(chip, reference=np.nan_to_num(reference.low))
    observation = analyse_chip(chip, _scene("scene"), rajin, reference=reference).observation
    assert len(unregistered) > true_ships + 5  # the quays light up without registration
    assert observation.ships is not None
    assert abs(observation.ships - true_ships) <= 1
    assert observation.low_confidence is None
    # The scene moved 0.8 px east and 0.6 px south of a reference at the looks' mean frame.
    assert observation.shift_x_px == pytest.approx(0.8, abs=0.35)
    assert observation.shift_y_px == pytest.approx(-0.6, abs=0.35)


def test_a_basin_under_sea_ice_makes_the_count_low_confidence(
    renders: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint8], int],
    reference: Reference,
    rajin: Aoi,
) -> None:
    _empty, busy, scl, _n = renders
    water = scl == 6
    iced, iced_scl = busy.copy(), scl.copy()
    ice = np.array([0.37, 0.37, 0.37, 0.36, 0.1], np.float32)  # snowy sea ice: dark at 1.6 um
    half = water & (np.arange(water.shape[1])[None, :] < water.shape[1] * 0.6)
    iced[:, half] = ice[:, None]
    iced_scl[half] = 11
    observation = analyse_chip(
        _chip("iced", iced, iced_scl, 0.0, 0.0), _scene("iced"), rajin, reference=reference
    ).observation
    assert observation.low_confidence is not None
    assert "sea ice over" in observation.low_confidence
    open_water = analyse_chip(
        _chip("open", busy, scl, 0.0, 0.0), _scene("open"), rajin, reference=reference
    ).observation
    assert open_water.low_confidence is None

"""Railcar-equivalents on tiny synthetic yards with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine
from numpy.typing import NDArray
from shapely.geometry import box

from pipeline.detect.rail import CAR_BODY_M, CAR_PITCH_M, CAR_WIDTH_M, estimate_railcars, zone_mask
from pipeline.geo.projection import reproject

BALLAST = np.array([0.135, 0.145, 0.155, 0.185, 0.215], dtype=np.float32)
COAL = np.array([0.032, 0.034, 0.037, 0.045, 0.052], dtype=np.float32)
RUST = np.array([0.055, 0.060, 0.105, 0.180, 0.230], dtype=np.float32)
#: A white refrigerated box car (painted steel: bright and flat).
WHITE = np.array([0.300, 0.310, 0.315, 0.340, 0.300], dtype=np.float32)
SUB = 25  # sub-pixels per 10 m pixel side: 0.4 m, so a 3.2 m car is exactly 8 wide


def _yard(rows: int = 40, cols: int = 120) -> NDArray[np.float32]:
    return np.broadcast_to(BALLAST[:, None, None], (5, rows, cols)).astype(np.float32).copy()


def _draw_string(
    scene: NDArray[np.float32],
    colour: NDArray[np.float32],
    *,
    n_cars: int,
    row_m: float,
    col0_m: float,
    heading_deg: float = 90.0,
) -> None:
    """Draw ``n_cars`` car bodies along a track at 1 m resolution, then area-average to 10 m."""
    rows, cols = scene.shape[1:]
    cover = np.zeros((rows * SUB, cols * SUB), dtype=np.float32)
    yy, xx = (np.mgrid[0 : rows * SUB, 0 : cols * SUB] + 0.5) * (10.0 / SUB)
    ux, uy = math.sin(math.radians(heading_deg)), -math.cos(math.radians(heading_deg))
    along = (xx - col0_m) * ux + (yy - row_m) * uy
    across = -(xx - col0_m) * uy + (yy - row_m) * ux
    for k in range(n_cars):
        start = k * CAR_PITCH_M
        body = (along >= start) & (along < start + CAR_BODY_M) & (np.abs(across) < CAR_WIDTH_M / 2)
        cover[body] = 1.0
    frac = cover.reshape(rows, SUB, cols, SUB).mean(axis=(1, 3))
    scene[:] = scene * (1 - frac) + colour[:, None, None] * frac


def _noisy(a: NDArray[np.float32], seed: int, sigma: float = 0.003) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    return (a + rng.normal(0, sigma, a.shape)).astype(np.float32)


@pytest.mark.parametrize(
    ("colour", "name", "tolerance"),
    # A white box car is brighter in NIR than the light surface the unmixing knows (0.32),
    # so it reads up to ~20 % long: light cars are measured, with that error.
    [(COAL, "coal", 0.2), (RUST, "rust", 0.2), (WHITE, "white", 0.25)],
)
def test_thirty_cars_on_a_track_are_thirty_equivalents(
    colour: NDArray[np.float32], name: str, tolerance: float
) -> None:
    reference = _yard()
    scene = _yard()
    _draw_string(scene, colour, n_cars=30, row_m=203.0, col0_m=300.0)
    yard = np.ones(scene.shape[1:], dtype=bool)
    est = estimate_railcars(_noisy(scene, 1), _noisy(reference, 2, 0.001), yard=yard, clear=yard)
    assert est.railcar_equivalents == pytest.approx(30, rel=tolerance), name
    assert est.railcar_low <= est.railcar_equivalents <= est.railcar_high
    assert est.occupied_track_m == pytest.approx(30 * CAR_PITCH_M, rel=tolerance)


def test_two_strings_abreast_on_a_diagonal_count_double() -> None:
    reference, scene = _yard(80, 120), _yard(80, 120)
    for offset in (0.0, 5.3):  # two tracks 5.3 m apart: both in the same pixels
        _draw_string(scene, COAL, n_cars=25, row_m=600.0 + offset, col0_m=100.0, heading_deg=70.0)
    yard = np.ones(scene.shape[1:], dtype=bool)
    est = estimate_railcars(_noisy(scene, 3), _noisy(reference, 4, 0.001), yard=yard, clear=yard)
    assert est.railcar_equivalents == pytest.approx(50, rel=0.2)


def test_an_empty_yard_is_empty_and_clouds_hide_cars() -> None:
    reference, scene = _yard(), _yard()
    yard = np.ones(scene.shape[1:], dtype=bool)
    empty = estimate_railcars(_noisy(scene, 5), _noisy(reference, 6, 0.001), yard=yard, clear=yard)
    assert empty.railcar_equivalents < 1.5
    _draw_string(scene, COAL, n_cars=30, row_m=203.0, col0_m=300.0)
    clear = yard.copy()
    clear[15:25, :] = False  # a cloud over the track
    hidden = estimate_railcars(
        _noisy(scene, 7), _noisy(reference, 8, 0.001), yard=yard, clear=clear
    )
    assert hidden.railcar_equivalents < 1.5
    assert hidden.measured_fraction == pytest.approx(0.75)


def test_brightness_change_of_the_whole_scene_is_not_a_train() -> None:
    reference = _yard()
    scene = _yard() * np.float32(1.15)  # a brighter day: same yard
    yard = np.ones(scene.shape[1:], dtype=bool)
    est = estimate_railcars(_noisy(scene, 9), _noisy(reference, 10, 0.001), yard=yard, clear=yard)
    assert est.railcar_equivalents < 1.5


def test_zone_mask_matches_the_zone_box() -> None:
    zone_utm = box(632000, 4697600, 632500, 4697800)  # 50 x 20 pixels
    zone = reproject(zone_utm, src_epsg=32652, dst_epsg=4326)
    transform = Affine(10, 0, 631900, 0, -10, 4697900)
    mask = zone_mask([zone], transform=transform, epsg=32652, shape=(60, 80))
    assert abs(int(mask.sum()) - 50 * 20) <= 8
    assert mask[15, 30]
    assert not mask[0, 0]

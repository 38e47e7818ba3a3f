"""Railcar-equivalents on tiny synthetic yards with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine
from numpy.typing import NDArray
from shapely.geometry import box

from pipeline.detect.rail import (
    CAR_BODY_M,
    CAR_PITCH_M,
    CAR_WIDTH_M,
    estimate_railcars,
    track_heading,
    zone_mask,
)
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
    across_m: tuple[float, float] = (-CAR_WIDTH_M / 2, CAR_WIDTH_M / 2),
) -> None:
    """Draw ``n_cars`` car bodies along a track at 0.4 m resolution, then area-average to 10 m.

    ``across_m`` is the band across the track the bodies fill (metres, left of the heading
    negative): the default is the car's width; another band draws, say, its shadow.
    """
    rows, cols = scene.shape[1:]
    cover = np.zeros((rows * SUB, cols * SUB), dtype=np.float32)
    yy, xx = (np.mgrid[0 : rows * SUB, 0 : cols * SUB] + 0.5) * (10.0 / SUB)
    ux, uy = math.sin(math.radians(heading_deg)), -math.cos(math.radians(heading_deg))
    along = (xx - col0_m) * ux + (yy - row_m) * uy
    across = -(xx - col0_m) * uy + (yy - row_m) * ux
    for k in range(n_cars):
        start = k * CAR_PITCH_M
        body = (
            (along >= start)
            & (along < start + CAR_BODY_M)
            & (across >= across_m[0])
            & (across < across_m[1])
        )
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


def _shadowed_string(
    scene: NDArray[np.float32], *, row_m: float, shadow_m: float, loss: float = 0.75
) -> None:
    """Thirty coal cars on an east-west track and their shadow on the ballast to the north.

    The shadow keeps a quarter of the light in every band (not the per-band skylight shares
    the method assumes), and is drawn before the cars, as the sun draws it.
    """
    darker = (scene[:, 0, 0] * (1 - loss)).astype(np.float32)
    # Heading 90 (east): "across" grows to the south, so the north side is negative.
    edge = -CAR_WIDTH_M / 2
    _draw_string(
        scene, darker, n_cars=30, row_m=row_m, col0_m=300.0, across_m=(edge - shadow_m, edge)
    )
    _draw_string(scene, COAL, n_cars=30, row_m=row_m, col0_m=300.0)


def test_a_low_sun_shadow_beside_the_cars_is_not_read_as_more_cars() -> None:
    # December at 02:15 UTC: the sun ~24 deg up in the south-south-east; a 4 m car's
    # shadow reaches ~8.4 m north across an east-west track, more than twice its width.
    per_height = 1 / math.tan(math.radians(24.0)) * math.sin(math.radians(167.0 - 90.0))
    reference, scene = _yard(), _yard()
    _shadowed_string(scene, row_m=203.0, shadow_m=4.0 * per_height)
    yard = np.ones(scene.shape[1:], dtype=bool)
    noisy, ref = _noisy(scene, 11), _noisy(reference, 12, 0.001)
    blind = estimate_railcars(noisy, ref, yard=yard, clear=yard)
    seen = estimate_railcars(noisy, ref, yard=yard, clear=yard, shadow_per_height=per_height)
    assert blind.railcar_equivalents > 2.5 * 30  # the shadow read as cars
    # Beside an empty track the whole shadow is on ballast: the estimate takes the middle
    # of "neighbour empty" and "neighbour occupied", so it still reads long, but the
    # interval holds the truth and the error is a fraction of what it was.
    assert abs(seen.railcar_equivalents - 30) < 0.3 * abs(blind.railcar_equivalents - 30)
    assert seen.railcar_low <= 30 <= seen.railcar_high
    assert seen.shadow_width_m > 3.0


def test_shadows_falling_on_a_neighbouring_string_stay_inside_the_interval() -> None:
    per_height = 1 / math.tan(math.radians(24.0)) * math.sin(math.radians(167.0 - 90.0))
    reference, scene = _yard(), _yard()
    for row_m in (203.0, 208.0):  # two strings abreast, track centres 5 m apart
        _shadowed_string(scene, row_m=row_m, shadow_m=4.0 * per_height)
    yard = np.ones(scene.shape[1:], dtype=bool)
    seen = estimate_railcars(
        _noisy(scene, 13),
        _noisy(reference, 14, 0.001),
        yard=yard,
        clear=yard,
        shadow_per_height=per_height,
    )
    assert seen.railcar_low <= 60 <= seen.railcar_high
    assert seen.railcar_equivalents == pytest.approx(60, rel=0.35)


@pytest.mark.parametrize("heading", [0.0, 35.0, 90.0, 150.0])
def test_track_heading_is_the_yard_axis(heading: float) -> None:
    rows, cols = np.mgrid[0:200, 0:200]
    east, north = cols - 100.0, 100.0 - rows
    ux, uy = math.sin(math.radians(heading)), math.cos(math.radians(heading))
    along, across = east * ux + north * uy, -east * uy + north * ux
    mask = (np.abs(along) < 80) & (np.abs(across) < 6)
    measured = track_heading(mask)
    difference = (measured - heading + 90.0) % 180.0 - 90.0
    assert abs(difference) < 1.0
    assert math.isnan(track_heading(np.zeros((3, 3), dtype=bool)))

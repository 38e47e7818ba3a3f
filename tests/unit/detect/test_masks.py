"""Masks on tiny arrays with known answers."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pipeline.detect.masks import (
    clear_fraction,
    clear_mask,
    fill_small_holes,
    sea_mask,
    water_mask,
)

WATER = (0.04, 0.05, 0.03, 0.02, 0.01)
HULL = (0.12, 0.13, 0.12, 0.16, 0.12)
CONCRETE = (0.18, 0.20, 0.22, 0.25, 0.30)


def scene(rows: int, cols: int) -> NDArray[np.float32]:
    """A calm water scene, ``(5, rows, cols)``."""
    return np.broadcast_to(np.array(WATER, np.float32)[:, None, None], (5, rows, cols)).copy()


def paint(refl: NDArray[np.float32], spectrum: tuple[float, ...], rs: slice, cs: slice) -> None:
    refl[:, rs, cs] = np.array(spectrum, np.float32)[:, None, None]


def test_water_mask_separates_water_from_hull_and_land() -> None:
    refl = scene(10, 10)
    paint(refl, HULL, slice(2, 4), slice(2, 8))
    paint(refl, CONCRETE, slice(8, 10), slice(0, 10))
    water = water_mask(refl)
    assert water[0, 0]
    assert not water[3, 5]
    assert not water[9, 5]
    assert int(water.sum()) == 100 - 12 - 20


def test_water_mask_respects_valid() -> None:
    refl = scene(4, 4)
    valid = np.ones((4, 4), bool)
    valid[0, 0] = False
    assert not water_mask(refl, valid)[0, 0]


def test_sea_mask_fills_a_hull_but_not_a_pier() -> None:
    refl = scene(60, 60)
    paint(refl, HULL, slice(30, 33), slice(20, 32))  # 12 px x 3 px hull, afloat
    paint(refl, CONCRETE, slice(0, 60), slice(0, 5))  # shore
    paint(refl, CONCRETE, slice(10, 14), slice(5, 50))  # pier from the shore
    sea = sea_mask(water_mask(refl), pixel_size_m=10.0)
    assert sea[31, 25]
    assert not sea[12, 30]
    assert not sea[30, 2]


def test_sea_mask_drops_small_ponds() -> None:
    refl = scene(60, 60)
    paint(refl, CONCRETE, slice(0, 60), slice(0, 60))
    paint(refl, WATER, slice(5, 10), slice(5, 10))  # 25 px = 2500 m²: a pond
    assert not sea_mask(water_mask(refl), pixel_size_m=10.0).any()


def test_fill_small_holes_leaves_border_background() -> None:
    mask = np.ones((6, 6), bool)
    mask[2, 2] = False
    mask[0, 5] = False
    filled = fill_small_holes(mask, 4)
    assert filled[2, 2]
    assert not filled[0, 5]


def test_clear_mask_keeps_ship_sized_cloud_blobs() -> None:
    scl = np.full((80, 80), 6, np.uint8)
    scl[10:13, 10:22] = 8  # a bright deck classed as cloud: 36 px = 3600 m²
    scl[40:80, 40:80] = 9  # a real cloud: 1600 px = 0.16 km²
    scl[0:5, 70:80] = 3  # a small shadow blob: kept too
    scl[79, 0] = 0
    clear = clear_mask(scl, pixel_size_m=10.0)
    assert clear[11, 15]
    assert not clear[60, 60]
    assert clear[2, 75]
    assert not clear[79, 0]
    assert clear[20, 20]


def test_clear_fraction() -> None:
    clear = np.zeros((4, 4), bool)
    clear[:2] = True
    inside = np.zeros((4, 4), bool)
    inside[1:3] = True
    assert clear_fraction(clear, inside) == 0.5
    assert clear_fraction(clear, np.zeros((4, 4), bool)) == 0.0


def test_dilate_cross_matches_scipy() -> None:
    from scipy import ndimage as ndi

    from pipeline.detect.masks import dilate_cross

    rng = np.random.default_rng(0)
    mask = rng.random((30, 40)) > 0.97
    mask[0, 0] = mask[-1, -1] = True  # corners: the edge must behave like scipy's
    for n in (1, 3):
        assert np.array_equal(dilate_cross(mask, n), ndi.binary_dilation(mask, iterations=n))

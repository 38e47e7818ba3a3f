"""Issue 14, points 1-3: the occupancy map, ships at a berth that is almost never empty,
and a pier built while the reference's scenes were taken.

A small harbour on a 10 m grid: water west of a straight quay, concrete east of it. A
130 m x 20 m hull lies flush against the quay in 19 of 20 looks (a laid-up ship); a
pier extension appears in look 12 and stays.
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from numpy.typing import NDArray

from pipeline.detect.berths import occupancy_map
from pipeline.detect.reference import build_reference
from pipeline.detect.reference_mode import prepare_reference
from pipeline.detect.ships import detect_ships_in_arrays as detect_ships
from pipeline.types import Chip

SHAPE = (90, 90)
QUAY_COL = 60
WATER = np.array([0.04, 0.05, 0.03, 0.015, 0.01], dtype=np.float32)
CONCRETE = np.array([0.12, 0.13, 0.14, 0.18, 0.2], dtype=np.float32)
HULL = np.array([0.08, 0.09, 0.1, 0.22, 0.18], dtype=np.float32)
BERTH = (slice(20, 33), slice(QUAY_COL - 2, QUAY_COL))  # 13 x 2 px, against the quay
PIER = (slice(60, 72), slice(QUAY_COL - 6, QUAY_COL))  # built in look 12
EMPTY_LOOKS = (9,)
PIER_FROM = 12
LOOKS = 20


def _look(i: int, *, berth: bool, pier: bool) -> NDArray[np.float32]:
    rng = np.random.default_rng(100 + i)
    cube = np.empty((5, *SHAPE), dtype=np.float32)
    cube[:] = WATER[:, None, None]
    cube[:, :, QUAY_COL:] = CONCRETE[:, None, None]
    if pier:
        cube[:, PIER[0], PIER[1]] = CONCRETE[:, None, None]
    if berth:
        cube[:, BERTH[0], BERTH[1]] = HULL[:, None, None]
    noise = rng.normal(0, 0.002, cube.shape).astype(np.float32)
    out: NDArray[np.float32] = cube + noise
    return out


def _stack() -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    looks = [_look(i, berth=i not in EMPTY_LOOKS, pier=i >= PIER_FROM) for i in range(LOOKS)]
    return np.stack(looks), np.ones((LOOKS, *SHAPE), dtype=bool)


def test_occupancy_map_flags_the_berth_and_the_new_pier() -> None:
    stack, seen = _stack()
    occ = occupancy_map(stack, seen, pixel_size_m=10.0)
    kinds = sorted(o.kind for o in occ.objects)
    assert kinds == ["berth", "structure"]
    berth = next(o for o in occ.objects if o.kind == "berth")
    assert berth.occupancy == pytest.approx(19 / 20)
    assert berth.empty_looks == 1
    assert abs(berth.row - 26) < 1
    assert abs(berth.col - (QUAY_COL - 1.5)) < 1
    share = occ.share[BERTH]
    assert np.all(share > 0.9)
    assert np.all(share < 1)
    # Open water is never occupied; land never water, so off the map.
    assert float(np.nanmax(occ.share[:, :40])) == 0.0
    assert np.all(np.isnan(occ.share[:, QUAY_COL + 1 :]))


def test_a_one_way_change_is_a_structure_not_a_berth() -> None:
    stack, seen = _stack()
    occ = occupancy_map(stack, seen, pixel_size_m=10.0)
    pier = next(o for o in occ.objects if o.kind == "structure")
    assert pier.empty_looks == PIER_FROM
    assert occ.labels[PIER][2, 2] == pier.label


def _chips() -> list[Chip]:
    stack, _ = _stack()
    transform = Affine(10.0, 0.0, 600000.0, 0.0, -10.0, 4700000.0)
    scl = np.full(SHAPE, 6, dtype=np.uint8)
    valid = np.ones(SHAPE, dtype=bool)
    return [
        Chip(f"S2A_{i:02d}", "harbour", stack[i], scl, valid, transform, 32652)
        for i in range(LOOKS)
    ]


def test_a_ship_on_a_usually_occupied_berth_is_counted_not_absorbed() -> None:
    chips = _chips()
    reference = build_reference(chips, [np.ones(SHAPE, dtype=bool)] * LOOKS)
    assert "berth 1" in reference.usual_note or "berth 2" in reference.usual_note
    prepared = prepare_reference(
        reference.low,
        pixel_size_m=10.0,
        berths=reference.usual > 0,
    )
    # The berth is water in the reference and inside the basin.
    assert prepared.basin[BERTH].all()
    busy = detect_ships(_look(40, berth=True, pier=True), reference=prepared)
    assert [d.source for d in busy] == ["berth"]
    assert abs(busy[0].row - 26) < 1.5
    empty = detect_ships(_look(41, berth=False, pier=True), reference=prepared)
    assert empty == []


def test_without_the_occupancy_map_the_ship_is_absorbed_and_the_pier_is_a_ship() -> None:
    """The failures the map fixes: the 10th percentile is the ship (nothing new at the
    berth), and it is water where the pier now stands (the pier reads as a hull)."""
    stack, _ = _stack()
    low = np.nanpercentile(stack, 10, axis=0).astype(np.float32)
    found = detect_ships(_look(40, berth=True, pier=True), reference=low)
    assert not [d for d in found if abs(d.row - 26) < 5]
    assert [d for d in found if 60 <= d.row <= 72]

"""Track, not boxes (issue 14, point 7): track lines found or given, and only pixels near
them measured, on small synthetic yards."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine
from numpy.typing import NDArray
from shapely.geometry import LineString

from pipeline.detect.rail import estimate_railcars
from pipeline.detect.tracks import (
    aoi_track_segments,
    derive_track_lines,
    near_tracks,
    track_ground,
    track_masks,
)
from pipeline.geo.projection import reproject

BALLAST = np.array([0.135, 0.145, 0.155, 0.185, 0.215], dtype=np.float32)
GRASS = np.array([0.040, 0.070, 0.050, 0.350, 0.180], dtype=np.float32)
CONCRETE = np.array([0.165, 0.180, 0.190, 0.220, 0.245], dtype=np.float32)
COAL = np.array([0.035, 0.037, 0.040, 0.048, 0.055], dtype=np.float32)
SHAPE = (60, 80)


def _band(heading: float, row: float, col: float, half_width: float) -> NDArray[np.bool_]:
    """Pixel centres within ``half_width`` pixels of the line through (row, col)."""
    rad = math.radians(heading)
    rr, cc = np.mgrid[: SHAPE[0], : SHAPE[1]].astype(np.float64)
    offset = (rr - row) * math.sin(rad) + (cc - col) * math.cos(rad)
    band: NDArray[np.bool_] = np.abs(offset) <= half_width
    return band


def _reference(ground: NDArray[np.bool_]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Median (ballast on ``ground``, grass elsewhere) and high NDVI of a yard."""
    median = np.where(ground[None], BALLAST[:, None, None], GRASS[:, None, None])
    ndvi_high = np.where(ground, 0.12, 0.75).astype(np.float32)
    return median.astype(np.float32), ndvi_high


@pytest.mark.parametrize("heading", [12.0, 78.0, 135.0])
def test_derived_lines_recover_a_drawn_tracks_angle_and_offset(heading: float) -> None:
    row, col = 31.3, 38.6
    ground = _band(heading, row, col, half_width=1.5)
    median, ndvi_high = _reference(ground)
    segments = derive_track_lines(median, ndvi_high, np.ones(SHAPE, dtype=bool))
    assert segments
    for seg in segments:
        assert abs((seg.heading_deg - heading + 90) % 180 - 90) < 0.5
    rad = math.radians(heading)
    offsets = [
        ((s.row0 + s.row1) / 2 - row) * math.sin(rad)
        + ((s.col0 + s.col1) / 2 - col) * math.cos(rad)
        for s in segments
    ]
    assert abs(float(np.mean(offsets))) < 0.3
    assert max(abs(o) for o in offsets) <= 1.5
    assert max(s.length_px for s in segments) > 40


def test_short_bare_structures_give_no_lines() -> None:
    ground = np.zeros(SHAPE, dtype=bool)
    ground[10:13, 20:35] = True  # a 150 m roof: bare, never green, too short for a siding
    ground[40:45, 50:58] = True  # a stockpile
    median, ndvi_high = _reference(ground)
    assert derive_track_lines(median, ndvi_high, np.ones(SHAPE, dtype=bool)) == ()


def _yard_with_roof() -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    track = np.zeros(SHAPE, dtype=bool)
    track[29:32, 4:76] = True  # a track group 700 m long, 30 m wide
    roof = np.zeros(SHAPE, dtype=bool)
    roof[35:38, 30:40] = True  # a roof 100 m x 30 m, 40 m from the tracks' edge
    return track, roof


def test_a_roof_beside_a_track_is_not_read_as_cars() -> None:
    track, roof = _yard_with_roof()
    median, ndvi_high = _reference(track | roof)
    median[:, roof] = CONCRETE[:, None]
    on_track, reach = track_masks(median, ndvi_high, np.ones(SHAPE, dtype=bool))
    assert not (reach & roof).any()
    assert on_track[track].mean() > 0.95
    # The day's scene: the tracks empty, the roof dark (wet, or in a cloud's shadow).
    rng = np.random.default_rng(3)
    scene = median + rng.normal(0, 0.002, median.shape).astype(np.float32)
    scene[:, roof] = 0.3 * CONCRETE[:, None] + 0.7 * COAL[:, None]
    clear = np.ones(SHAPE, dtype=bool)

    def cars(yard: NDArray[np.bool_], spill: NDArray[np.bool_] | None) -> float:
        return estimate_railcars(
            scene, median, yard=yard, clear=clear, spill=spill, modelled_ground=True
        ).railcar_equivalents

    assert cars(on_track, reach) < 0.5
    # The box's never-green pixels (the older mask) take the roof in, and read it as cars.
    box = track_ground(median, ndvi_high, np.ones(SHAPE, dtype=bool))
    assert cars(box, None) > 5


def test_a_track_busy_in_most_reference_looks_is_still_in_the_mask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.detect import reference as reference_module
    from pipeline.detect.coregister import NO_SHIFT
    from pipeline.detect.reference import build_reference
    from pipeline.types import Chip

    monkeypatch.setattr(
        reference_module,
        "register_stack",
        lambda cubes, valid: (list(cubes), list(valid), [NO_SHIFT] * len(cubes)),
    )
    track, _ = _yard_with_roof()
    rng = np.random.default_rng(5)
    chips = []
    for k in range(20):
        cube, _ = _reference(track)
        if k % 10 < 7:  # a string of coal cars on the tracks in 7 looks out of 10
            cube[:, 29:32, 10:70] = 0.2 * cube[:, 29:32, 10:70] + 0.8 * COAL[:, None, None]
        cube = cube * np.float32(rng.uniform(0.85, 1.15))
        chips.append(
            Chip(
                scene_id=f"S{k:02d}",
                aoi_id="yard",
                reflectance=(cube + rng.normal(0, 0.002, cube.shape)).astype(np.float32),
                scl=np.full(SHAPE, 5, dtype=np.uint8),
                valid=np.ones(SHAPE, dtype=bool),
                transform=Affine(10, 0, 635000, 0, -10, 4699000),
                epsg=32652,
            )
        )
    reference = build_reference(chips, [np.ones(SHAPE, dtype=bool)] * len(chips))
    busy = np.zeros(SHAPE, dtype=bool)
    busy[29:32, 10:70] = True
    assert float(reference.median[:, busy].mean()) < 0.08  # the median is cars, not ballast
    on_track, _ = track_masks(reference.median, reference.ndvi_high, np.ones(SHAPE, dtype=bool))
    assert on_track[busy].mean() > 0.95


def test_near_a_track_means_within_half_a_car_and_half_a_pixel() -> None:
    from pipeline.detect.tracks import TrackSegment

    shape = (20, 30)
    centred = near_tracks([TrackSegment(10.0, 2.0, 10.0, 27.0)], shape)
    assert set(np.nonzero(centred.any(axis=1))[0]) == {10}
    on_edge = near_tracks([TrackSegment(10.5, 2.0, 10.5, 27.0)], shape)
    assert set(np.nonzero(on_edge.any(axis=1))[0]) == {10, 11}
    shifted = near_tracks([TrackSegment(10.0, 2.0, 10.0, 27.0)], shape, misregistration_m=5.0)
    assert set(np.nonzero(shifted.any(axis=1))[0]) == {9, 10, 11}
    assert not centred[:, :1].any()
    assert centred[10, 2:28].all()


def test_aoi_lines_land_on_their_pixels() -> None:
    transform = Affine(10, 0, 635000, 0, -10, 4699000)
    # From the centre of pixel (12, 3) to the centre of pixel (12, 40), in UTM 52N.
    utm = LineString([(635035.0, 4698875.0), (635405.0, 4698875.0)])
    (seg,) = aoi_track_segments(
        [reproject(utm, src_epsg=32652, dst_epsg=4326)], transform=transform, epsg=32652
    )
    assert (seg.row0, seg.col0, seg.row1, seg.col1) == pytest.approx((12, 3, 12, 40), abs=1e-3)
    assert seg.heading_deg == pytest.approx(90.0, abs=0.01)

"""Where the tracks are: track centre lines, given or derived, and the pixels near them.

A rail yard's zone is a generous rectangle: it holds the tracks, but also roofs, platforms,
roads, stockpiles, ponds and village gardens. Only pixels near a track can hold a railcar,
so occupancy is measured there alone (issue 14, point 7).

**Given lines.** An AOI file may carry surveyed centre lines (``"kind": "track"``,
:mod:`pipeline.geo.aoi`); they are used as they are.

**Derived lines.** Without them, the lines are found in the temporal reference as thin,
long, straight structures of never-green ground:

1. *Track ground*: pixels of the zone whose greenest look stays below
   :data:`TRACK_CORE_NDVI` (ballast and graded yard ground never green up; fields, verges
   and the mixed pixels at a yard's edge do) and that are not water. Whether a train
   stood on a pixel does not matter: cars are not green either, so a track occupied in
   most looks is still track ground (the older "steady" filter dropped such tracks).
2. *Direction*: the projection of the track ground onto the normal of a candidate
   direction is sharpest along the tracks (a discrete Radon transform); directions are
   tried every degree, then refined to a tenth.
3. *Lines*: lines of that direction are sampled every :data:`OFFSET_STEP_PX` across and
   :data:`ALONG_STEP_PX` along (bilinear on the track-ground mask). A line is a track line
   where it runs over track ground for at least :data:`MIN_TRACK_M` (gaps up to
   :data:`MAX_GAP_M` bridged, as at a level crossing). Roofs (tens of metres), stockpiles
   and ponds are too short; a road would have to be both never green and as long as a
   siding, in the yard's own direction.
4. The ground left over is searched again for up to :data:`MAX_DIRECTIONS` directions (a
   yard whose track groups are not parallel).

At 10 m the tracks of a group (4.5-5.5 m apart) are not resolved one by one: the derived
lines fill the group's bed at :data:`OFFSET_STEP_PX` spacing, which is what the
occupancy needs.

**Near a track.** Two masks, for two jobs:

- *On the track* (where strings of cars are detected and the noise is measured): a pixel
  some part of which lies within half a car's width of a line; its centre is within
  ``CAR_WIDTH_M / 2 + pixel / 2 × (|sin| + |cos|)`` of it (half the pixel's extent
  across the line at the line's angle to the grid). At 10 m that is the line's own pixel
  and, where the line runs near a pixel edge, its neighbour.
- *Reached by a car's signal* (where the cover of a string already detected is summed):
  the same plus :data:`MISREGISTRATION_M`, the misregistration left after
  co-registration (a quarter pixel): a string's cover there is counted, but noise there
  never starts a string. Half a pixel was tried and is too much: the outermost pixels of
  a yard mix ballast with verges that green up and snow over, and an empty yard then
  read 46 (detecting there) or 56 (only growing strings there) cars in January, against
  8 with a quarter pixel (SIMULATED fresh world).

Pure numpy/scipy; imports neither rasterio nor prefect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from scipy import ndimage as ndi
from shapely.geometry.base import BaseGeometry

from pipeline.detect.masks import NDWI_WATER, ndwi
from pipeline.detect.rail import CAR_WIDTH_M
from pipeline.geo.projection import reproject
from pipeline.types import Aoi

#: Greenest look (90th percentile of NDVI) of track ground: ballast and graded ground stay
#: near 0.15, fields and verges pass 0.5, and a pixel half yard, half verge ~0.3.
TRACK_CORE_NDVI: Final = 0.2
#: Shortest track line, metres: a siding holds a few cars at least; roofs, platforms'
#: buildings and stockpiles are shorter.
MIN_TRACK_M: Final = 250.0
#: Longest break in a track line, metres (a level crossing, a gap in the ground mask).
MAX_GAP_M: Final = 30.0
#: Spacing of candidate lines across their direction, pixels.
OFFSET_STEP_PX: Final = 0.25
#: Spacing of samples along a candidate line, pixels.
ALONG_STEP_PX: Final = 0.5
#: Share of track ground (bilinear between pixel centres) a line's sample needs: 1 keeps
#: lines between the centres of track-ground pixels, off the mixed pixels at a yard's edge.
ON_TRACK_GROUND: Final = 0.99
#: Most track directions searched per zone.
MAX_DIRECTIONS: Final = 3
#: Fewest pixels of track ground for a direction to be searched.
MIN_GROUND_PX: Final = 20
#: Misregistration left after co-registration that a car's signal may be shifted by,
#: metres: a quarter of a 10 m pixel (see the module docstring for half a pixel).
MISREGISTRATION_M: Final = 2.5


@dataclass(frozen=True)
class TrackSegment:
    """A straight piece of track centre line in a grid's pixel coordinates.

    Coordinates are continuous: pixel ``(i, j)`` has its centre at ``(i, j)``.
    """

    row0: float
    """Start row."""
    col0: float
    """Start column."""
    row1: float
    """End row."""
    col1: float
    """End column."""

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.row0, self.col0, self.row1, self.col1)):
            raise ValueError(f"track segment with non-finite coordinates: {self}")

    @property
    def heading_deg(self) -> float:
        """Direction, degrees clockwise from grid north in [0, 180)."""
        return math.degrees(math.atan2(self.col1 - self.col0, self.row0 - self.row1)) % 180.0

    @property
    def length_px(self) -> float:
        """Length in pixels."""
        return math.hypot(self.row1 - self.row0, self.col1 - self.col0)


def track_ground(
    median: NDArray[np.float32], ndvi_high: NDArray[np.float32], area: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Never-green, non-water pixels of ``area`` (step 1 of the module docstring)."""
    with np.errstate(invalid="ignore"):
        ground = (ndvi_high < TRACK_CORE_NDVI) & (ndwi(median) < NDWI_WATER) & (median[2] > 0.0)
    out: NDArray[np.bool_] = area & ground
    return out


def _direction(ground: NDArray[np.bool_]) -> float:
    """Heading (degrees from grid north, [0, 180)) whose normal projection is sharpest."""
    rows, cols = np.nonzero(ground)

    def sharpness(heading: float) -> float:
        rad = math.radians(heading)
        # Normal to the heading (along = (-cos, sin) in (row, col)): (sin, cos).
        offset = rows * math.sin(rad) + cols * math.cos(rad)
        counts = np.bincount(np.floor((offset - offset.min()) / 0.5).astype(np.int64))
        return float((counts.astype(np.float64) ** 2).sum())

    coarse = max(np.arange(0.0, 180.0, 1.0), key=sharpness)
    fine = max(np.arange(coarse - 1.0, coarse + 1.01, 0.1), key=sharpness)
    return float(fine % 180.0)


def _runs(on: NDArray[np.bool_], gap: int, shortest: int) -> list[tuple[int, int]]:
    """``(first, last)`` indices of runs of ``on`` with gaps up to ``gap`` bridged."""
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a + 1 >= shortest]


def _lines_along(
    ground: NDArray[np.bool_], heading: float, pixel_size_m: float
) -> list[TrackSegment]:
    """Track lines of one direction over ``ground`` (step 3 of the module docstring)."""
    rad = math.radians(heading)
    along = np.array([-math.cos(rad), math.sin(rad)])  # (row, col) per pixel along
    normal = np.array([math.sin(rad), math.cos(rad)])
    rows, cols = np.nonzero(ground)
    pts = np.stack([rows, cols]).astype(np.float64)
    u, v = along @ pts, normal @ pts
    us = np.arange(u.min() - 1.0, u.max() + 1.0 + 1e-9, ALONG_STEP_PX)
    vs = np.arange(v.min() - 0.5, v.max() + 0.5 + 1e-9, OFFSET_STEP_PX)
    grid_r = along[0] * us[None, :] + normal[0] * vs[:, None]
    grid_c = along[1] * us[None, :] + normal[1] * vs[:, None]
    samples = ndi.map_coordinates(
        ground.astype(np.float32), [grid_r, grid_c], order=1, mode="constant", cval=0.0
    )
    step_m = ALONG_STEP_PX * pixel_size_m
    gap = round(MAX_GAP_M / step_m)
    shortest = math.ceil(MIN_TRACK_M / step_m) + 1
    segments = []
    for i, offset in enumerate(vs):
        for first, last in _runs(samples[i] >= ON_TRACK_GROUND, gap, shortest):
            (r0, r1), (c0, c1) = (along[k] * us[[first, last]] + normal[k] * offset for k in (0, 1))
            segments.append(TrackSegment(float(r0), float(c0), float(r1), float(c1)))
    return segments


def derive_track_lines(
    median: NDArray[np.float32],
    ndvi_high: NDArray[np.float32],
    area: NDArray[np.bool_],
    *,
    pixel_size_m: float = 10.0,
) -> tuple[TrackSegment, ...]:
    """Track centre lines in ``area`` from a temporal reference (see the module docstring).

    Each connected part of ``area`` (one yard zone) is searched on its own.

    Args:
        median: ``(5, rows, cols)`` the reference's median reflectance.
        ndvi_high: ``(rows, cols)`` its high percentile of NDVI.
        area: Pixels to search (the yard zones).
        pixel_size_m: Ground size of a pixel.

    Raises:
        ValueError: the arrays disagree in shape.
    """
    if median.shape[1:] != area.shape or ndvi_high.shape != area.shape:
        raise ValueError(
            f"shapes disagree: median {median.shape}, ndvi_high {ndvi_high.shape}, "
            f"area {area.shape}"
        )
    labels, parts = ndi.label(area)
    segments: list[TrackSegment] = []
    for part in range(1, parts + 1):
        ground = track_ground(median, ndvi_high, labels == part)
        for _ in range(MAX_DIRECTIONS):
            if int(ground.sum()) < MIN_GROUND_PX:
                break
            found = _lines_along(ground, _direction(ground), pixel_size_m)
            if not found:
                break
            segments += found
            ground = ground & ~near_tracks(found, ground.shape, pixel_size_m=pixel_size_m)
    return tuple(segments)


def aoi_track_segments(
    lines: Iterable[BaseGeometry], *, transform: Affine, epsg: int
) -> tuple[TrackSegment, ...]:
    """WGS84 (Multi)LineStrings as segments in the pixel coordinates of a grid."""
    inverse = ~transform
    segments = []
    for line in lines:
        local = reproject(line, dst_epsg=epsg)
        for part in getattr(local, "geoms", [local]):
            coords = np.asarray(shapely.get_coordinates(part))
            cols, rows = inverse @ (coords[:, 0], coords[:, 1])
            rows, cols = np.asarray(rows) - 0.5, np.asarray(cols) - 0.5
            for k in range(len(coords) - 1):
                segments.append(
                    TrackSegment(
                        float(rows[k]), float(cols[k]), float(rows[k + 1]), float(cols[k + 1])
                    )
                )
    return tuple(segments)


def near_tracks(
    segments: Iterable[TrackSegment],
    shape: tuple[int, int],
    *,
    pixel_size_m: float = 10.0,
    misregistration_m: float = 0.0,
) -> NDArray[np.bool_]:
    """Pixels whose centre lies near enough a track line to hold part of a car on it.

    The reach is half a car's width, plus half the pixel's extent across the line, plus
    ``misregistration_m`` (see the module docstring: 0 for the pixels on the track,
    :data:`MISREGISTRATION_M` for those a car's signal reaches).
    """
    mask = np.zeros(shape, dtype=bool)
    for seg in segments:
        rad = math.radians(seg.heading_deg)
        reach_m = (
            CAR_WIDTH_M / 2
            + pixel_size_m / 2 * (abs(math.sin(rad)) + abs(math.cos(rad)))
            + misregistration_m
        )
        reach = reach_m / pixel_size_m
        r_lo = max(math.floor(min(seg.row0, seg.row1) - reach), 0)
        r_hi = min(math.ceil(max(seg.row0, seg.row1) + reach) + 1, shape[0])
        c_lo = max(math.floor(min(seg.col0, seg.col1) - reach), 0)
        c_hi = min(math.ceil(max(seg.col0, seg.col1) + reach) + 1, shape[1])
        if r_lo >= r_hi or c_lo >= c_hi:
            continue
        rr, cc = np.mgrid[r_lo:r_hi, c_lo:c_hi].astype(np.float64)
        dr, dc = seg.row1 - seg.row0, seg.col1 - seg.col0
        length2 = dr * dr + dc * dc
        t = np.zeros_like(rr)
        if length2 > 0:
            t = np.clip(((rr - seg.row0) * dr + (cc - seg.col0) * dc) / length2, 0.0, 1.0)
        dist2 = (rr - seg.row0 - t * dr) ** 2 + (cc - seg.col0 - t * dc) ** 2
        mask[r_lo:r_hi, c_lo:c_hi] |= dist2 <= reach * reach
    return mask


def track_bed(
    median: NDArray[np.float32],
    ndvi_high: NDArray[np.float32],
    area: NDArray[np.bool_],
    *,
    given: Sequence[TrackSegment] | None = None,
    pixel_size_m: float = 10.0,
    misregistration_m: float = 0.0,
) -> NDArray[np.bool_]:
    """The pixels of ``area`` near a track (:func:`near_tracks`): near ``given`` lines (an
    AOI's surveyed ones, :func:`aoi_track_segments`) or, without, near the lines
    :func:`derive_track_lines` finds in the reference."""
    if given is None:
        given = derive_track_lines(median, ndvi_high, area, pixel_size_m=pixel_size_m)
    near = near_tracks(
        given, area.shape, pixel_size_m=pixel_size_m, misregistration_m=misregistration_m
    )
    bed: NDArray[np.bool_] = near & area
    return bed


def track_masks(
    median: NDArray[np.float32],
    ndvi_high: NDArray[np.float32],
    yards: NDArray[np.bool_],
    *,
    given: Sequence[TrackSegment] | None = None,
    pixel_size_m: float = 10.0,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Read-only masks of the ``yards`` pixels on a track and of those a car's signal
    reaches (:func:`track_bed` without and with :data:`MISREGISTRATION_M`)."""
    if given is None:
        given = derive_track_lines(median, ndvi_high, yards, pixel_size_m=pixel_size_m)
    masks = []
    for margin in (0.0, MISREGISTRATION_M):
        mask = track_bed(
            median,
            ndvi_high,
            yards,
            given=given,
            pixel_size_m=pixel_size_m,
            misregistration_m=margin,
        )
        mask.setflags(write=False)
        masks.append(mask)
    return masks[0], masks[1]


def aoi_tracks(aoi: Aoi, transform: Affine, epsg: int) -> tuple[TrackSegment, ...] | None:
    """The AOI file's track lines on a grid (:func:`aoi_track_segments`); None without."""
    if not aoi.tracks:
        return None
    return aoi_track_segments([t.geometry for t in aoi.tracks], transform=transform, epsg=epsg)

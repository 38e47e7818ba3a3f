"""Object features of offshore candidates, so that a small classifier can reject
unlabelled small craft, wakes, buoys and breakwater fragments.

Each feature is computed from the candidate's own pixels and from windows around its
centroid (array slices, no whole-chip filtering), so it costs microseconds per object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.detect.candidates import Candidate, extent_px

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

#: Window (half-width) of the water background of each band around a candidate: wide
#: enough to hold water all round a 200 m hull, narrow enough to follow turbidity.
BACKGROUND_HALF_M: Final = 250.0
#: Half-width of the window in which the share of land is measured: hulls at anchor lie
#: in open water, pier tips and breakwater ends have land close by.
LAND_HALF_M: Final = 200.0
#: Half-width of the clutter window (non-water objects per unit of sea): marinas.
CLUTTER_HALF_M: Final = 400.0
#: Excess ratios are clipped to this range (a near-zero NIR excess would blow them up).
RATIO_RANGE: Final = (-2.0, 3.0)

OFFSHORE_FEATURES: Final = (
    "log_length_m",
    "log_width_m",
    "aspect",
    "log_area_m2",
    "nir_excess",
    "nir_excess_max",
    "blue_per_nir",
    "red_per_nir",
    "swir_per_nir",
    "land_share",
    "clutter",
)


def _window(shape: tuple[int, ...], row: float, col: float, half_px: int) -> tuple[slice, slice]:
    r, c = round(row), round(col)
    return (
        slice(max(0, r - half_px), min(shape[0], r + half_px + 1)),
        slice(max(0, c - half_px), min(shape[1], c + half_px + 1)),
    )


def offshore_features(
    reflectance: F32,
    water: Mask,
    sea: Mask,
    cands: Sequence[Candidate],
    *,
    pixel_size_m: float,
) -> F32:
    """The ``(n, len(OFFSHORE_FEATURES))`` feature matrix of offshore candidates.

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16.
        water: Open-water mask.
        sea: Sea mask.
        cands: Offshore candidates.
        pixel_size_m: Ground size of one pixel.
    """
    shape = water.shape
    bg_half = max(2, round(BACKGROUND_HALF_M / pixel_size_m))
    land_half = max(2, round(LAND_HALF_M / pixel_size_m))
    clutter_half = max(2, round(CLUTTER_HALF_M / pixel_size_m))
    lo, hi = RATIO_RANGE
    rows: list[list[float]] = []
    for c in cands:
        length_px, width_px = extent_px(c.rows, c.cols)
        length_m, width_m = length_px * pixel_size_m, width_px * pixel_size_m
        win = _window(shape, c.row, c.col, bg_half)
        w = water[win]
        excess = []
        for band in range(5):
            background = float(reflectance[band][win][w].mean()) if w.any() else 0.0
            excess.append(reflectance[band][c.rows, c.cols] - background)
        means = [float(e.mean()) for e in excess]
        nir = means[3]
        safe = nir if abs(nir) > 1e-4 else 1e-4
        blue, red, swir = (float(np.clip(means[b] / safe, lo, hi)) for b in (0, 2, 4))

        land = ~sea[_window(shape, c.row, c.col, land_half)]
        cw = _window(shape, c.row, c.col, clutter_half)
        sea_c = sea[cw]
        clutter = float((sea_c & ~water[cw]).sum()) / max(float(sea_c.sum()), 1.0)
        rows.append(
            [
                float(np.log(length_m)),
                float(np.log(width_m)),
                width_m / length_m,
                float(np.log(len(c.rows) * pixel_size_m**2)),
                nir,
                float(excess[3].max()),
                blue,
                red,
                swir,
                float(land.mean()),
                clutter,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(cands), len(OFFSHORE_FEATURES))

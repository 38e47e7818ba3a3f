"""Features of the waterline pixels for the ship classifier, computed cheaply.

Only the pixels the classifier scores (the waterline band, a few per cent of a chip)
are described, and every neighbourhood statistic is computed on a 2 × 2 block-mean
("coarse") grid, whose pixel is 2 × the chip's: at 10 m that is 20 m, still finer than
a hull's beam plus a mixed pixel. So a 600 × 600 chip costs a handful of box filters on
a 300 × 300 grid and fancy indexing at the band pixels, not Gaussian and Hessian stacks
over the whole chip. Scales are in metres and converted with the grid's pixel size, so
a model trained on 6–9 m crops applies to a 10 m UTM chip.

The features answer what a photo-interpreter asks at a quay:

- *colour*: the pixel's reflectance and indices (hull paint and steel vs concrete:
  concrete is bright in every band and SWIR-bright; hulls are relatively NIR-bright);
- *contrast*: the pixel minus the water around it (so hazy and clear scenes look
  alike) and minus the land behind it (a hull differs from its quay; a quay edge does
  not);
- *geometry*: how much water lies within 40–320 m (a pier tip and a hull afloat are
  mostly surrounded by water, a straight quay has half), and how dense non-water
  objects are in the basin (marinas).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

#: Block size of the coarse grid (see the module docstring).
COARSE: Final = 2
#: Neighbourhoods of the water share: a berth (40 m), a basin arm (80–160 m), a harbour
#: (320 m).
WATER_FRACTION_SCALES_M: Final = (40.0, 80.0, 160.0, 320.0)
#: Water background of each band: wide enough to hold water even beside a 300 m
#: terminal, narrow enough to follow haze and turbidity.
WATER_BACKGROUND_M: Final = 300.0
#: The land behind a moored hull: its quay apron (60 m) and the terminal (160 m).
LAND_CONTEXT_SCALES_M: Final = (60.0, 160.0)
#: Local texture (standard deviation of brightness): a hull is uniform over ~40 m,
#: container stacks and marinas are not.
TEXTURE_M: Final = 40.0
#: Density of non-water objects inside the basin (boats, pontoons): marinas are dense.
CLUTTER_M: Final = 400.0
_EPS: Final = np.float32(1e-4)

FEATURE_NAMES: Final = (
    "blue",
    "green",
    "red",
    "nir",
    "swir",
    "ndwi",
    "mndwi",
    "ndvi",
    "nir_swir",
    "blue_red",
    "d_blue",
    "d_green",
    "d_red",
    "d_nir",
    "d_swir",
    "water_40",
    "water_80",
    "water_160",
    "water_320",
    "land_bright_60",
    "land_nir_60",
    "land_swir_60",
    "land_bright_160",
    "land_swir_160",
    "texture_40",
    "coarse_bright",
    "coarse_nir",
    "clutter_400",
)


def block_mean(image: F32, factor: int) -> F32:
    """Mean over ``factor × factor`` blocks (edge rows/cols padded by replication).

    Sums strided slices rather than reducing a reshaped view: many times faster in numpy.
    """
    rows, cols = image.shape
    pr, pc = (-rows) % factor, (-cols) % factor
    if pr or pc:
        image = np.pad(image, ((0, pr), (0, pc)), mode="edge")
    total = np.zeros((image.shape[0] // factor, image.shape[1] // factor), dtype=np.float32)
    for i in range(factor):
        for j in range(factor):
            total += image[i::factor, j::factor]
    out: F32 = (total / np.float32(factor * factor)).astype(np.float32, copy=False)
    return out


def _box(image: F32, metres: float, coarse_px: float) -> F32:
    """Box mean over about ``metres`` on the coarse grid (odd width, at least 1)."""
    size = max(1, round(metres / coarse_px) | 1)
    out: F32 = ndi.uniform_filter(image, size, mode="nearest") if size > 1 else image
    return out


def _nd(a: F32, b: F32) -> F32:
    out: F32 = ((a - b) / (a + b + _EPS)).astype(np.float32)
    return out


def band_features(
    reflectance: F32,
    water: Mask,
    sea: Mask,
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    *,
    pixel_size_m: float,
) -> F32:
    """The ``(n, len(FEATURE_NAMES))`` feature matrix of the pixels ``(rows, cols)``.

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16.
        water: Open-water mask (:func:`pipeline.detect.masks.water_mask`).
        sea: Sea mask (:func:`pipeline.detect.masks.sea_mask`).
        rows: Rows of the pixels to describe.
        cols: Their columns.
        pixel_size_m: Ground size of one chip pixel.
    """
    px = reflectance[:, rows, cols].astype(np.float32)
    blue, green, red, nir, swir = px
    bright = (blue + green + red + nir) / 4
    feats: dict[str, F32] = {"blue": blue, "green": green, "red": red, "nir": nir, "swir": swir}
    feats["ndwi"] = _nd(green, nir)
    feats["mndwi"] = _nd(green, swir)
    feats["ndvi"] = _nd(nir, red)
    feats["nir_swir"] = _nd(nir, swir)
    feats["blue_red"] = _nd(blue, red)

    cpx = COARSE * pixel_size_m
    cr, cc = rows // COARSE, cols // COARSE
    wf = block_mean(water.astype(np.float32), COARSE)
    land = np.float32(1) - wf
    bands = [block_mean(b, COARSE) for b in reflectance]
    c_bright: F32 = ((bands[0] + bands[1] + bands[2] + bands[3]) / 4).astype(np.float32)

    water_share = _box(wf, WATER_BACKGROUND_M, cpx) + _EPS
    for name, band, value in zip(("blue", "green", "red", "nir", "swir"), bands, px, strict=True):
        background = _box(band * wf, WATER_BACKGROUND_M, cpx) / water_share
        feats[f"d_{name}"] = value - background[cr, cc]
    for scale in WATER_FRACTION_SCALES_M:
        feats[f"water_{int(scale)}"] = _box(wf, scale, cpx)[cr, cc]

    for scale in LAND_CONTEXT_SCALES_M:
        land_share = _box(land, scale, cpx)[cr, cc] + _EPS
        land_bright = _box(c_bright * land, scale, cpx)[cr, cc] / land_share
        land_swir = _box(bands[4] * land, scale, cpx)[cr, cc] / land_share
        feats[f"land_bright_{int(scale)}"] = bright - land_bright
        feats[f"land_swir_{int(scale)}"] = swir - land_swir
        if scale == LAND_CONTEXT_SCALES_M[0]:
            land_nir = _box(bands[3] * land, scale, cpx)[cr, cc] / land_share
            feats[f"land_nir_{int(scale)}"] = nir - land_nir

    mean = _box(c_bright, TEXTURE_M, cpx)
    mean_sq = _box(c_bright * c_bright, TEXTURE_M, cpx)
    texture = np.sqrt(np.maximum(mean_sq - mean * mean, 0)).astype(np.float32)
    feats["texture_40"] = texture[cr, cc]
    feats["coarse_bright"] = c_bright[cr, cc]
    feats["coarse_nir"] = bands[3][cr, cc]

    holes = block_mean((sea & ~water).astype(np.float32), COARSE)
    sea_share = _box(block_mean(sea.astype(np.float32), COARSE), CLUTTER_M, cpx) + _EPS
    feats["clutter_400"] = (_box(holes, CLUTTER_M, cpx) / sea_share)[cr, cc]
    return np.stack([feats[n] for n in FEATURE_NAMES], axis=1).astype(np.float32)

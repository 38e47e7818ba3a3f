"""Clear-sky, water, sea and land masks from SCL and the reflectance bands.

Pure numpy/scipy/scikit-image: arrays in, boolean arrays out. Every size is given in
metres (or square metres) and turned into pixels with the grid's ``pixel_size_m``, so
the same rule holds on a 10 m UTM grid and on a 5.8 m Web Mercator crop at 54° N.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

#: SCL classes that hide the surface: 3 cloud shadow, 8/9 cloud medium/high, 10 cirrus.
SCL_OBSCURED: Final = (3, 8, 9, 10)
#: SCL class 11: snow or ice.
SCL_SNOW_ICE: Final = 11
#: NDSI above which a pixel is snow or ice (Hall et al. 1995: full cover is above ~0.4).
SNOW_NDSI_FULL: Final = 0.4
#: Green reflectance snow or ice at least has (dark water has a high NDSI too).
SNOW_MIN_GREEN_FULL: Final = 0.1
#: SCL class 0 is "no data".
SCL_NODATA: Final = 0
#: Largest ship we look for: a Capesize bulk carrier or a big container ship is
#: ~400 m × 60 m. A "cloud" blob no bigger than this that sits on water is more
#: likely a bright deck or a container stack that SCL mislabelled than a cloud.
MAX_SHIP_AREA_M2: Final = 400.0 * 60.0
#: NDWI = (green − NIR) / (green + NIR) is above 0 for open water (McFeeters 1996):
#: water absorbs NIR almost fully while green still scatters back; decks, concrete and
#: vegetation all reflect more NIR than green.
NDWI_WATER: Final = 0.0
#: A water body smaller than this is a puddle, a roof in shadow or a dock pool, not a
#: harbour basin (0.05 km², a 220 m square): ships are looked for only in larger ones.
MIN_SEA_AREA_M2: Final = 50_000.0
#: Small numbers keep band ratios finite over no-data (0) pixels.
_EPS: Final = np.float32(1e-4)


def _pixels(area_m2: float, pixel_size_m: float) -> int:
    """Whole pixels in an area, at least one."""
    return max(1, int(area_m2 / (pixel_size_m * pixel_size_m)))


def _component_sizes(mask: NDArray[np.bool_]) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Label 8-connected components and return ``(labels, size of each label)``."""
    labels, _ = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels.astype(np.int32), sizes


def remove_small(mask: NDArray[np.bool_], min_pixels: int) -> NDArray[np.bool_]:
    """Drop 8-connected components with fewer than ``min_pixels`` pixels."""
    labels, sizes = _component_sizes(mask)
    keep: NDArray[np.bool_] = (sizes >= min_pixels)[labels]
    return keep


def dilate_cross(mask: NDArray[np.bool_], iterations: int = 1) -> NDArray[np.bool_]:
    """Binary dilation by the 4-connected cross, ``iterations`` times.

    The same result as ``scipy.ndimage.binary_dilation(mask, iterations=n)`` (outside
    the array counts as background), by shifted ORs: several times faster.
    """
    out = mask.astype(bool, copy=True)
    for _ in range(iterations):
        src = out.copy()
        out[1:] |= src[:-1]
        out[:-1] |= src[1:]
        out[:, 1:] |= src[:, :-1]
        out[:, :-1] |= src[:, 1:]
    return out


def fill_small_holes(mask: NDArray[np.bool_], max_pixels: int) -> NDArray[np.bool_]:
    """Fill holes (4-connected background not reaching the border) up to ``max_pixels``."""
    holes = ~mask
    labels, _ = ndi.label(holes)
    sizes = np.bincount(labels.ravel())
    sizes[0] = max_pixels + 1
    border = np.unique(np.concatenate([labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]]))
    fill = sizes <= max_pixels
    fill[border] = False
    filled: NDArray[np.bool_] = mask | fill[labels]
    return filled


def ndwi(reflectance: NDArray[np.float32]) -> NDArray[np.float32]:
    """Normalised difference water index (green − NIR) / (green + NIR).

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16.
    """
    green, nir = reflectance[1], reflectance[3]
    out: NDArray[np.float32] = (green - nir) / (green + nir + _EPS)
    return out


def water_mask(
    reflectance: NDArray[np.float32], valid: NDArray[np.bool_] | None = None
) -> NDArray[np.bool_]:
    """Pixels that look like open water (NDWI above :data:`NDWI_WATER`).

    Ships are *not* water here: they are what this mask leaves out.

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16.
        valid: Pixels with data; others are never water.
    """
    water: NDArray[np.bool_] = ndwi(reflectance) > NDWI_WATER
    if valid is not None:
        water &= valid
    return water


def sea_mask(water: NDArray[np.bool_], *, pixel_size_m: float) -> NDArray[np.bool_]:
    """Harbour and sea water, with ship-sized islands counted as sea.

    Keeps water bodies of at least :data:`MIN_SEA_AREA_M2` and fills every hole in them
    no larger than :data:`MAX_SHIP_AREA_M2`, so that a ship afloat (a bright hole in the
    water) lies *inside* the sea, while a pier or a mole (bigger, and joined to the
    shore) stays outside.

    Args:
        water: Output of :func:`water_mask`.
        pixel_size_m: Ground size of one pixel.
    """
    big = remove_small(water, _pixels(MIN_SEA_AREA_M2, pixel_size_m))
    return fill_small_holes(big, _pixels(MAX_SHIP_AREA_M2, pixel_size_m))


def clear_mask(scl: NDArray[np.uint8], *, pixel_size_m: float = 10.0) -> NDArray[np.bool_]:
    """Pixels seen clear of cloud, cirrus and cloud shadow, from the SCL band.

    SCL sometimes labels a bright deck or a container stack as cloud (8/9). A compact
    "obscured" blob no larger than :data:`MAX_SHIP_AREA_M2` is therefore kept as clear:
    real clouds at 20 m SCL resolution are far larger than a ship.

    Args:
        scl: Scene classification, resampled to the chip grid.
        pixel_size_m: Ground size of one pixel.

    Returns:
        True where the surface is visible and has data.
    """
    obscured = np.isin(scl, SCL_OBSCURED)
    real_cloud = remove_small(obscured, _pixels(MAX_SHIP_AREA_M2, pixel_size_m) + 1)
    clear: NDArray[np.bool_] = ~real_cloud & (scl != SCL_NODATA)
    return clear


def snow_share(
    scl: NDArray[np.uint8],
    green: NDArray[np.float32],
    swir: NDArray[np.float32],
    clear: NDArray[np.bool_],
) -> float:
    """Share of the ``clear`` pixels under snow or ice: SCL class 11, or the normalised
    difference snow index (green - SWIR) / (green + SWIR) above :data:`SNOW_NDSI_FULL` on a
    pixel bright enough in the green (Hall et al. 1995), which catches what SCL misses."""
    n = int(clear.sum())
    if n == 0:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = (green - swir) / (green + swir)
    snowy = (scl == SCL_SNOW_ICE) | ((ndsi > SNOW_NDSI_FULL) & (green > SNOW_MIN_GREEN_FULL))
    return float((snowy & clear).sum()) / n


def clear_fraction(clear: NDArray[np.bool_], inside: NDArray[np.bool_]) -> float:
    """Share of the ``inside`` pixels (the AOI) that are clear, 0 when the AOI is empty."""
    n = int(inside.sum())
    return float((clear & inside).sum()) / n if n else 0.0

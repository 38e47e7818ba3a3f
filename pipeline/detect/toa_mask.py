"""A cloud mask for Level-1C (top-of-atmosphere) chips, which have no SCL (issue 17).

Pure numpy. Spectral tests after Fmask (Zhu & Woodcock 2012) and Sen2Cor's cloud step, less
what needs bands a chip does not hold (SWIR 2.2 um, thermal, cirrus B10). Fmask's plain
thresholds alone (HOT ``blue - 0.5 red - 0.08 > 0``, whiteness < 0.7) flag bare winter
land, whose blue the low sun's Rayleigh path brightens, and without thermal they call
thick cloud snow; so brightness (Sen2Cor's red test) and SWIR separate them:

* cloud: red > 0.2 (bright), NDSI < 0.4 (snow is far brighter in green than at 1.6 um,
  cloud is not), SWIR 1.6 um > 0.1, whiteness (mean absolute deviation of blue, green and
  red over their mean) < 0.7, and HOT > 0;
* snow and ice: NDSI > 0.4, NIR > 0.11, green > 0.1 (seen, not obscured);
* water: NDVI < 0.01 and NIR < 0.11, or NDVI < 0.1 and NIR < 0.05;
* cloud shadow: not water, NIR < 0.08 and SWIR 1.6 < 0.06, within :data:`SHADOW_REACH_PX`
  of a cloud (Fmask projects shadows from cloud heights; a dark pixel near a cloud is the
  simple stand-in).

The result is written in SCL's classes (0 nodata, 3 shadow, 4 other, 6 water, 9 cloud, 11
snow) so that :func:`pipeline.detect.masks.clear_mask` reads it as it reads SCL.

Spectral tests alone call white roofs, concrete quays and container yards cloud (as Fmask
and Sen2Cor do over bright towns). Where a temporal reference exists,
:func:`recheck_with_reference` asks the question a single date cannot: is the pixel much
brighter than it usually is? (The multi-temporal test of MAJA, Hagolle et al. 2010.) On the
SIMULATED winter overlap, the bright port land taken for cloud put false ships along the
quays, at the edge of the "cloud".
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

#: How far from a cloud a dark pixel may be counted as its shadow, 10 m pixels (a 1.5 km
#: cloud at 25 degrees of sun elevation casts its shadow about 3 km away).
SHADOW_REACH_PX: Final = 300.0
BLUE, GREEN, RED, NIR, SWIR = range(5)
#: A pixel called cloud stays cloud only when its blue is at least this much above the
#: reference's, after the scene's own median offset from the reference (the aerosol the
#: Level-1C calibration leaves) is taken out. A cloud thick enough to hide a ship is
#: brighter in the blue than anything under it but snow, which :func:`scl_from_toa` tells
#: apart by its SWIR.
CLOUD_BLUE_EXCESS: Final = 0.08
#: The reference's open water: SWIR (and NIR) reflectance under this.
WATER_MAX_SWIR: Final = 0.03
#: SWIR excess over the reference's open water that is cloud (or, where small, a ship).
WATER_CLOUD_SWIR_EXCESS: Final = 0.025
#: SCL classes written here.
SHADOW_CLASS, OTHER_CLASS, CLOUD_CLASS = 3, 4, 9


def _ratio(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    out: NDArray[np.float32] = np.divide(
        a - b, a + b, out=np.zeros_like(a), where=np.abs(a + b) > 1e-6
    )
    return out


def scl_from_toa(toa: NDArray[np.float32], valid: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """A scene classification in SCL's classes from ``(5, rows, cols)`` TOA reflectance
    (blue, green, red, nir, swir16) and the pixels with data."""
    b, g, r, n, s = (toa[i].astype(np.float32) for i in range(5))
    ndsi, ndvi = _ratio(g, s), _ratio(n, r)
    mean_vis = (b + g + r) / 3.0
    whiteness = np.divide(
        np.abs(b - mean_vis) + np.abs(g - mean_vis) + np.abs(r - mean_vis),
        mean_vis,
        out=np.full_like(b, np.inf),
        where=mean_vis > 1e-6,
    )
    hot = b - 0.5 * r - 0.08
    cloud = (r > 0.2) & (ndsi < 0.4) & (s > 0.1) & (whiteness < 0.7) & (hot > 0)
    snow = (ndsi > 0.4) & (n > 0.11) & (g > 0.1)
    water = ((ndvi < 0.01) & (n < 0.11)) | ((ndvi < 0.1) & (n < 0.05))
    cloud &= ~snow
    near = (
        ndimage.distance_transform_edt(~cloud) <= SHADOW_REACH_PX
        if cloud.any()
        else np.zeros_like(cloud)
    )
    shadow = near & ~cloud & ~water & (n < 0.08) & (s < 0.06)
    scl = np.full(b.shape, OTHER_CLASS, np.uint8)
    scl[water] = 6
    scl[snow] = 11
    scl[shadow] = SHADOW_CLASS
    scl[cloud] = CLOUD_CLASS
    scl[~valid] = 0
    return scl


def recheck_with_reference(
    scl: NDArray[np.uint8],
    surface: NDArray[np.float32],
    reference: NDArray[np.float32],
    valid: NDArray[np.bool_],
) -> NDArray[np.uint8]:
    """``scl`` rechecked against the temporal reference: is each pixel much brighter than
    it usually is?

    ``surface`` is the chip at the surface (after
    :func:`pipeline.detect.toa_calibrate.surface_from_toa`), ``reference`` the reference's
    median, both ``(5, rows, cols)`` on one grid. Each band's excess over the reference is
    taken less the scene's median excess (the aerosol the calibration leaves).

    * A pixel called cloud whose blue excess is under :data:`CLOUD_BLUE_EXCESS` is a surface
      that is always bright: it becomes "other" (4).
    * On the reference's open water, whose SWIR is near zero, a SWIR excess of
      :data:`WATER_CLOUD_SWIR_EXCESS` is cloud (9), thin or not: the spectral tests call
      thin cloud over water "water" or "snow". A ship is such an excess too, but a small
      one, and :func:`pipeline.detect.masks.clear_mask` keeps ship-sized "cloud" clear.
    """
    both = valid & np.all(np.isfinite(surface), axis=0) & np.all(np.isfinite(reference), axis=0)
    if not both.any():
        return scl
    excess = surface - reference
    offsets = np.array([np.median(band[both]) for band in excess], np.float32)
    excess = excess - offsets.reshape(-1, 1, 1)
    out = scl.copy()
    out[(scl == CLOUD_CLASS) & both & (excess[BLUE] < CLOUD_BLUE_EXCESS)] = OTHER_CLASS
    open_water = both & (reference[SWIR] < WATER_MAX_SWIR) & (reference[NIR] < WATER_MAX_SWIR)
    out[open_water & (excess[SWIR] > WATER_CLOUD_SWIR_EXCESS)] = CLOUD_CLASS
    return out

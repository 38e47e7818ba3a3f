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
    scl = np.full(b.shape, 4, np.uint8)
    scl[water] = 6
    scl[snow] = 11
    scl[shadow] = 3
    scl[cloud] = 9
    scl[~valid] = 0
    return scl

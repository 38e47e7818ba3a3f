"""Level-1C chips on the reference's scale: the detectors' calibration for TOA input.

Pure numpy. The detectors compare a chip with its temporal reference, built from Level-2A
(surface) reflectance. A Level-1C chip is top of atmosphere: brighter by the path
reflectance (most in the blue, more under a low winter sun) and dimmed by the atmosphere's
transmittance. Rather than model the atmosphere, each band is mapped linearly onto the
reference (relative radiometric normalisation on the scene's own clear pixels): the
intercept and slope that carry the band's quantiles (2nd to 98th) over the clear pixels onto
the reference median's quantiles over the same pixels. Moving ships are too few pixels to
move the quantiles.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

#: Quantiles matched between the chip and the reference (percent).
QUANTILES: Final = np.linspace(2.0, 98.0, 25)
#: Fewest clear pixels with a reference value needed to fit a band.
MIN_PIXELS: Final = 500


def fit_bands(
    toa: NDArray[np.float32], reference: NDArray[np.float32], clear: NDArray[np.bool_]
) -> NDArray[np.float64] | None:
    """Per band ``(intercept, slope)`` carrying ``toa`` onto ``reference`` (both
    ``(5, rows, cols)``) over the ``clear`` pixels; None when too few pixels qualify."""
    usable = clear & np.all(np.isfinite(reference), axis=0) & np.all(np.isfinite(toa), axis=0)
    if int(usable.sum()) < MIN_PIXELS:
        return None
    out = np.empty((toa.shape[0], 2))
    for band in range(toa.shape[0]):
        x = np.percentile(toa[band][usable], QUANTILES)
        y = np.percentile(reference[band][usable], QUANTILES)
        slope, intercept = np.polyfit(x, y, 1)
        out[band] = (intercept, slope)
    return out


def to_reference_scale(toa: NDArray[np.float32], fit: NDArray[np.float64]) -> NDArray[np.float32]:
    """``toa`` mapped band by band with :func:`fit_bands`' intercepts and slopes."""
    mapped = fit[:, 0].reshape(-1, 1, 1) + fit[:, 1].reshape(-1, 1, 1) * toa
    return mapped.astype(np.float32)

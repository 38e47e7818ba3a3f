"""The learned detector's working scale: 10 m ground pixels, Sentinel-2's own grid.

Plain numpy and scipy. The network (:mod:`pipeline.detect.cnn`) works in pixels, so it reads
every chip at one ground scale: Rajin's UTM chips already are at 10 m and pass through
untouched; a chip on a finer grid (the ``sen2ships-dev`` crops are EPSG:3857, 5.8–8 m on the
ground) is resampled to 10 m first (:func:`to_working_scale`), and the ships found there are
mapped back to the chip's own pixels (:func:`peak_to_input`). Training resamples its ports the
same way, so a 120 m trader is 12 pixels long for the network wherever it lies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.detect.cnn import Peak

F32 = NDArray[np.float32]

#: Ground size of the pixels the network reads, metres.
WORKING_PIXEL_M: Final = 10.0
#: How a chip reaches that scale (part of the detector version while the flows use the
#: learned detector): change it when the resampling changes.
SCALE_METHOD: Final = "at10m-gauss-bilinear-1"
#: A chip whose pixels are within this share of :data:`WORKING_PIXEL_M` is read as it is.
SCALE_TOLERANCE: Final = 0.02
#: Anti-aliasing before a chip is shrunk: a Gaussian of this many output pixels (sigma).
ANTIALIAS_SIGMA: Final = 0.5


@dataclass(frozen=True)
class WorkingChip:
    """A chip at :data:`WORKING_PIXEL_M` ground pixels."""

    reflectance: F32
    """``(5, rows, cols)`` reflectance on the working grid."""
    valid: NDArray[np.bool_] | None
    """Pixels with data on the working grid (None: all)."""
    factor: float
    """Working pixels per input pixel (input pixel size / :data:`WORKING_PIXEL_M`)."""


def working_factor(pixel_size_m: float) -> float:
    """Working pixels per input pixel; exactly 1.0 within :data:`SCALE_TOLERANCE`."""
    factor = pixel_size_m / WORKING_PIXEL_M
    return 1.0 if abs(factor - 1.0) <= SCALE_TOLERANCE else factor


def resample(band: NDArray[np.floating], factor: float, *, order: int) -> NDArray[np.floating]:
    """One 2-D array on a grid of ``factor`` times as many pixels a side, pixel edges
    aligned (the input's pixel ``i`` centre, ``i``, lands on ``(i + 0.5) · factor − 0.5``);
    outside reads the nearest edge pixel."""
    rows, cols = band.shape
    shape = (max(1, round(rows * factor)), max(1, round(cols * factor)))
    scale = 1.0 / factor
    out: NDArray[np.floating] = ndi.affine_transform(
        band,
        [scale, scale],
        offset=0.5 * scale - 0.5,
        output_shape=shape,
        order=order,
        mode="nearest",
    )
    return out


def to_working_scale(
    reflectance: F32, valid: NDArray[np.bool_] | None, pixel_size_m: float
) -> WorkingChip:
    """The chip resampled to :data:`WORKING_PIXEL_M` ground pixels (bilinear, after a
    Gaussian anti-alias when shrinking; ``valid`` by nearest neighbour). No copy when the
    chip already is at that scale."""
    factor = working_factor(pixel_size_m)
    if factor == 1.0:
        return WorkingChip(reflectance, valid, 1.0)
    refl = np.nan_to_num(reflectance.astype(np.float32, copy=False), nan=0.0)
    if factor < 1.0:
        sigma = ANTIALIAS_SIGMA / factor
        refl = ndi.gaussian_filter(refl, (0.0, sigma, sigma), mode="nearest")
    out = np.stack([resample(b, factor, order=1) for b in refl]).astype(np.float32)
    work_valid = None if valid is None else resample_mask(valid, factor)
    return WorkingChip(out, work_valid, factor)


def resample_mask(mask: NDArray[np.bool_], factor: float) -> NDArray[np.bool_]:
    """A mask on the grid :func:`resample` makes (nearest neighbour)."""
    if factor == 1.0:
        return mask
    return resample(mask.astype(np.uint8), factor, order=0).astype(bool)


def peak_to_input(peak: Peak, factor: float) -> Peak:
    """A peak found on the working grid, in the input chip's pixels."""
    if factor == 1.0:
        return peak
    return replace(
        peak,
        row=(peak.row + 0.5) / factor - 0.5,
        col=(peak.col + 0.5) / factor - 0.5,
        length_px=peak.length_px / factor,
        width_px=peak.width_px / factor,
    )

"""The learned ship detector's input: each chip's water levelled, then seven channels.

Plain numpy. :func:`level_water` takes a chip's haze and adjacency offset out, measured on its
open water; :func:`input_features` turns the levelled reflectance into the channels the
network (:mod:`pipeline.detect.cnn`) reads.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.detect.masks import water_mask

F32 = NDArray[np.float32]

#: Channels the network reads (:func:`input_features`).
INPUT_CHANNELS: Final = 7
#: Open water's reflectance in each band (blue, green, red, nir, swir16) after
#: :func:`level_water`: clear coastal water, close to Durban's (0.024, 0.020, 0.009, 0.005, 0.002).
REFERENCE_WATER: Final = (0.025, 0.025, 0.010, 0.005, 0.004)
#: Fewest open-water pixels from which a chip's water level is measured; a chip with
#: fewer is read as it is.
MIN_WATER_PIXELS: Final = 500
#: The water level is measured on every this-many-th row and column.
WATER_SAMPLE_STEP: Final = 4
#: Reflectance is read as ``SQRT_GAIN · √ρ − 1`` (dark water about −0.3, quays about 1):
#: the square root tames bright decks and roofs and costs far less than a logarithm.
SQRT_GAIN: Final = 4.0


def level_water(reflectance: F32, valid: NDArray[np.bool_] | None = None) -> F32:
    """Shift each band so that the chip's open water reads :data:`REFERENCE_WATER`.

    Haze and adjacency light add a nearly even offset to a port's water: Busan's water
    reads 0.055 in NIR and SWIR where the other training ports read 0.02 or less, and a
    network trained without such an offset reads the whole basin as land or hull. The
    offset is measured as the median of the chip's open water (NDWI mask) and taken out
    of every pixel, a dark-object subtraction with water as the dark object; the
    training ports are levelled the same way (:mod:`pipeline.bench.train_cnn`).

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16.
        valid: Pixels with data (default: all); others stay 0.

    Returns:
        The levelled reflectance (clipped at 0), or ``reflectance`` itself when the chip
        has fewer than :data:`MIN_WATER_PIXELS` open-water pixels.
    """
    # Every 4th row and column: the same median to within 1.1e-4 on the training ports, at a
    # sixteenth of the work.
    step = WATER_SAMPLE_STEP
    sample = reflectance[:, ::step, ::step]
    water = water_mask(sample, None if valid is None else valid[::step, ::step])
    if step * step * int(water.sum()) < MIN_WATER_PIXELS:
        return reflectance
    level = np.median(sample[:, water], axis=1).astype(np.float32)
    shift = level - np.asarray(REFERENCE_WATER, dtype=np.float32)
    out: F32 = np.subtract(reflectance, shift[:, None, None], dtype=np.float32)
    np.maximum(out, np.float32(0.0), out=out)
    _zero_outside(out, valid)
    return out


def _zero_outside(channels: F32, valid: NDArray[np.bool_] | None) -> None:
    """Set every channel to 0 where ``valid`` is False (in place; nothing when all are valid)."""
    if valid is not None and not valid.all():
        channels[:, ~valid] = 0.0


def input_features(reflectance: F32, valid: NDArray[np.bool_] | None = None) -> F32:
    """The seven input channels: scaled √reflectance of the five bands, NDWI, MNDWI.

    Args:
        reflectance: ``(5, rows, cols)`` blue, green, red, nir, swir16; no-data pixels 0.
        valid: Pixels with data (default: all); the others are set to 0 in every channel.

    Returns:
        ``(7, rows, cols)`` float32.
    """
    # fmax takes NaN to 0 as it clips below: one pass instead of nan_to_num and clip.
    refl = np.fmax(reflectance, np.float32(0.0), dtype=np.float32)
    np.minimum(refl, np.float32(2.0), out=refl)
    out = np.empty((INPUT_CHANNELS, *refl.shape[1:]), dtype=np.float32)
    green, nir, swir = refl[1], refl[3], refl[4]
    eps = np.float32(1e-3)
    np.divide(green - nir, green + nir + eps, out=out[5])
    np.divide(green - swir, green + swir + eps, out=out[6])
    np.sqrt(refl, out=out[:5])
    out[:5] *= np.float32(SQRT_GAIN)
    out[:5] -= np.float32(1.0)
    _zero_outside(out, valid)
    return out

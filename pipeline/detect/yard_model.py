"""What an empty rail yard looks like on a given day: a per-pixel model of the bare ground.

A single median of clear scenes is the right empty yard only on a day like the median
day. Two things move the bare ground from day to day, and neither moves it uniformly:

- **Wet ballast.** After rain or in the thaw, gravel and graded ground darken by a fifth
  to a third, and more in SWIR where the water in the pores absorbs. A pixel that is half
  ballast and half concrete darkens half as much. One gain per band over the yard leaves
  the pure-ballast pixels darker than expected, and the method read that as cars: an
  empty yard read 20-40 railcar-equivalents in wet months (SIMULATED fresh world).
- **The sun.** Shadows of buildings, signal gantries and embankments lengthen as the sun
  drops, so a pixel beside a structure darkens from September to December.

The model, per pixel and band, fitted on the reference's registered looks::

    reflectance = a + b * level + c * cot(sun elevation)

``level`` is the look's median over the yards' track bed (the pixels near the track lines,
:mod:`pipeline.detect.tracks`), per band (it carries the day's wetness, haze and
illumination); ``cot(elevation)`` is how long a shadow is per metre of height. Cars
are a minority of looks at any pixel: the fit is repeated with looks more than three
robust deviations off the line left out. Where a
pixel has too few looks for three parameters, the model falls back to the median.

Pure numpy; imports neither rasterio nor prefect.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

#: Regressors per look: intercept, the look's bare-ground level, cot(sun elevation).
TERMS: Final = 3
#: Fewest looks at a pixel to fit the model there (three parameters and room for cars).
MIN_MODEL_LOOKS: Final = 8
#: Robust refits; each leaves out looks more than :data:`OUTLIER_SIGMAS` off the fit.
REFITS: Final = 3
#: How far off the fit, in robust standard deviations, a look counts as not empty.
OUTLIER_SIGMAS: Final = 3.0
#: Floor on a pixel's robust deviation, reflectance (sensor noise of a bright target).
MIN_DEVIATION: Final = 1e-3
#: A track-bed pixel whose brightness varies over time more than this many times the
#: bed's typical variation does not measure the day's level: a busy track (cars come and
#: go) or a mixed edge pixel (verges green up and snow over).
LEVEL_MAX_SPREAD_RATIO: Final = 2.0

F32 = NDArray[np.float32]


def level_pixels(bed: NDArray[np.bool_], spread: F32) -> NDArray[np.bool_]:
    """The steady part of the track ``bed``, where a look's bare-ground level is measured.

    Only the level: the occupancy is measured on the whole bed (a busy track is unsteady
    because cars stand on it, which is what is being counted).
    """
    if not bed.any():
        return bed
    typical = float(np.nanmedian(spread[bed]))
    steady: NDArray[np.bool_] = bed & (spread <= LEVEL_MAX_SPREAD_RATIO * typical)
    return steady


def shadow_scale(sun_elevation_deg: float) -> float:
    """``cot(elevation)``: a shadow's length per metre of height (elevation floored at 5°)."""
    return 1.0 / math.tan(math.radians(max(sun_elevation_deg, 5.0)))


def bare_level(cube: F32, usable: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``(5,)`` median reflectance of ``cube`` over ``usable`` pixels with data (NaN when none)."""
    usable = usable & np.isfinite(cube).all(axis=0)
    if not usable.any():
        return np.full(cube.shape[0], np.nan)
    return np.asarray(np.median(cube[:, usable], axis=1), dtype=np.float64)


def conditions_seen(levels: NDArray[np.float64], scales: NDArray[np.float64]) -> F32:
    """``(2, bands + 1)``: the lowest and highest level per band and shadow scale fitted on.

    :func:`expected_empty` keeps a day within them: the model is a straight line through
    the days it has seen, and beyond them (a day wetter or a sun lower than any look) it
    would extrapolate, where nothing says the line still holds.
    """
    both = np.column_stack([levels, scales])
    usable = both[np.isfinite(both).all(axis=1)]
    if usable.size == 0:
        return np.full((2, both.shape[1]), np.nan, dtype=np.float32)
    return np.stack([usable.min(axis=0), usable.max(axis=0)]).astype(np.float32)


def fit_response(stack: F32, levels: NDArray[np.float64], scales: NDArray[np.float64]) -> F32:
    """Per-pixel coefficients ``(TERMS, 5, rows, cols)`` of the empty-ground model.

    Args:
        stack: ``(n, 5, rows, cols)`` registered looks, NaN where not seen clear.
        levels: ``(n, 5)`` each look's bare-ground level (:func:`bare_level`).
        scales: ``(n,)`` each look's :func:`shadow_scale`.

    Pixels with fewer than :data:`MIN_MODEL_LOOKS` looks get NaN coefficients (the caller
    falls back to the median there).

    Raises:
        ValueError: the arrays disagree in their number of looks or bands.
    """
    n, bands = stack.shape[:2]
    if levels.shape != (n, bands) or scales.shape != (n,):
        raise ValueError(
            f"{n} looks of {bands} bands, but levels {levels.shape} and scales {scales.shape}"
        )
    usable_looks = np.isfinite(levels).all(axis=1) & np.isfinite(scales)
    design = np.stack(
        [np.ones((n, bands)), levels, np.repeat(scales[:, None], bands, axis=1)], axis=-1
    )[usable_looks]  # (n', bands, TERMS)
    values = stack[usable_looks].astype(np.float64)
    seen = np.isfinite(values)
    keep = seen.copy()
    coef = np.full((bands, *stack.shape[2:], TERMS), np.nan)
    for _ in range(REFITS):
        coef = _least_squares(design, np.where(keep, values, 0.0), keep)
        residual = values - np.einsum("nbk,brck->nbrc", design, coef)
        deviation = np.nanmedian(np.where(keep, np.abs(residual), np.nan), axis=0)
        bound = OUTLIER_SIGMAS * 1.4826 * np.maximum(np.nan_to_num(deviation), MIN_DEVIATION)
        keep = seen & (np.abs(np.nan_to_num(residual)) <= bound)
    thin = keep.sum(axis=0) < MIN_MODEL_LOOKS
    coef[thin] = np.nan
    return np.moveaxis(coef, -1, 0).astype(np.float32)


def _least_squares(
    design: NDArray[np.float64], values: NDArray[np.float64], weight: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Per-pixel weighted least squares; ``(bands, rows, cols, TERMS)``."""
    w = weight.astype(np.float64)
    normal = np.einsum("nbk,nbrc,nbj->brckj", design, w, design)
    normal += 1e-8 * np.eye(design.shape[-1])
    rhs = np.einsum("nbk,nbrc->brck", design, w * values)
    solved: NDArray[np.float64] = np.linalg.solve(normal, rhs[..., None])[..., 0]
    return solved


def expected_empty(
    response: F32,
    level: NDArray[np.float64],
    scale: float,
    fallback: F32,
    seen: F32 | None = None,
) -> F32:
    """The empty ground on a day with bed ``level`` and :func:`shadow_scale` ``scale``.

    ``fallback`` (the median) stands in where the model has no coefficients, or where the
    day's level is unknown. ``seen`` (:func:`conditions_seen`) keeps the day's level and
    scale within those the model was fitted on.
    """
    if not np.isfinite(level).all():
        return fallback
    if seen is not None and np.isfinite(seen).all():
        level = np.clip(level, seen[0, :-1], seen[1, :-1])
        scale = float(np.clip(scale, seen[0, -1], seen[1, -1]))
    day = response[0] + response[1] * level[:, None, None] + response[2] * scale
    out: F32 = np.where(np.isfinite(day), day, fallback).astype(np.float32)
    return out

"""Pure numpy building blocks: fractal noise fields and anti-aliased rasterisation.

Everything here works in pixel or metre arrays and knows nothing about Sentinel-2.
Anti-aliasing is done the simple, exact-enough way: rasterise on a grid ``factor`` times
finer than the output and average each ``factor x factor`` block (area coverage).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft
from numpy.typing import NDArray
from scipy import ndimage
from skimage.draw import polygon as draw_polygon

F32 = NDArray[np.float32]
#: Sub-pixels per 10 m pixel side used to draw ships and railcars (1.25 m).
SUB = 8


def fractal_field(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    beta: float = 3.0,
    cutoff: float = 2.0,
    stretch: float = 1.0,
    angle_deg: float = 0.0,
) -> F32:
    """A Gaussian random field with power spectrum ``~ k**-beta``, mean 0 and std 1.

    Args:
        shape: ``(rows, cols)``.
        rng: Source of the white noise.
        beta: Spectral slope; 2 is rough, 4 is smooth (clouds ~3).
        cutoff: Wavelengths longer than ``max(shape) / cutoff`` pixels are damped, so one
            huge blob does not dominate.
        stretch: Anisotropy; > 1 elongates features along ``angle_deg`` (cirrus streaks).
        angle_deg: Direction of elongation, degrees clockwise from "up" (north).
    """
    white = rng.standard_normal(shape, dtype=np.float32)
    spectrum = scipy.fft.rfft2(white)
    ky = np.fft.fftfreq(shape[0]).astype(np.float32)[:, None]
    kx = np.fft.rfftfreq(shape[1]).astype(np.float32)[None, :]
    if stretch != 1.0:
        theta = np.deg2rad(angle_deg)
        # Along-streak axis (unit vector east=sin, north=cos; rows grow southwards).
        along = kx * np.sin(theta) - ky * np.cos(theta)
        across = kx * np.cos(theta) + ky * np.sin(theta)
        k2 = (along * stretch) ** 2 + (across / stretch) ** 2
    else:
        k2 = kx**2 + ky**2
    k0 = cutoff / max(shape)
    amplitude = (k2 + k0**2) ** (-beta / 4.0)
    amplitude[0, 0] = 0.0
    field: F32 = np.asarray(scipy.fft.irfft2(spectrum * amplitude, s=shape), dtype=np.float32)
    field -= field.mean()
    std = float(field.std())
    return field / np.float32(std) if std > 0 else field


def upsample(field: F32, factor: int, shape: tuple[int, int]) -> F32:
    """Bilinear up-sampling by ``factor`` (pixel-area aligned), cropped to ``shape``."""
    zoomed = ndimage.zoom(field, factor, order=1, mode="nearest", grid_mode=True)
    return np.ascontiguousarray(zoomed[: shape[0], : shape[1]], dtype=np.float32)


def block_mean(array: F32, factor: int) -> F32:
    """Average ``factor x factor`` blocks over the last two axes (area down-sampling).

    Sums strided slices rather than reducing a reshaped view: many times faster in numpy.
    """
    if factor == 1:
        return array
    total = np.zeros(
        (*array.shape[:-2], array.shape[-2] // factor, array.shape[-1] // factor), np.float32
    )
    for i in range(factor):
        for j in range(factor):
            total += array[..., i::factor, j::factor]
    total *= np.float32(1.0 / (factor * factor))
    return total


def smoothstep(
    x: NDArray[np.floating[Any]] | float,
    lo: NDArray[np.floating[Any]] | float,
    hi: NDArray[np.floating[Any]] | float,
) -> F32:
    """0 below ``lo``, 1 above ``hi``, a smooth cubic in between."""
    t = np.clip((np.asarray(x, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def polygon_mask(
    shape: tuple[int, int], rows: Sequence[float], cols: Sequence[float]
) -> NDArray[np.bool_]:
    """Pixels whose centre lies inside a polygon given in continuous pixel coordinates."""
    mask = np.zeros(shape, dtype=bool)
    rr, cc = draw_polygon(np.asarray(rows) - 0.5, np.asarray(cols) - 0.5, shape)  # type: ignore[no-untyped-call]
    mask[rr, cc] = True
    return mask


def polygon_coverage(
    shape: tuple[int, int], rows: Sequence[float], cols: Sequence[float], factor: int = 4
) -> F32:
    """Fraction of each pixel inside a polygon given in (fractional) pixel coordinates."""
    fine_shape = (shape[0] * factor, shape[1] * factor)
    fine = polygon_mask(fine_shape, [r * factor for r in rows], [c * factor for c in cols])
    return block_mean(fine.astype(np.float32), factor)


def segment_distance(
    gx: NDArray[np.float32],
    gy: NDArray[np.float32],
    points: Sequence[tuple[float, float]],
) -> F32:
    """Distance (in the units of ``gx``/``gy``) from every grid point to a polyline."""
    best = np.full(gx.shape, np.inf, dtype=np.float32)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = np.clip(((gx - x0) * dx + (gy - y0) * dy) / length2, 0.0, 1.0)
        dist = np.hypot(gx - (x0 + t * dx), gy - (y0 + t * dy))
        np.minimum(best, dist, out=best)
    return best


def oriented_coords(
    gx: NDArray[np.float32],
    gy: NDArray[np.float32],
    cx: float,
    cy: float,
    heading_deg: float,
) -> tuple[F32, F32]:
    """Along (``u``, towards ``heading``) and across (``v``, to starboard) coordinates.

    ``heading_deg`` is clockwise from grid north; ``gx``/``gy`` are eastings/northings.
    """
    theta = np.deg2rad(heading_deg)
    ex, ey = np.float32(np.sin(theta)), np.float32(np.cos(theta))
    dx, dy = gx - np.float32(cx), gy - np.float32(cy)
    u = dx * ex + dy * ey
    v = dx * ey - dy * ex
    return u.astype(np.float32), v.astype(np.float32)


def shift_fill(array: F32, drow: int, dcol: int, fill: float = 0.0) -> F32:
    """Shift a 2-D array by whole pixels, filling what moves in with ``fill``."""
    out = np.full_like(array, fill)
    rows, cols = array.shape
    r0, r1 = max(drow, 0), rows + min(drow, 0)
    c0, c1 = max(dcol, 0), cols + min(dcol, 0)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = array[r0 - drow : r1 - drow, c0 - dcol : c1 - dcol]
    return out


def cell_hash(i: NDArray[np.int64], j: NDArray[np.int64], salt: int = 0) -> F32:
    """A deterministic pseudo-random value in ``[0, 1)`` per integer cell ``(i, j)``."""
    h = (i.astype(np.uint64) * np.uint64(73856093)) ^ (j.astype(np.uint64) * np.uint64(19349663))
    h ^= np.uint64(salt * 83492791 + 2654435761)
    h = (h ^ (h >> np.uint64(13))) * np.uint64(1274126177)
    h ^= h >> np.uint64(16)
    value: F32 = (h % np.uint64(1_000_003)).astype(np.float32) / np.float32(1_000_003)
    return value


def composite(refl: F32, window: tuple[slice, slice], cover: F32, colour: F32, factor: int) -> None:
    """Lay sub-pixel objects (coverage and premultiplied colour) over a window, in place."""
    area = block_mean(cover, factor)
    mean = block_mean(colour, factor)
    refl[(slice(None), *window)] = refl[(slice(None), *window)] * (1 - area) + mean


def weighted_choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...]) -> str:
    """One name from ``(name, weight)`` pairs."""
    names, weights = zip(*options, strict=True)
    return str(rng.choice(names, p=np.asarray(weights) / sum(weights)))

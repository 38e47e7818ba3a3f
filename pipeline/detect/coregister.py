"""Sub-pixel co-registration of a chip to its AOI's temporal reference, before differencing.

Sentinel-2's multi-temporal co-registration is good to about 0.3-0.5 pixel (1 sigma), so two
scenes of the same grid can disagree by most of a pixel. Differenced against a reference,
half a pixel of shift turns every quay, breakwater and pier edge into a thin bright line on
"water": a row of false ships. So every chip is registered to the reference first:

1. :func:`measure_shift` finds the translation of the chip's NIR against the reference's:
   the whole-pixel peak of the phase correlation (Kuglin and Hines 1975) within
   :data:`MAX_SHIFT_PX`, refined by Gauss-Newton steps (Lucas-Kanade) over the usable
   pixels only, so that cloud, no-data and the AOI's outline, the same in both images, do
   not pull the answer to zero. Only land counts: water moves, glints and freezes. NIR
   carries the land-water edges and the land texture.
2. Each half of the chip (split across its longer side) takes one more step from that
   answer. When the halves disagree by more than :data:`MAX_DISAGREEMENT_PX`, or the chip
   has too few edges across some direction, or the shift exceeds :data:`MAX_SHIFT_PX`, or
   too little of the chip is clear, the shift is not reliable: the scene is *low
   confidence*, and says why.
3. :func:`apply_shift` moves all five bands alike (a Fourier shift on the chip padded by
   mirroring, exact for a band-limited image) onto the reference's grid; the pixels the
   shift brings in from beyond the chip are marked invalid.

A reference is itself a composite of shifted scenes: :func:`register_stack` registers its
inputs to a common frame first (the mean position of all of them, the best estimate of the
true grid when the shifts are zero-mean), or the composite is blurred and its low percentile
eats into every quay.

Pure numpy/scipy; imports neither rasterio nor prefect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import scipy.fft
from numpy.typing import NDArray
from scipy import ndimage as ndi

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

#: The refinement stops when a step is shorter than this, pixels (0.1 m).
TOLERANCE_PX: Final = 0.01
#: A refinement still moving by less than this after :data:`MAX_ITERATIONS` steps is used
#: (the best estimate there is), but the row is low confidence.
LOOSE_TOLERANCE_PX: Final = 0.1
#: Most refinement steps: Gauss-Newton on a PSF-blurred image converges in 3-5.
MAX_ITERATIONS: Final = 10
#: Least mean squared NIR gradient across the weakest direction of the chip (reflectance
#: per pixel, squared): a chip with only parallel edges, or none, cannot fix the shift.
MIN_EDGE_STRENGTH: Final = 1e-7
#: Largest shift accepted, pixels. Sentinel-2's worst multi-temporal misregistration is about
#: 1.5 px; anything beyond 5 px is a failed measurement (clouds, a featureless chip).
MAX_SHIFT_PX: Final = 5.0
#: Two halves of a chip must agree on the shift within this, pixels; a shift measured on
#: cloud edges or moving ships does not repeat across halves. Not tighter: a half whose
#: edges mostly run one way (Rajin's eastern half: the anchorage and a north-south coast)
#: pulls 0.3-0.4 px along them on scenes whose whole-chip shift is right within 0.05 px.
MAX_DISAGREEMENT_PX: Final = 0.75
#: Share of the chip that must be clear (and valid) in the scene for a shift to be measured.
MIN_CLEAR_SHARE: Final = 0.3
#: NIR reflectance below which a reference pixel is water, left out of the registration:
#: open water reflects under 0.05 in NIR, land and concrete over 0.1.
WATER_MAX_NIR: Final = 0.06
#: Tukey's biweight constant, in robust standard deviations of the residual (95 % efficient
#: on Gaussian noise).
TUKEY_C: Final = 4.685
#: Share of the land, the steadiest over time, that registration aligns on (see
#: :func:`stable_pixels`).
STABLE_SHARE: Final = 0.4
#: Shift, pixels, that the spread of a reference's registered looks may owe to residual
#: misregistration at an edge (:func:`stable_pixels` does not count it as change).
SPREAD_PER_EDGE_PX: Final = 0.5
#: Water pixels this close to land still count: they hold the shore's edge.
SHORE_PX: Final = 2
#: Fewest clear land pixels to align on (20 ha).
MIN_LAND_PIXELS: Final = 2000
#: Least spread of NIR reflectance over the usable pixels: below it there is nothing to align.
MIN_TEXTURE: Final = 1e-3
_NIR: Final = 3
#: Mirrored margin added around a chip before its Fourier shift, beyond the shift itself.
_PAD_PX: Final = 8


@dataclass(frozen=True)
class Shift:
    """The translation that puts a chip on its reference's grid."""

    rows: float
    """Rows to move the chip by (positive: down, southwards)."""
    cols: float
    """Columns to move the chip by (positive: right, eastwards)."""
    reliable: bool
    """Whether the measurement passed the checks (see the module docstring)."""
    reason: str | None = None
    """Why it is not reliable, one line."""
    measured: bool = True
    """Whether there is an estimate at all (False: nothing to align on, or it diverged).
    An estimate that failed only the halves' check is still the best guess, and applied."""

    @property
    def magnitude(self) -> float:
        """Length of the shift, pixels."""
        return float(np.hypot(self.rows, self.cols))


NO_SHIFT: Final = Shift(0.0, 0.0, True)


def _prepared(image: F32, usable: Mask) -> F32:
    """Zero-mean over usable pixels, unusable pixels at the mean, tapered by a Hann window."""
    values = image[usable]
    mean = np.float32(values.mean()) if values.size else np.float32(0)
    out = np.where(usable, image, mean).astype(np.float32) - mean
    prepared: F32 = out * _hann(image.shape)
    return prepared


@lru_cache(maxsize=8)
def _hann(shape: tuple[int, ...]) -> F32:
    """The 2-D Hann taper of a chip's shape (every chip of an AOI shares it)."""
    window: F32 = np.outer(np.hanning(shape[0]), np.hanning(shape[1])).astype(np.float32)
    window.setflags(write=False)
    return window


def _whole_pixel_start(fixed: F32, moving: F32, usable: Mask) -> tuple[float, float]:
    """The whole-pixel peak of the phase correlation within :data:`MAX_SHIFT_PX` of zero.

    Searching only plausible shifts matters in winter: ice and snow change a scene so much
    that the global peak can lie a hundred pixels away.
    """
    cross = scipy.fft.rfft2(_prepared(fixed, usable)) * np.conj(
        scipy.fft.rfft2(_prepared(moving, usable))
    )
    cross /= np.maximum(np.abs(cross), 1e-12)
    surface = scipy.fft.irfft2(cross, s=fixed.shape)
    reach = int(MAX_SHIFT_PX)
    offsets = np.r_[0 : reach + 1, -reach:0]
    window = surface[np.ix_(offsets % fixed.shape[0], offsets % fixed.shape[1])]
    row, col = np.unravel_index(int(np.argmax(window)), window.shape)
    return float(offsets[row]), float(offsets[col])


def _moved_band(image: F32, rows: float, cols: float) -> F32:
    """One band moved by ``(rows, cols)``: a Fourier shift on the chip padded by mirroring
    (to a size the FFT is fast at: a prime factor such as 103 makes it ten times slower)."""
    margin = int(np.ceil(np.hypot(rows, cols))) + _PAD_PX
    height, width = (scipy.fft.next_fast_len(n + 2 * margin, real=True) for n in image.shape)
    pads = ((margin, height - image.shape[0] - margin), (margin, width - image.shape[1] - margin))
    padded = np.pad(image, pads, mode="reflect")
    spectrum = ndi.fourier_shift(scipy.fft.rfft2(padded), (rows, cols), n=width)
    whole = scipy.fft.irfft2(spectrum, s=(height, width))
    moved: F32 = whole[margin : margin + image.shape[0], margin : margin + image.shape[1]].astype(
        np.float32
    )
    return moved


@dataclass(frozen=True)
class _Step:
    """One Gauss-Newton step over a set of pixels: the update and how well it is posed."""

    rows: float
    cols: float
    weakest: float
    """Smallest eigenvalue of the normal matrix per pixel: near 0 when the pixels' edges all
    run one way (the aperture problem) and the shift along them is not measured."""


def _gauss_newton(moving: F32, fixed: F32, pixels: Mask) -> _Step:
    """The update of the shift that best explains ``moving - fixed`` by its gradient."""
    gr, gc = (np.asarray(g, dtype=np.float32) for g in np.gradient(moving, axis=(0, 1)))
    residual = (moving - fixed)[pixels].astype(np.float64)
    if residual.size < 2:  # nothing to align on (a half of a chip without shore)
        return _Step(0.0, 0.0, 0.0)
    a, b = gr[pixels].astype(np.float64), gc[pixels].astype(np.float64)
    weight = _tukey(residual)
    wa, wb = weight * a, weight * b
    normal = np.array([[wa @ a, wa @ b], [wa @ b, wb @ b]])
    weakest = float(np.asarray(np.linalg.eigvalsh(normal))[0]) / max(float(weight.sum()), 1.0)
    if weakest <= 0:
        return _Step(0.0, 0.0, 0.0)
    dr, dc = np.linalg.solve(normal, np.array([wa @ residual, wb @ residual]))
    return _Step(float(dr), float(dc), weakest)


def _tukey(residual: NDArray[np.float64]) -> NDArray[np.float64]:
    """Tukey's biweight of each residual: what changed (a ship, ice, a new pier, a cloud's
    edge) weighs nothing, so the shift is the one the unchanged ground agrees on."""
    centre = float(np.median(residual))
    scale = 1.4826 * float(np.median(np.abs(residual - centre)))
    if scale <= 0:
        return np.ones_like(residual)
    u = (residual - centre) / (TUKEY_C * scale)
    weight: NDArray[np.float64] = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
    return weight


def _halves(shape: tuple[int, int]) -> tuple[Mask, Mask]:
    """Two masks splitting a chip across its longer side."""
    rows, cols = shape
    first = np.zeros(shape, bool)
    if cols >= rows:
        first[:, : cols // 2] = True
    else:
        first[: rows // 2] = True
    return first, ~first


def stable_pixels(spread: F32, nir: F32) -> Mask:
    """Pixels to align on: water (only the shore's edge counts, see :func:`measure_shift`)
    and the steadiest :data:`STABLE_SHARE` of the land.

    ``spread`` is how much each pixel's brightness varies over time (its interquartile
    range). What varies most is what moves with the seasons: the edges of cast shadows, which
    lengthen from summer to winter, fields, snow. Aligned on all the land, summer scenes of
    the SIMULATED stress world came out 0.3-0.45 px off in y against a reference of mostly
    winter scenes, a row of false hulls along every quay; on the steadiest land (quays, rock,
    roofs) the error no longer follows the season.
    """
    flat = np.nan_to_num(nir)
    land = flat >= WATER_MAX_NIR
    # A reference's own looks are registered to a tenth of a pixel or so: at an edge that
    # alone spreads the brightness, and it must not make the edge look unsteady.
    gr, gc = np.gradient(flat)
    explained = SPREAD_PER_EDGE_PX * ndi.maximum_filter(np.hypot(gr, gc), size=3)
    unexplained = np.nan_to_num(spread, nan=np.inf) - explained
    values = unexplained[land & np.isfinite(unexplained)]
    if values.size == 0:
        return np.ones(nir.shape, dtype=bool)
    limit = float(np.percentile(values, 100 * STABLE_SHARE))
    steady: Mask = ~land | (unexplained <= limit)
    return steady


def measure_shift(moving: F32, fixed: F32, usable: Mask) -> Shift:
    """The shift that registers ``moving`` (a chip's NIR) onto ``fixed`` (the reference's).

    Phase correlation gives the whole-pixel start; Gauss-Newton steps on the usable pixels
    alone (no fill, no window: what is under cloud or outside the AOI does not pull) refine
    it to :data:`TOLERANCE_PX`. The two halves of the chip then each take one more step from
    the common answer: if they pull apart by more than :data:`MAX_DISAGREEMENT_PX`, or either
    cannot fix the shift across its edges, the shift is not reliable.

    Args:
        moving: ``(rows, cols)`` NIR of the scene.
        fixed: ``(rows, cols)`` NIR of the reference, on the same nominal grid.
        usable: Pixels valid and clear in the scene and with data in the reference (and, for
            a scene against its reference, steady: :func:`stable_pixels`).

    Returns:
        The shift, with ``reliable`` False (and the reason) when it cannot be trusted.
    """
    usable = usable & np.isfinite(moving) & np.isfinite(fixed)
    share = float(usable.mean()) if usable.size else 0.0
    if share < MIN_CLEAR_SHARE:
        return Shift(0.0, 0.0, False, f"only {share:.0%} of the chip clear to align on", False)
    # Only what stays put counts: land, quays and the shore's edge. Open water moves (ships,
    # waves, glint) and freezes. (Masked pixels are filled, never counted: a fill that stood
    # where the water was would draw a coast that does not move and pull the shift to zero.)
    land = usable & (np.nan_to_num(fixed) >= WATER_MAX_NIR)
    if int(land.sum()) < MIN_LAND_PIXELS:
        return Shift(0.0, 0.0, False, "too little clear land to align on", False)
    if min(float(np.std(moving[land])), float(np.std(fixed[land]))) < MIN_TEXTURE:
        return Shift(0.0, 0.0, False, "no texture to register on", False)
    filled_moving = np.where(usable, moving, np.float32(np.mean(moving[usable])))
    filled_fixed = np.where(usable, fixed, np.float32(np.mean(fixed[usable])))
    rows, cols = _whole_pixel_start(filled_fixed, filled_moving, usable)
    # One set of pixels for every step (clear of what the shift brings in from the chip's
    # edge and from masked pixels), or the sum changes under the steps and they oscillate.
    inside = ndi.binary_erosion(usable, iterations=int(np.hypot(rows, cols)) + 3)
    pixels = inside & ndi.binary_dilation(land, iterations=SHORE_PX)
    for _ in range(MAX_ITERATIONS):
        if np.hypot(rows, cols) > MAX_SHIFT_PX:
            length = np.hypot(rows, cols)
            return Shift(rows, cols, False, f"shift of {length:.1f} px is implausible", False)
        step = _gauss_newton(_moved_band(filled_moving, rows, cols), filled_fixed, pixels)
        rows, cols = rows + step.rows, cols + step.cols
        if np.hypot(step.rows, step.cols) < TOLERANCE_PX:
            break
    else:
        if np.hypot(step.rows, step.cols) > LOOSE_TOLERANCE_PX:
            reason = f"did not converge in {MAX_ITERATIONS} steps"
            return Shift(rows, cols, False, reason, False)
        reason = f"converged only to {LOOSE_TOLERANCE_PX} px"
        return Shift(round(rows, 3), round(cols, 3), False, reason)
    if step.weakest < MIN_EDGE_STRENGTH:
        return Shift(round(rows, 3), round(cols, 3), False, "too few edges across to align")
    moved = _moved_band(filled_moving, rows, cols)
    halves = [_gauss_newton(moved, filled_fixed, pixels & h) for h in _halves(moving.shape)]
    apart = float(np.hypot(halves[0].rows - halves[1].rows, halves[0].cols - halves[1].cols))
    if apart > MAX_DISAGREEMENT_PX:
        return Shift(round(rows, 3), round(cols, 3), False, f"halves disagree by {apart:.2f} px")
    return Shift(round(rows, 3), round(cols, 3), True)


def apply_shift(cube: F32, valid: Mask, shift: Shift) -> tuple[F32, Mask]:
    """Move every band of ``cube`` by ``shift`` and mark the wrapped-round edge invalid.

    Args:
        cube: ``(bands, rows, cols)`` reflectance; NaN is allowed (filled for the shift and
            put back, moved to the nearest pixel).
        valid: ``(rows, cols)`` pixels with data.
        shift: From :func:`measure_shift`.

    Returns:
        The shifted cube and its validity.
    """
    if shift.rows == 0.0 and shift.cols == 0.0:
        return cube, valid
    finite = np.logical_and.reduce(np.isfinite(cube), axis=0) & valid
    out = np.empty_like(cube)
    for band in range(cube.shape[0]):
        values = cube[band]
        fill = np.float32(np.median(values[finite])) if finite.any() else np.float32(0)
        # Mirrored edges: a wrap-around step would ring through the whole chip.
        out[band] = _moved_band(np.where(finite, values, fill), shift.rows, shift.cols)
    moved = ndi.shift(finite.astype(np.float32), (shift.rows, shift.cols), order=0, cval=0.0) > 0.5
    # Pixels next to missing data take in the fill through the shift's ringing: drop them.
    grow = int(np.ceil(shift.magnitude)) + 1
    kept: Mask = ndi.binary_erosion(moved, iterations=grow, border_value=0)
    out[:, ~kept] = np.nan
    return out, kept


def register_stack(
    cubes: Sequence[F32], valid: Sequence[Mask]
) -> tuple[list[F32], list[Mask], list[Shift]]:
    """Register chips of one grid to their common mean frame (for building a reference).

    The clearest chip is the anchor; every chip's shift to it is measured, and each chip is
    moved by its shift minus the mean shift, so the frame is the average of all of them.
    A chip whose shift could not be measured at all keeps its pixels but loses its mask
    (it adds nothing to the composite): unregistered, it would blur every edge.

    Args:
        cubes: ``(bands, rows, cols)`` reflectance per chip.
        valid: Pixels valid and clear per chip.

    Returns:
        The moved cubes, their validity and each chip's shift (as applied).
    """
    if not cubes:
        return [], [], []
    anchor = int(np.argmax([float(v.mean()) for v in valid]))
    fixed, fixed_valid = cubes[anchor][_NIR], valid[anchor]
    if not fixed_valid.any() or float(np.nanstd(fixed[fixed_valid])) < MIN_TEXTURE:
        # Nothing to align on, and nothing an unregistered stack could blur either.
        return list(cubes), list(valid), [NO_SHIFT] * len(cubes)
    measured = [
        NO_SHIFT if i == anchor else measure_shift(c[_NIR], fixed, v & fixed_valid)
        for i, (c, v) in enumerate(zip(cubes, valid, strict=True))
    ]
    good = [s for s in measured if s.measured]
    mean_rows = float(np.mean([s.rows for s in good]))
    mean_cols = float(np.mean([s.cols for s in good]))
    moved_cubes, moved_valid, applied = [], [], []
    for cube, mask, shift in zip(cubes, valid, measured, strict=True):
        if not shift.measured:
            moved_cubes.append(cube)
            moved_valid.append(np.zeros_like(mask))
            applied.append(shift)
            continue
        to_mean = Shift(shift.rows - mean_rows, shift.cols - mean_cols, True)
        cube2, mask2 = apply_shift(cube, mask, to_mean)
        moved_cubes.append(cube2)
        moved_valid.append(mask2)
        applied.append(to_mean)
    return moved_cubes, moved_valid, applied

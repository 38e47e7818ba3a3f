"""Ship candidates: hulls afloat (offshore) and hulls moored against the land (shore).

Two physically different situations, two detectors:

- **Offshore.** A hull surrounded by water is a hole in the NDWI water mask, or at
  least a NIR anomaly above the local water background (a CFAR test). It must not touch
  the land; its size must be a ship's.
- **Shore.** A hull moored flush against a quay merges with the land in any water mask.
  A per-pixel classifier (:mod:`pipeline.detect.classifier`) scores the pixels near the
  waterline; ships are the local maxima of that score smoothed at hull scale, spaced at
  least half a short hull apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.detect.features import block_mean
from pipeline.detect.masks import dilate_cross, remove_small

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]
Source = Literal["offshore", "shore", "reference", "berth"]

#: Shortest vessel counted. The labelled sen2ships vessels start at ~45 m (6 px at
#: 7–8 m); Rajin's traders are ~110 m. Shorter blobs are small craft, buoys, noise.
MIN_LENGTH_M: Final = 40.0
#: Longest vessel (a very large crude carrier or container ship is ~400 m).
MAX_LENGTH_M: Final = 450.0
#: NIR excess over the local water background that a hull must show at least: steel
#: decks and hulls reflect ≥ 0.05 in NIR against ~0.01–0.05 for water; 0.02 keeps dark
#: hulls while staying above wave and glint speckle of calm harbour water.
MIN_NIR_CONTRAST: Final = 0.02
#: ... and at least this many local standard deviations of the water's NIR (CFAR).
CFAR_SIGMAS: Final = 4.0
#: Window of the local water statistics for the CFAR test.
CFAR_WINDOW_M: Final = 500.0
#: The CFAR statistics are computed on blocks of this many pixels a side (40 m at 10 m):
#: they describe the water over 500 m, so finer cells add cost, not information.
CFAR_BLOCK: Final = 4
#: The shore classifier scores non-water pixels this close to open water: the seaward
#: two pixels of a moored hull (whose beam is 10–60 m) are enough to recognise it, and
#: the inland pixels of quays and terminals (most of a port) need not be scored.
WATERLINE_REACH_M: Final = 20.0
#: Smoothing of the shore score before peak finding (normalised by the band's own
#: density, so that a lone mixed pixel counts less than a hull's row of pixels).
SHORE_SMOOTH_M: Final = 10.0
#: Two shore peaks closer than this are one ship (half a 120 m hull).
SHORE_PEAK_SPACING_M: Final = 60.0
#: A shore peak's extent: pixels scoring at least this share of the peak, within
#: :data:`SHORE_EXTENT_RADIUS_M` of it.
SHORE_EXTENT_SHARE: Final = 0.5
SHORE_EXTENT_RADIUS_M: Final = 150.0


@dataclass(frozen=True, eq=False)
class Candidate:
    """A possible ship: where it is, which pixels it covers, how sure we are."""

    row: float
    """Centroid row (pixels)."""
    col: float
    """Centroid column (pixels)."""
    rows: NDArray[np.intp]
    """Rows of the candidate's pixels."""
    cols: NDArray[np.intp]
    """Columns of the candidate's pixels."""
    score: float
    """Confidence in ``[0, 1]``."""
    source: Source
    """Which detector found it."""


def _window(metres: float, pixel_size_m: float) -> int:
    return max(3, round(metres / pixel_size_m) | 1)


def water_background(nir: F32, water: Mask, *, pixel_size_m: float) -> tuple[F32, F32]:
    """Local mean and standard deviation of NIR over water pixels (CFAR statistics).

    The statistics vary over hundreds of metres, so they are computed on a grid of
    :data:`CFAR_BLOCK` × :data:`CFAR_BLOCK` block means and repeated back to full size.
    """
    rows, cols = nir.shape
    f = CFAR_BLOCK
    k = _window(CFAR_WINDOW_M, pixel_size_m * f)
    wf = block_mean(water.astype(np.float32), f)
    w_nir = np.where(water, nir, np.float32(0)).astype(np.float32)
    share = ndi.uniform_filter(wf, k, mode="nearest") + np.float32(1e-6)
    mean = ndi.uniform_filter(block_mean(w_nir, f), k, mode="nearest") / share
    mean_sq = ndi.uniform_filter(block_mean(w_nir * w_nir, f), k, mode="nearest") / share
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0))

    def full(a: F32) -> F32:
        out: F32 = np.repeat(np.repeat(a, f, axis=0), f, axis=1)[:rows, :cols]
        return out.astype(np.float32, copy=False)

    return full(mean.astype(np.float32)), full(std.astype(np.float32))


def offshore_candidates(
    nir: F32,
    water: Mask,
    sea: Mask,
    valid: Mask,
    *,
    pixel_size_m: float,
) -> list[Candidate]:
    """Hull-sized bright objects wholly inside the sea.

    Args:
        nir: NIR reflectance.
        water: Open-water mask.
        sea: Sea mask with ship-sized holes filled (:func:`pipeline.detect.masks.sea_mask`).
        valid: Pixels with data.
        pixel_size_m: Ground size of one pixel.

    Returns:
        Candidates that pass the size rules, scored by NIR contrast.
    """
    mean, std = water_background(nir, water, pixel_size_m=pixel_size_m)
    excess = nir - mean
    bright = excess > np.maximum(CFAR_SIGMAS * std, MIN_NIR_CONTRAST)
    objects = sea & valid & (~water | bright)
    objects = remove_small(objects, 2)
    labels, n = ndi.label(objects, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return []
    outside = dilate_cross(~sea | ~valid)
    touching = np.unique(labels[outside & objects])
    out: list[Candidate] = []
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None or i in touching:
            continue
        # A bar's moment length never exceeds its bounding-box diagonal: skip specks
        # (most components) before measuring them.
        diagonal = math.hypot(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
        if diagonal * pixel_size_m < MIN_LENGTH_M:
            continue
        local = labels[sl] == i
        rr, cc = np.nonzero(local)
        rr = rr + sl[0].start
        cc = cc + sl[1].start
        length_px, _ = extent_px(rr, cc)
        if not MIN_LENGTH_M <= length_px * pixel_size_m <= MAX_LENGTH_M:
            continue
        peak = float(excess[rr, cc].max())
        if peak < MIN_NIR_CONTRAST:
            continue
        score = float(1.0 - np.exp(-peak / (2 * MIN_NIR_CONTRAST)))
        out.append(Candidate(float(rr.mean()), float(cc.mean()), rr, cc, score, "offshore"))
    return out


def extent_px(rows: NDArray[np.intp], cols: NDArray[np.intp]) -> tuple[float, float]:
    """Length and width (pixels) of a pixel set, from its second moments.

    A bar of ``n`` pixels has variance ``(n² − 1) / 12`` along its axis, so
    ``n = sqrt(12 λ + 1)`` for each eigenvalue ``λ`` of the covariance.
    """
    if len(rows) < 2:
        return 1.0, 1.0
    cov = np.cov(np.vstack([rows, cols]).astype(np.float64))
    lam = np.sort(np.linalg.eigvalsh(cov))[::-1]
    lam = np.maximum(lam, 0.0)
    return float(np.sqrt(12 * lam[0] + 1)), float(np.sqrt(12 * lam[1] + 1))


def waterline_band(sea: Mask, water: Mask, valid: Mask, *, pixel_size_m: float) -> Mask:
    """Pixels the shore classifier scores: every non-water pixel within
    :data:`WATERLINE_REACH_M` of the sea's open water (a moored hull's seaward side, a
    quay edge, a pier tip, a hull afloat)."""
    reach = max(1, round(WATERLINE_REACH_M / pixel_size_m))
    open_water = (sea & water).view(np.uint8)
    near = ndi.maximum_filter(open_water, size=2 * reach + 1).view(bool)
    band: Mask = near & ~water & valid
    return band


def shore_candidates(
    prob: F32,
    band: Mask,
    *,
    pixel_size_m: float,
    threshold: float,
    exclude: Mask | None = None,
    smooth_m: float = SHORE_SMOOTH_M,
    spacing_m: float = SHORE_PEAK_SPACING_M,
) -> list[Candidate]:
    """Local maxima of the smoothed shore-pixel probability.

    Args:
        prob: Per-pixel ship probability (0 outside the shore band).
        band: The pixels that were scored.
        pixel_size_m: Ground size of one pixel.
        threshold: Minimum smoothed probability of a peak.
        exclude: Pixels where a peak is not reported (offshore detections).
        smooth_m: Gaussian smoothing (metres) of the probability over the band.
        spacing_m: Two peaks closer than this are one ship.

    Returns:
        One candidate per peak, scored by the smoothed probability.
    """
    if smooth_m > 0:
        sigma = smooth_m / pixel_size_m
        weight = ndi.gaussian_filter(band.astype(np.float32), sigma) + np.float32(1e-3)
        smooth = np.where(band, ndi.gaussian_filter(prob, sigma) / weight, np.float32(0))
    else:
        smooth = prob
    spacing = max(1, round(spacing_m / pixel_size_m))
    local_max = ndi.maximum_filter(smooth, size=2 * spacing + 1, mode="constant")
    peaks = (smooth == local_max) & (smooth >= threshold)
    if exclude is not None:
        peaks &= ~exclude
    radius = max(1, round(SHORE_EXTENT_RADIUS_M / pixel_size_m))
    rows_n, cols_n = prob.shape
    out: list[Candidate] = []
    for r, c in zip(*np.nonzero(peaks), strict=True):
        peak = float(smooth[r, c])
        r0, r1 = max(0, r - radius), min(rows_n, r + radius + 1)
        c0, c1 = max(0, c - radius), min(cols_n, c + radius + 1)
        above = smooth[r0:r1, c0:c1] >= SHORE_EXTENT_SHARE * peak
        labels, _ = ndi.label(above)
        own = labels == labels[r - r0, c - c0]
        rr, cc = np.nonzero(own)
        out.append(Candidate(float(r), float(c), rr + r0, cc + c0, peak, "shore"))
    return out

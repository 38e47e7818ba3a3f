"""Reference mode: a hull is something new on what the empty-water composite shows as water.

The reference is a low-percentile composite of clear scenes of the same AOI on the same
grid (:mod:`pipeline.detect.reference`). Its water mask is the basin, *including* berths that
are usually empty, so a ship moored flush against a quay is simply a bright object on
reference water, which single-date mode cannot see. Steps:

1. the basin: the sea mask (:func:`pipeline.detect.masks.sea_mask`) of the reference;
2. the NIR excess of the scene over the reference, minus its local background over the
   basin (haze, turbidity, sun glint and calibration drift move whole areas at once),
   tested against :data:`CFAR_SIGMAS` robust standard deviations (CFAR);
3. each 8-connected object is a hull if it is ship-sized and its excess has a hull's
   colour (not snow or ice, not haze or thin cloud, see the constants; a hull-shaped
   object with snow on its deck is still a hull);
4. an object too wide for one hull of its length is split along its axis into two hulls
   berthed abreast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.detect.candidates import (
    MAX_LENGTH_M,
    MIN_LENGTH_M,
    MIN_NIR_CONTRAST,
    Candidate,
    Source,
    extent_px,
)
from pipeline.detect.masks import NDWI_WATER, ndwi, sea_mask, water_mask

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

#: The excess over the local background must exceed this many robust standard deviations
#: (1.4826 × MAD over the basin) of the scene-minus-reference NIR difference: with
#: ~1e5 basin pixels a Gaussian tail at 5 σ gives well under one false pixel per chip.
CFAR_SIGMAS: Final = 5.0
#: Window of the local background of the NIR excess: wider than the longest hull so
#: that a ship does not raise its own background, narrow enough to follow haze.
BACKGROUND_WINDOW_M: Final = 300.0
#: Snow and ice are bright in NIR but nearly black in SWIR (1.6 µm is absorbed by ice);
#: hull steel, paint and decks reflect about as much SWIR as NIR. An object whose SWIR
#: excess is below this share of its NIR excess is ice or snow, not a ship.
ICE_SWIR_SHARE: Final = 0.3
#: Haze, thin cloud, whitecaps and glint brighten blue about as much as NIR (a flat or
#: blue-tilted spectrum). Hulls and decks over water raise NIR far more than blue
#: (water is darkest in NIR). An object whose blue excess reaches this share of its NIR
#: excess is haze or cloud, not a ship.
HAZE_BLUE_SHARE: Final = 0.85
#: The MSI point-spread function and mixed edge pixels widen every object by about one
#: 10 m pixel; this is removed from the measured width before the aspect test.
PSF_WIDENING_M: Final = 10.0
#: Merchant hulls have beam / length ≈ 0.12–0.18; two hulls berthed abreast make an
#: object with width / length ≥ 0.3. Above this (de-blurred) aspect, the object is two.
ABREAST_ASPECT: Final = 0.22
#: A deck under snow is dark in SWIR as well (issue 14 point 5), but not as dark as snow or
#: ice alone: its rim, bridge and uncovered plating keep some SWIR. An object below
#: :data:`ICE_SWIR_SHARE` is still a hull when its SWIR excess reaches this share of its NIR
#: excess, it has a hull's shape (:func:`hull_shaped`) and it lies on what the reference
#: sees as water (snow on a quay edge inside the basin does not). Snow-covered ice over water
#: gives about 0.1 (the simulator's snowy sea ice 0.11); a snowy deck 0.15-0.3. Such a deck
#: is as white as haze (blue about NIR), so :data:`HAZE_BLUE_SHARE` does not apply to it:
#: haze over water keeps about half its NIR excess in the SWIR, above :data:`ICE_SWIR_SHARE`.
SNOWY_DECK_SWIR_SHARE: Final = 0.12
#: A hull's shape: as broad as a hull (merchant beam / length 0.12-0.18, so a de-blurred
#: aspect of at least about half that: snow along a quay edge or a breakwater is a line one
#: pixel wide, aspect about 0), at most two hulls abreast wide, and filling most of the box
#: its second moments span (:func:`pipeline.detect.candidates.extent_px`; a filled rectangle
#: or ellipse gives about 1). Floes and the broken edges of leads are broad or ragged.
HULL_MIN_ASPECT: Final = 0.06
#: A snowy deck is bright: snow fills a good part of the one or two pixels across the hull
#: (snow's NIR is about 0.7). Fainter white objects are fog and haze puffs.
SNOWY_DECK_MIN_EXCESS: Final = 0.15
#: ... and it stands alone: within :data:`ISOLATION_WINDOW_M` the other pixels (water and
#: land) stay below this share of its peak excess at their 90th percentile. Snow lying on
#: the rocks of a shoreline (reference water in some looks) is one patch of a snowy shore;
#: a hull at a snowy quay has open water on its other side.
ISOLATION_WINDOW_M: Final = 100.0
ISOLATION_SHARE: Final = 0.5
HULL_MAX_ASPECT: Final = 2 * ABREAST_ASPECT
HULL_MIN_FILL: Final = 0.55

#: Misregistration left after co-registration, pixels (the measured shifts of simulated
#: scenes are within about 0.1-0.15 px of the truth): differences it explains at the
#: reference's edges are not hulls.
RESIDUAL_SHIFT_PX: Final = 0.25

#: Basin statistics (medians, MADs) use at most about this many pixels, evenly strided:
#: the standard error of a median of 2e4 samples is under 1 % of the noise level.
MAX_STAT_SAMPLES: Final = 20_000

_BLUE, _NIR, _SWIR = 0, 3, 4


def hull_shaped(n_pixels: int, length_px: float, width_px: float, aspect: float) -> bool:
    """Whether an object has a hull's shape: a hull's breadth (de-blurred ``aspect`` from
    :data:`HULL_MIN_ASPECT` to :data:`HULL_MAX_ASPECT`) and compact (its pixels fill at least
    :data:`HULL_MIN_FILL` of ``length_px × width_px``)."""
    broad_as_a_hull = HULL_MIN_ASPECT <= aspect <= HULL_MAX_ASPECT
    return broad_as_a_hull and n_pixels >= HULL_MIN_FILL * length_px * width_px


def stands_alone(
    excess: F32,
    others: Mask,
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    peak: float,
    pixel_size_m: float,
) -> bool:
    """Whether the ``others`` pixels within :data:`ISOLATION_WINDOW_M` of an object stay
    below :data:`ISOLATION_SHARE` of its ``peak`` excess (90th percentile)."""
    reach = max(1, round(ISOLATION_WINDOW_M / pixel_size_m))
    r0, c0 = max(int(rows.min()) - reach, 0), max(int(cols.min()) - reach, 0)
    r1, c1 = int(rows.max()) + reach + 1, int(cols.max()) + reach + 1
    around = excess[r0:r1, c0:c1][others[r0:r1, c0:c1]]
    return around.size == 0 or float(np.percentile(around, 90)) <= ISOLATION_SHARE * peak


def _sample(values: F32) -> F32:
    """Every n-th value, so that at most about :data:`MAX_STAT_SAMPLES` remain."""
    step = max(1, values.size // MAX_STAT_SAMPLES)
    out: F32 = values[::step]
    return out


def _window(metres: float, pixel_size_m: float) -> int:
    return max(3, round(metres / pixel_size_m) | 1)


def _robust_sigma(values: F32) -> float:
    """1.4826 × median absolute deviation: the standard deviation of Gaussian noise."""
    if values.size == 0:
        return 0.0
    few = _sample(values)
    med = float(np.median(few))
    return 1.4826 * float(np.median(np.abs(few - med)))


def nir_excess(
    reflectance: F32, reference: F32, basin: Mask, *, pixel_size_m: float
) -> tuple[F32, float]:
    """Scene-minus-reference NIR, minus its local background over the basin.

    Returns:
        The excess image and its robust noise level over the basin.
    """
    diff = reflectance[_NIR] - reference[_NIR]
    values = diff[basin]
    if values.size == 0:
        return np.zeros_like(diff), 0.0
    med = float(np.median(_sample(values)))
    # Hulls must not lift the background: clip each basin pixel at 3 σ above the median.
    cap = np.float32(med + 3.0 * max(_robust_sigma(values), 1e-4))
    k = _window(BACKGROUND_WINDOW_M, pixel_size_m)
    share = ndi.uniform_filter(basin.astype(np.float32), k) + np.float32(1e-6)
    clipped = np.where(basin, np.minimum(diff, cap), np.float32(0)).astype(np.float32)
    background = ndi.uniform_filter(clipped, k) / share
    excess: F32 = (diff - background).astype(np.float32)
    return excess, _robust_sigma(excess[basin])


def _band_excess(reflectance: F32, reference: F32, band: int, basin: Mask) -> F32:
    diff = reflectance[band] - reference[band]
    med = np.float32(np.median(_sample(diff[basin]))) if basin.any() else np.float32(0)
    out: F32 = (diff - med).astype(np.float32)
    return out


def split_abreast(
    rows: NDArray[np.intp], cols: NDArray[np.intp]
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Split a pixel set in two along its major axis (two hulls side by side)."""
    coords = np.vstack([rows, cols]).astype(np.float64)
    centre = coords.mean(axis=1, keepdims=True)
    _, vecs = np.linalg.eigh(np.cov(coords))
    across = vecs[:, 0] @ (coords - centre)  # eigenvector of the smallest eigenvalue
    halves = [across < 0, across >= 0]
    return [(rows[h], cols[h]) for h in halves if h.any()]


@dataclass(frozen=True, eq=False)
class PreparedReference:
    """An empty-water composite with its basin computed once (it is the same every scene).

    Build it with :func:`prepare_reference` and pass it as ``reference`` to
    :func:`pipeline.detect.ships.detect_ships`; a plain array works too, but then the
    basin is recomputed on every call.
    """

    values: F32
    """``(5, rows, cols)`` reflectance, no-data set to 0."""
    basin: Mask
    """The reference's sea: water bodies of harbour size, ship-sized holes filled."""
    pixel_size_m: float
    """Ground size of one pixel the basin was computed for."""
    edge_allowance: F32 | float = 0.0
    """Per pixel, the NIR difference a residual misregistration of
    :data:`RESIDUAL_SHIFT_PX` makes at the reference's edges (added to the threshold)."""
    berths: Mask | None = None
    """Usually occupied berths, where the composite is the looks in which each was seen
    empty (:mod:`pipeline.detect.berths`): hulls found there have ``source`` "berth"."""

    def __post_init__(self) -> None:
        if self.values.ndim != 3 or self.values.shape[1:] != self.basin.shape:
            raise ValueError(f"reference {self.values.shape} and basin {self.basin.shape} disagree")


def prepare_reference(
    reference: NDArray[np.floating],
    *,
    pixel_size_m: float,
    valid: Mask | None = None,
    berths: Mask | None = None,
) -> PreparedReference:
    """Clean a composite (NaN → 0) and compute its basin once.

    Args:
        reference: ``(5, rows, cols)`` empty-water composite.
        pixel_size_m: Ground size of one pixel.
        valid: Pixels where the composite has data (default: where all bands are finite).
        berths: Usually occupied berths (see :attr:`PreparedReference.berths`): added to
            the basin even where the composite there is not water (a berth never seen
            empty), so that the basin does not stop short of a quay where a ship usually
            lies.
    """
    values = np.array(reference, dtype=np.float32)
    finite: Mask = np.logical_and.reduce(np.isfinite(values), axis=0)
    values[:, ~finite] = 0
    ok = finite if valid is None else finite & valid
    water = water_mask(values, ok)
    if berths is not None:
        water |= berths & ok
    basin = sea_mask(water, pixel_size_m=pixel_size_m) & ok
    return PreparedReference(values, basin, pixel_size_m, edge_allowance(values[_NIR]), berths)


def edge_allowance(nir: F32) -> F32:
    """What a residual shift of :data:`RESIDUAL_SHIFT_PX` changes NIR by, per pixel.

    Co-registration leaves about a tenth of a pixel; at a cliff or a quay with 0.3 of NIR
    contrast per pixel that alone is a few hundredths, a "hull" along the whole shore. The
    allowance is the NIR gradient's magnitude (the steepest neighbour difference, so a pixel
    beside the edge gets it too) times the residual shift.
    """
    gr, gc = np.gradient(nir)
    steep = ndi.maximum_filter(np.hypot(gr, gc), size=3)
    allowance: F32 = (RESIDUAL_SHIFT_PX * steep).astype(np.float32)
    return allowance


def reference_candidates(
    reflectance: F32,
    prepared: PreparedReference,
    valid: Mask,
    *,
    pixel_size_m: float,
) -> list[Candidate]:
    """Hulls as new, hull-coloured, ship-sized NIR excess on the reference's water.

    Args:
        reflectance: ``(5, rows, cols)`` scene reflectance.
        prepared: The empty-water composite on the same grid, with its basin.
        valid: Pixels with data in the scene.
        pixel_size_m: Ground size of one pixel.

    Returns:
        One candidate per hull (two for hulls abreast), scored by NIR excess.
    """
    reference = prepared.values
    basin = prepared.basin & valid
    excess, sigma = nir_excess(reflectance, reference, basin, pixel_size_m=pixel_size_m)
    threshold = max(MIN_NIR_CONTRAST, CFAR_SIGMAS * sigma) + prepared.edge_allowance
    labels, n = ndi.label(basin & (excess > threshold), structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return []
    blue = _band_excess(reflectance, reference, _BLUE, basin)
    swir = _band_excess(reflectance, reference, _SWIR, basin)
    out: list[Candidate] = []
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None:
            continue
        rr, cc = np.nonzero(labels[sl] == i)
        rr, cc = rr + sl[0].start, cc + sl[1].start
        length_px, width_px = extent_px(rr, cc)
        length_m = length_px * pixel_size_m
        if not MIN_LENGTH_M <= length_m <= MAX_LENGTH_M:
            continue
        nir_mean = float(excess[rr, cc].mean())
        aspect = (width_px * pixel_size_m - PSF_WIDENING_M) / length_m
        swir_share = float(swir[rr, cc].mean()) / nir_mean
        peak = float(excess[rr, cc].max())
        snowy_deck = (
            SNOWY_DECK_SWIR_SHARE <= swir_share < ICE_SWIR_SHARE
            and peak >= SNOWY_DECK_MIN_EXCESS
            and hull_shaped(len(rr), length_px, width_px, aspect)
            and float(np.mean(ndwi(reference[:, rr, cc]) > NDWI_WATER)) >= 0.5
            and stands_alone(excess, labels != i, rr, cc, peak, pixel_size_m)
        )
        if swir_share < ICE_SWIR_SHARE and not snowy_deck:
            continue  # snow or ice
        if not snowy_deck and float(blue[rr, cc].mean()) >= HAZE_BLUE_SHARE * nir_mean:
            continue  # haze or thin cloud (a snowy deck is as white, but hull-shaped)
        score = float(1.0 - np.exp(-peak / (2 * MIN_NIR_CONTRAST)))
        parts = split_abreast(rr, cc) if aspect > ABREAST_ASPECT else [(rr, cc)]
        on_berth = prepared.berths is not None and bool(prepared.berths[rr, cc].mean() >= 0.5)
        source: Source = "berth" if on_berth else "reference"
        for pr, pc in parts:
            out.append(Candidate(float(pr.mean()), float(pc.mean()), pr, pc, score, source))
    return out

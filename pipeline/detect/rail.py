"""Railcar-equivalents at a railhead: occupied track length measured against a reference.

What 10 m pixels can show: a Russian four-axle gondola is 13.92 m over couplers and
3.2 m wide, so one car covers about 1.4 × 0.3 pixels and yard tracks lie 4.5–5.5 m apart,
two to a pixel. Cars cannot be counted one by one. What *can* be measured is how much of
each pixel something new covers compared with the empty yard. The method:

1. Compare the scene with what the empty yard looks like that day: the per-pixel model of
   the bare ground by the day's wetness and sun (:mod:`pipeline.detect.yard_model`), or
   the temporal reference's median of clear scenes where there is no model, after
   matching the scene's overall brightness to it with a robust per-band gain.
2. Linear unmixing per pixel: ``scene = (1 - f) * reference + f * car``, solved for the
   covered fraction ``f`` against dark (black steel, coal) and rust-coloured car surfaces,
   alone or mixed, non-negative; the best fit wins, with a penalty for the extra surface.
   Light-coloured cars (white box cars, bare tanks) are a third surface: see
   :data:`SURFACE_MIXES`.
3. Pixels whose ``f`` is below the noise floor of this scene (3 robust σ of ``f`` over the
   yard, at least :data:`MIN_COVER`) count as empty.
4. Covered area ``Σ f × pixel area`` → occupied track length ÷ the width a string darkens:
   the car's 3.2 m, plus the ballast its shadow darkens beside it when the sun is low
   (see :func:`estimate_railcars`), times body/pitch (a string covers 12.7 m of every
   13.92 m) → railcar-equivalents ÷ 14 m.
5. The interval combines the noise of the sum (±2σ√n), car widths of 2.9–3.4 m, car
   heights and whether the shadow falls on bare ground or a neighbouring string, car
   pitches of 13.9–15 m and a ±20 % method error measured on simulated truth. It does not
   cover a yard whose median is not empty (occupied in most clear scenes), snow the SCL
   misses, or trains under thin cloud.

Pure numpy; imports neither rasterio nor prefect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from scipy import ndimage as ndi
from shapely.geometry.base import BaseGeometry

from pipeline.geo.projection import reproject

#: Length of a Russian four-axle gondola (12-132) over couplers, metres.
CAR_PITCH_M: Final = 13.92
#: Its body length: a coupled string leaves ~1.2 m of bare track between bodies.
CAR_BODY_M: Final = 12.7
#: Its body width, metres.
CAR_WIDTH_M: Final = 3.2
#: Railcar-equivalent: occupied track length divided by this (README.md: "length ÷ ~14 m").
EQUIVALENT_LENGTH_M: Final = 14.0
#: Range of car lengths over couplers met at the border (gondolas 13.9 m to tank cars 15 m).
PITCH_RANGE_M: Final = (13.9, 15.0)
#: Range of car body widths (tank cars are narrower, hoppers wider).
WIDTH_RANGE_M: Final = (2.9, 3.4)
#: Smoothed covered fraction below which a pixel counts as empty, whatever the noise:
#: 3 % of a 10 m pixel is 3 m²; one car along a track covers ~13 % of three pixels.
MIN_COVER: Final = 0.03
#: Relative error of the method itself beyond noise and car sizes (a reference that is not
#: quite empty, blur spilling cover below the noise floor, mixed surfaces): the median
#: relative error measured by ``rasonwatch bench sim`` on the demo archive was 0.12 with
#: a long tail, so the interval is widened by ±20 %.
METHOD_RELATIVE_ERROR: Final = 0.2
#: Smallest occupied region, pixels: two coupled cars span ~3 pixels along a track.
MIN_STRING_PX: Final = 3
#: Noise floor in robust standard deviations of the covered fraction over the yard.
NOISE_SIGMAS: Final = 3.0
#: Most passes of measuring the noise without the strings found (see :func:`_occupied`).
NOISE_PASSES: Final = 2
#: Car surfaces as reflectance in blue, green, red, NIR and SWIR-1.6 µm: black paint or
#: coal (flat and dark), iron-oxide rust (red and NIR rising, as hematite does), and light
#: paint or container boxes (bright and flat). Any car is a mix these span well enough.
CAR_SURFACES: Final = np.array(
    [
        [0.035, 0.037, 0.040, 0.048, 0.055],
        [0.060, 0.060, 0.105, 0.175, 0.220],
        [0.300, 0.300, 0.290, 0.320, 0.300],
    ],
    dtype=np.float32,
)

#: Height of a car's top above the ballast, metres: a 12-132 gondola stands 3.5 m above the
#: rail head, on ~0.2 m of rail and sleeper; hoppers and tank cars stand up to 4.7 m.
CAR_HEIGHT_M: Final = 3.7
#: Range of car heights above the ballast (open flat wagons to tank cars).
CAR_HEIGHT_RANGE_M: Final = (3.2, 4.9)
#: Bare ground between cars on neighbouring tracks: centres 4.8-5.3 m apart, less a car.
NEIGHBOUR_GAP_M: Final = 1.8
#: Share of the light a shadow takes away, per band: the direct sun, leaving the skylight
#: (clear-sky diffuse shares of roughly 0.30 in blue falling to 0.07 at 1.6 µm).
SHADOW_LOSS: Final = np.array([0.70, 0.78, 0.83, 0.89, 0.93], dtype=np.float32)

#: Which surfaces the unmixing may use: dark, rust or light alone, and dark with rust (a
#: coal train beside an empty gondola string). Light cars (white box cars, bare tank cars)
#: are measured: left out, half a light-car yard read -0.80 relative (SIMULATED, issue 13).
#: Light with rust is out: together they span enough directions to fit the noise of bare
#: ballast (a yard of noise read three times its cars). Dark with light is out too: half
#: black and half white is grey ballast. Haze and frost brighten ballast as light paint
#: does; the scene's per-band gain takes out what is uniform over the yard.
SURFACE_MIXES: Final = ((0,), (1,), (2,), (0, 1))


@dataclass(frozen=True)
class RailEstimate:
    """Occupancy of the yard zones in one scene."""

    occupied_track_m: float
    """Occupied track length, metres."""
    railcar_equivalents: float
    """Occupied length ÷ 14 m."""
    railcar_low: float
    """Lower end of the interval of railcar-equivalents."""
    railcar_high: float
    """Upper end of the interval."""
    measured_fraction: float
    """Share of the yard's pixels that were clear and had a reference."""
    shadow_width_m: float = 0.0
    """Width of bare ground a string's shadow darkens beside it and that was read as
    cover, metres (taken out of the estimate)."""


def sum_of_zones(estimates: Sequence[RailEstimate], pixels: Sequence[int]) -> RailEstimate:
    """The AOI's estimate as the sum of its yard zones' (issue 14: the total of a yard and a
    yard must not read below either of them).

    Each zone's noise floor comes from its own track bed; one floor over both beds put a
    busy yard's spread into the quiet one's and the other way round, so the AOI total was
    not the sum of its parts (SIMULATED 2019-2023 demo: in 19 of the 111 scenes whose track
    was measured to 0.9 it read below the Khasan yard alone; 0 of 111 since). Lengths,
    equivalents and the interval's ends add (the ends of 95 % intervals added give at least
    95 %: an honest, wide interval); the measured share and the shadow width are means
    weighted by each zone's track pixels.

    Args:
        estimates: one estimate per zone, zones not overlapping.
        pixels: each zone's track pixels (the weights).

    Raises:
        ValueError: no zones, or estimates and weights of different lengths.
    """
    if not estimates or len(estimates) != len(pixels):
        raise ValueError(f"{len(estimates)} zone estimates for {len(pixels)} weights")
    weights = np.asarray(pixels, dtype=np.float64)
    share = (
        weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1 / len(weights))
    )
    return RailEstimate(
        occupied_track_m=sum(e.occupied_track_m for e in estimates),
        railcar_equivalents=sum(e.railcar_equivalents for e in estimates),
        railcar_low=sum(e.railcar_low for e in estimates),
        railcar_high=sum(e.railcar_high for e in estimates),
        measured_fraction=float(np.dot(share, [e.measured_fraction for e in estimates])),
        shadow_width_m=float(np.dot(share, [e.shadow_width_m for e in estimates])),
    )


def track_heading(mask: NDArray[np.bool_]) -> float:
    """Heading of the yard's tracks, degrees clockwise from north in [0, 180).

    The principal axis of the track bed's pixels (a yard is long along its tracks), on a
    north-up grid. NaN for fewer than two pixels.
    """
    rows, cols = np.nonzero(mask)
    if rows.size < 2:
        return math.nan
    east, north = cols - cols.mean(), rows.mean() - rows
    _, vectors = np.linalg.eigh(np.cov(np.vstack([east, north])))
    axis_east, axis_north = vectors[:, -1]
    return math.degrees(math.atan2(axis_east, axis_north)) % 180.0


def shadow_cover(reference: NDArray[np.float32], usable: NDArray[np.bool_]) -> float:
    """The cover the unmixing reads on bare ground in a car's shadow (0-1, typically ~1).

    Shadowed ground keeps only the skylight (:data:`SHADOW_LOSS`); measured along the
    dark-car direction, as :func:`covered_fraction` measures a dark car.
    """
    r = reference[:, usable].astype(np.float64)
    if r.size == 0:
        return 0.0
    direction = CAR_SURFACES[0].astype(np.float64)[:, None] - r
    darkening = -SHADOW_LOSS.astype(np.float64)[:, None] * r
    share = (darkening * direction).sum(axis=0) / np.maximum((direction**2).sum(axis=0), 1e-9)
    return float(np.clip(np.median(share), 0.0, 1.0))


def zone_mask(
    zones: Sequence[BaseGeometry], *, transform: Affine, epsg: int, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """True at pixels whose centre lies in any of the WGS84 ``zones``."""
    rows, cols = shape
    xs = transform.c + (np.arange(cols) + 0.5) * transform.a
    ys = transform.f + (np.arange(rows) + 0.5) * transform.e
    grid_x, grid_y = np.meshgrid(xs, ys)
    mask = np.zeros(shape, dtype=bool)
    for zone in zones:
        mask |= np.asarray(shapely.contains_xy(reproject(zone, dst_epsg=epsg), grid_x, grid_y))
    return mask


def covered_fraction(
    scene: NDArray[np.float32],
    reference: NDArray[np.float32],
    usable: NDArray[np.bool_],
    *,
    match_brightness: bool = True,
) -> NDArray[np.float32]:
    """Per-pixel fraction covered by car-like surfaces, 0 outside ``usable``.

    Non-negative unmixing of ``scene - gain * reference`` over each of
    :data:`SURFACE_MIXES` (two tracks share a pixel, so a coal gondola and a rusty one
    can both be in it). A mix of two surfaces must lower the residual by more than the
    noise it could fit (twice the noise variance per extra surface, as AIC does).

    Args:
        scene: ``(5, rows, cols)`` reflectance.
        reference: ``(5, rows, cols)`` empty-yard reflectance.
        usable: Pixels to unmix (clear, with a reference).
        match_brightness: Scale the reference to the scene's median per band first. Off
            when the reference already is the day's empty ground: a yard full of cars
            moves its own median, and matching it would hide the cars.
    """
    x = scene[:, usable].astype(np.float64)  # (5, n)
    r = reference[:, usable].astype(np.float64)
    gain = np.ones((x.shape[0], 1))
    if match_brightness:
        gain = np.median(x, axis=1, keepdims=True) / np.maximum(
            np.median(r, axis=1, keepdims=True), 1e-4
        )
    delta = (x - gain * r).T  # (n, 5)
    # What full cover by each surface would change: (n, 5, surfaces)
    directions = np.moveaxis(
        CAR_SURFACES.astype(np.float64)[:, :, None] - gain * r, 0, -1
    ).transpose(1, 0, 2)
    empty = (delta**2).sum(axis=1)
    fits = [(0, empty, np.zeros_like(empty))]  # nothing new on the pixel
    for subset in SURFACE_MIXES:
        size = len(subset)
        a = directions[:, :, subset]  # (n, 5, k)
        ata = np.einsum("nbk,nbj->nkj", a, a) + 1e-9 * np.eye(size)
        coef = np.linalg.solve(ata, np.einsum("nbk,nb->nk", a, delta)[..., None])[..., 0]
        residual = ((delta - np.einsum("nbk,nk->nb", a, coef)) ** 2).sum(axis=1)
        feasible = (coef >= 0).all(axis=1)
        fits.append((size, np.where(feasible, residual, np.inf), coef.sum(axis=1)))
    # Noise variance per band, from the typical pixel (most yard pixels hold no train).
    noise = float(np.median(empty)) / delta.shape[1]
    scores = np.array([res + 2.0 * size * noise for size, res, _ in fits])
    totals = np.array([total for _, _, total in fits])
    best = np.argmin(scores, axis=0)
    cover = np.where(np.isfinite(scores.min(axis=0)), totals[best, np.arange(best.size)], 0.0)
    out = np.zeros(usable.shape, dtype=np.float32)
    out[usable] = np.clip(cover, 0.0, 1.0)
    return out


def _occupied(
    f: NDArray[np.float32],
    usable: NDArray[np.bool_],
    *,
    unbiased: bool = False,
    spill: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.bool_], float, float]:
    """Pixels that belong to strings of cars, the noise bias of ``f`` and its robust σ.

    The bias is the yard's median cover (most of a yard is empty ballast), or 0 when
    ``unbiased`` (the reference is the day's own empty ground: a yard full of cars has a
    median cover above 0, and taking it for noise would hide them).

    Cars stand in strings along tracks, noise is pixel by pixel: a 3×3 mean of ``f``
    keeps a string's cover (it spans ≥ 3 pixels) and shrinks noise threefold. Regions
    above the noise floor, grown by one pixel to take in a string's fringe, and of at
    least :data:`MIN_STRING_PX` pixels, are occupied. The noise, and where a string
    starts, come from ``usable`` alone; the grown fringe may reach into ``spill`` too.

    The noise is measured on the pixels left once the strings found are taken out, and
    the strings are found again with it, up to :data:`NOISE_PASSES` times: on pixels
    near the tracks only, a busy yard's cars are much of the pixels, and their spread
    taken for noise raises the floor (SIMULATED fresh world, Tumangang yard: median
    relative error 0.24 with one pass, 0.18 with two; more passes changed nothing but
    an empty October). A yard whose cars are most of its pixels still reads low.
    """
    reach = usable if spill is None else usable | spill
    values = f[usable]
    bias = 0.0 if unbiased else float(np.median(values))
    smooth = ndi.uniform_filter(np.where(reach, f, bias).astype(np.float32), size=3)
    background = usable
    occupied = np.zeros_like(usable)
    for _ in range(NOISE_PASSES):
        s_values = smooth[background]
        if s_values.size < MIN_STRING_PX:
            break
        s_sigma = 1.4826 * float(np.median(np.abs(s_values - np.median(s_values))))
        seeds = (smooth >= bias + max(MIN_COVER, NOISE_SIGMAS * s_sigma)) & usable
        labels, n = ndi.label(seeds, structure=np.ones((3, 3), dtype=bool))
        if n:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            seeds = sizes[labels] >= MIN_STRING_PX
        occupied = ndi.binary_dilation(seeds, structure=np.ones((3, 3), dtype=bool)) & reach
        rest = usable & ~occupied
        if np.array_equal(rest, background):
            break
        background = rest
    rest_values = f[background] if background.any() else values
    sigma = 1.4826 * float(np.median(np.abs(rest_values - bias)))
    return occupied, bias, sigma


def estimate_railcars(
    reflectance: NDArray[np.float32],
    reference: NDArray[np.float32],
    *,
    yard: NDArray[np.bool_],
    clear: NDArray[np.bool_],
    pixel_size_m: float = 10.0,
    shadow_per_height: float = 0.0,
    modelled_ground: bool = False,
    spill: NDArray[np.bool_] | None = None,
) -> RailEstimate:
    """Occupied track length and railcar-equivalents in the yard pixels of one scene.

    A string of cars darkens more than its own width: its shadow falls on the ballast
    beside it, and shadowed ballast reads as a dark car. Across the tracks the shadow is
    ``height × shadow_per_height`` wide. Beside an empty track all of it lies on bare
    ground; beside an occupied one only the gap between the cars does (the rest falls on
    the neighbour's cars, dark already). Which it is cannot be told at 10 m, so the
    estimate takes the middle and the interval spans both (and car heights of
    :data:`CAR_HEIGHT_RANGE_M`). Uncorrected, a yard of east-west tracks read about twice
    its cars from October to February (SIMULATED).

    Args:
        reflectance: ``(5, rows, cols)`` scene reflectance.
        reference: ``(5, rows, cols)`` empty-yard reference (median of clear scenes, or
            the day's modelled empty ground).
        yard: Pixels inside the yard zones.
        clear: Pixels with data and seen clear.
        pixel_size_m: Ground size of a pixel.
        shadow_per_height: Across-track length of a shadow per metre of height:
            ``cot(sun elevation) × |sin(sun azimuth - track heading)|``; 0 ignores shadows.
        modelled_ground: ``reference`` is the day's modelled empty ground
            (:mod:`pipeline.detect.yard_model`), not a median: it is not matched to the
            scene's brightness (see :func:`covered_fraction`), and the yard's median cover
            is not taken for noise bias (a yard full of cars has a median above 0).
        spill: Pixels beside the track that a car's signal reaches (blur,
            misregistration; :mod:`pipeline.detect.tracks`): a string detected on ``yard``
            counts its cover there too, but nothing there starts a string or sets the
            noise floor.

    Raises:
        ValueError: shapes disagree.
    """
    if reflectance.shape != reference.shape or yard.shape != reflectance.shape[1:]:
        raise ValueError(
            f"shapes disagree: scene {reflectance.shape}, reference {reference.shape}, "
            f"yard {yard.shape}"
        )
    usable = (
        yard & clear & np.isfinite(reference).all(axis=0) & np.isfinite(reflectance).all(axis=0)
    )
    n_yard = int(yard.sum())
    measured = float(usable.sum() / n_yard) if n_yard else 0.0
    if not usable.any():
        return RailEstimate(0.0, 0.0, 0.0, 0.0, measured)
    finite = clear & np.isfinite(reference).all(axis=0) & np.isfinite(reflectance).all(axis=0)
    beside = None if spill is None else spill & finite & ~usable
    both = usable if beside is None else usable | beside
    f = covered_fraction(reflectance, reference, both, match_brightness=not modelled_ground)
    occupied, bias, sigma = _occupied(f, usable, unbiased=modelled_ground, spill=beside)
    cover = np.clip(f[occupied] - bias, 0.0, 1.0)
    pixel_area = pixel_size_m * pixel_size_m
    area = float(cover.sum()) * pixel_area
    area_noise = 2.0 * max(sigma, 0.01) * math.sqrt(max(cover.size, 1)) * pixel_area
    read = shadow_cover(reference, usable) if shadow_per_height > 0 else 0.0
    shadow = CAR_HEIGHT_M * shadow_per_height
    shadow_mid = read * (min(shadow, NEIGHBOUR_GAP_M) + shadow) / 2.0
    shadow_low = read * min(CAR_HEIGHT_RANGE_M[0] * shadow_per_height, NEIGHBOUR_GAP_M)
    shadow_high = read * CAR_HEIGHT_RANGE_M[1] * shadow_per_height
    body_share = CAR_BODY_M / CAR_PITCH_M
    length = area / ((CAR_WIDTH_M + shadow_mid) * body_share)
    length_low = max(area - area_noise, 0.0) / ((WIDTH_RANGE_M[1] + shadow_high) * body_share)
    length_low *= 1.0 - METHOD_RELATIVE_ERROR
    length_high = (area + area_noise) / ((WIDTH_RANGE_M[0] + shadow_low) * body_share)
    length_high *= 1.0 + METHOD_RELATIVE_ERROR
    return RailEstimate(
        occupied_track_m=length,
        railcar_equivalents=length / EQUIVALENT_LENGTH_M,
        railcar_low=length_low / PITCH_RANGE_M[1],
        railcar_high=length_high / PITCH_RANGE_M[0],
        measured_fraction=measured,
        shadow_width_m=shadow_mid,
    )

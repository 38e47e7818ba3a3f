"""One scene over one AOI → one observation: masks, detectors and their provenance.

Pure: takes a :class:`~pipeline.types.Chip` (already read) and an optional
:class:`~pipeline.detect.reference.Reference`, returns the row the store keeps and the
detections behind it. Imports neither rasterio nor prefect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Final

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from scipy import ndimage as ndi
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from pipeline import __version__
from pipeline.detect.cnn import DEFAULT_CNN_PATH, LEARNED_IN_PRODUCT
from pipeline.detect.cnn_scale import SCALE_METHOD
from pipeline.detect.coregister import apply_shift, measure_shift, stable_pixels
from pipeline.detect.detection import Detection, pixel_to_lonlat
from pipeline.detect.masks import SCL_OBSCURED, clear_fraction, clear_mask, snow_share
from pipeline.detect.rail import (
    RailEstimate,
    estimate_railcars,
    sum_of_zones,
    track_heading,
    zone_mask,
)
from pipeline.detect.reference import Reference
from pipeline.detect.reference_mode import PreparedReference, prepare_reference
from pipeline.detect.ships import DEFAULT_MODEL_PATH, detect_ships
from pipeline.detect.toa_calibrate import TOA_METHOD, chip_to_surface
from pipeline.detect.tracks import aoi_tracks, track_masks
from pipeline.detect.yard_model import bare_level, expected_empty, level_pixels, shadow_scale
from pipeline.geo.sun import SunPosition, sun_position
from pipeline.types import Aoi, Chip, DetectionRow, Observation, Scene

#: Bumped whenever the railcar method changes its numbers (``.sum-of-yards-1``: the AOI
#: total is the sum of its yard zones, :func:`pipeline.detect.rail.sum_of_zones`).
RAIL_METHOD: Final = "unmix-5.sum-of-yards-1"
#: Bumped whenever co-registration or the reference composite changes the numbers.
REGISTRATION_METHOD: Final = "phasecorr-2"
#: Bumped whenever the occupancy map (usually occupied berths, structures) changes.
BERTH_METHOD: Final = "occupancy-1"
_NIR: Final = 3
#: SCL class 11: snow or ice. Snow on the track bed changes it beyond what the empty-yard
#: reference describes, so snowy yard pixels are not measured.
SCL_SNOW: Final = 11
#: Snow the SCL misses (thin or patchy snow on ballast): the normalised difference snow
#: index (green - SWIR) / (green + SWIR) of Hall et al. is above ~0.4 for full snow cover
#: and above 0 for patchy snow, while ballast, soil and railcars stay below 0 (SWIR-bright)
#: and white containers near 0; requiring some brightness keeps dark wet surfaces out.
SNOW_NDSI: Final = 0.1
#: Green reflectance a snowy pixel at least has.
SNOW_MIN_GREEN: Final = 0.2
#: Buffer around SCL cloud, shadow and snow before a yard pixel counts as measured.
CLOUD_BUFFER_M: Final = 30.0
#: Winter: ports' and yards' references without snowy looks
#: (:mod:`pipeline.detect.reference_looks`); port scenes with an iced basin low confidence
#: (:data:`ICE_BASIN_SHARE`); hulls with snow on deck counted
#: (:data:`pipeline.detect.reference_mode.SNOWY_DECK_SWIR_SHARE`).
WINTER_METHOD: Final = "snow-free-refs-2.ice-flag-1.snowy-decks-1"
#: Share of the basin's clear pixels under sea ice (SCL 11 or the NDSI) above which a port
#: scene is low confidence: a hull in ice is no brighter than the ice in the NIR, and snow on
#: its deck darkens it in the SWIR, so ships in ice are missed (SIMULATED stress world: the
#: 42 clear scenes with sea ice read 88 ships fewer than were there, and not one too many).
ICE_BASIN_SHARE: Final = 0.2


@cache
def detector_version() -> str:
    """Version of everything that turns pixels into numbers: package, ship models (the
    older shore model and, when the flows use it, the learned CNN), rail method,
    registration, berths, the Level-1C calibration and the winter rules.

    Changing a committed ship model or the railcar method changes the version, so the
    store keeps old and new numbers apart and a backfill reprocesses.
    """
    model = hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest()[:8]
    if LEARNED_IN_PRODUCT:
        cnn = hashlib.sha256(DEFAULT_CNN_PATH.read_bytes()).hexdigest()[:8]
        model += f".cnn.{cnn}.{SCALE_METHOD}"
    methods = ".".join(
        (
            f"rail.{RAIL_METHOD}.reg.{REGISTRATION_METHOD}.berths.{BERTH_METHOD}",
            f"toa.{TOA_METHOD}.winter.{WINTER_METHOD}",
        )
    )
    return f"{__version__}+ships.{model}.{methods}"


@dataclass(frozen=True)
class SceneAnalysis:
    """What one scene says about one AOI."""

    observation: Observation
    """The row for the ``observations`` table."""
    detections: tuple[DetectionRow, ...]
    """The ship detections behind ``observation.ships`` (empty for rail AOIs)."""
    zones: tuple[Observation, ...] = ()
    """Rail AOIs: one row per yard zone (``zone`` set), measured as the AOI total is."""


def clear_pixels(chip: Chip) -> NDArray[np.bool_]:
    """Pixels of the AOI with data and seen clear (bright decks are not taken for cloud)."""
    size = abs(float(chip.transform.a))
    mask: NDArray[np.bool_] = clear_mask(chip.scl, pixel_size_m=size) & chip.valid
    return mask


def strict_clear_pixels(chip: Chip) -> NDArray[np.bool_]:
    """Clear pixels with no exception for bright decks; cloud, shadow and snow buffered.

    For a rail yard: no ship can be mistaken for cloud there, while a small cumulus over
    the track is exactly what the deck exception would let through. SCL is a 20 m product
    with soft cloud edges, so obscured pixels are grown by :data:`CLOUD_BUFFER_M`.
    """
    size = abs(float(chip.transform.a))
    green, swir = chip.band("green"), chip.band("swir16")
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = (green - swir) / (green + swir)
    snowy = (ndsi > SNOW_NDSI) & (green > SNOW_MIN_GREEN)
    obscured = np.isin(chip.scl, (*SCL_OBSCURED, SCL_SNOW)) | snowy
    grow = max(1, round(CLOUD_BUFFER_M / size))
    obscured = ndi.maximum_filter(obscured, size=2 * grow + 1)
    mask: NDArray[np.bool_] = chip.valid & ~obscured & (chip.scl != 0)
    return mask


@lru_cache(maxsize=16)
def _area_mask(
    areas: tuple[BaseGeometry, ...], transform: Affine, epsg: int, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Pixels of some WGS84 areas on one grid (every scene of an AOI shares it)."""
    mask = zone_mask(areas, transform=transform, epsg=epsg, shape=shape)
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=4)
def _prepared(reference: Reference) -> PreparedReference:
    """The ship detector's view of a reference (its water basin), computed once per AOI.

    ``Reference`` hashes by identity and the cache holds it, so an id is never reused.
    """
    return prepare_reference(
        reference.low,
        pixel_size_m=abs(float(reference.transform.a)),
        berths=reference.usual > 0,
    )


@lru_cache(maxsize=4)
def _steady(reference: Reference) -> NDArray[np.bool_]:
    """The pixels a port scene is aligned on (the same for every scene of the reference)."""
    steady = stable_pixels(reference.spread, reference.median[_NIR])
    steady.setflags(write=False)
    return steady


def _detection_row(d: Detection, chip: Chip) -> DetectionRow:
    corners = [pixel_to_lonlat(r - 0.5, c - 0.5, chip.transform, chip.epsg) for r, c in d.outline]
    outline = Polygon(corners) if len(corners) >= 3 else None
    return DetectionRow(
        kind="ship",
        row=d.row,
        col=d.col,
        lon=d.lon,
        lat=d.lat,
        length_m=d.length_m,
        width_m=d.width_m,
        heading_deg=d.heading_deg,
        score=d.score,
        geometry_wkt=outline.wkt if outline is not None and outline.is_valid else None,
        method=d.source,
    )


def analyse_chip(
    chip: Chip,
    scene: Scene,
    aoi: Aoi,
    *,
    reference: Reference | None,
    allow_single_date: bool = False,
) -> SceneAnalysis:
    """Count ships (port AOIs) or measure occupied track (rail AOIs) in one chip.

    Both need a temporal reference on the chip's grid: without one the observation is
    ``failed`` with the reason (a later run retries it), never a number from another
    method mixed into the series. ``allow_single_date`` lets ports fall back to the
    single-date detector (benchmarks compare the two modes). A Level-1C chip (top of
    atmosphere) is first brought to surface reflectance
    (:func:`pipeline.detect.toa_calibrate.chip_to_surface`, with the scene's sun).
    """
    if scene.level == "L1C":
        chip = chip_to_surface(chip, scene_sun(scene, aoi).elevation, reference)
    clear = clear_pixels(chip)
    base = Observation(
        aoi=aoi.id,
        scene_id=scene.id,
        datetime=scene.datetime,
        detector_version=detector_version(),
        source=scene.source,
        clear_fraction=clear_fraction(clear, chip.valid),
        simulated=scene.simulated,
    )
    usable_reference = reference if reference is not None and reference.fits(chip) else None
    if usable_reference is None and not (aoi.kind == "port" and allow_single_date):
        # One series, one method: a count from another mode would put a step into it.
        reason = f"no temporal reference on this scene's grid for AOI {aoi.id!r}"
        return SceneAnalysis(replace(base, status="failed", error=reason), ())
    if usable_reference is not None:
        steady = aoi.kind == "port"
        chip, base = register_to(chip, usable_reference, clear, base, on_steady_land=steady)
    if aoi.kind == "port":
        prepared = None if usable_reference is None else _prepared(usable_reference)
        ships = detect_ships(chip, reference=prepared)
        rows = tuple(_detection_row(d, chip) for d in ships)
        return SceneAnalysis(_with_ice(replace(base, ships=len(ships)), chip, prepared), rows)
    assert usable_reference is not None  # rail never runs single-date (checked above)
    # The AOI total over all its yards, then each yard zone on its own: the Tumangang yard
    # (DPRK side) and the Khasan yard (Russian side) are different series.
    measurable = strict_clear_pixels(chip)
    sun = scene_sun(scene, aoi)
    yards = tuple(z for z in aoi.zones if z.kind == "yard")
    on_track, reach = track_mask(usable_reference, aoi)
    level_bed = level_pixels(on_track, usable_reference.spread) & measurable
    empty, modelled = empty_ground(chip, usable_reference, level_bed, sun)

    def estimate(areas: tuple[BaseGeometry, ...]) -> tuple[RailEstimate, int]:
        area = _area_mask(areas, chip.transform, chip.epsg, chip.shape)
        track = on_track & area & chip.valid
        found = estimate_railcars(
            chip.reflectance,
            empty,
            yard=track,
            clear=measurable,
            pixel_size_m=abs(float(chip.transform.a)),
            shadow_per_height=_shadow_per_height(sun, track),
            modelled_ground=modelled,
            spill=reach & area & chip.valid,
        )
        return found, int(np.count_nonzero(track))

    if not yards:
        return SceneAnalysis(_with_estimate(base, estimate(yard_areas(aoi))[0]), ())
    per_zone = [estimate((z.geometry,)) for z in yards]
    zones = tuple(
        replace(_with_estimate(base, found), zone=z.name)
        for z, (found, _) in zip(yards, per_zone, strict=True)
    )
    total = sum_of_zones([f for f, _ in per_zone], [n for _, n in per_zone])
    return SceneAnalysis(_with_estimate(base, total), (), zones)


def _with_ice(base: Observation, chip: Chip, prepared: PreparedReference | None) -> Observation:
    """``base``, low confidence when sea ice covers more than :data:`ICE_BASIN_SHARE` of the
    basin's clear pixels (the count is kept: it is a lower bound)."""
    if prepared is None:
        return base
    seen = prepared.basin & clear_pixels(chip)
    share = snow_share(chip.scl, chip.band("green"), chip.band("swir16"), seen)
    if share <= ICE_BASIN_SHARE:
        return base
    reason = f"sea ice over {share:.0%} of the basin: ships in ice are missed, the count is a floor"
    joined = reason if base.low_confidence is None else f"{base.low_confidence}; {reason}"
    return replace(base, low_confidence=joined)


def yard_areas(aoi: Aoi) -> tuple[BaseGeometry, ...]:
    """The AOI's yard zones (the whole AOI when it names none)."""
    return tuple(z.geometry for z in aoi.zones if z.kind == "yard") or (aoi.geometry,)


def scene_sun(scene: Scene, aoi: Aoi) -> SunPosition:
    """The sun over the AOI's centre at the scene's sensing time."""
    centre = aoi.geometry.centroid
    return sun_position(scene.datetime, lat=centre.y, lon=centre.x)


def empty_ground(
    chip: Chip, reference: Reference, bed: NDArray[np.bool_], sun: SunPosition
) -> tuple[NDArray[np.float32], bool]:
    """What the yards' ground looks like empty on this day, and whether it is modelled.

    See :mod:`pipeline.detect.yard_model`: the day's level of the track bed, measured on
    its clear pixels (``bed``; cars cover a minority of them), and the sun's elevation.
    Without a model, or without clear bed to measure the day on, it is the median.
    """
    if reference.response is None:
        return reference.median, False
    level = bare_level(chip.reflectance, bed & chip.valid)
    if not np.isfinite(level).all():
        return reference.median, False
    day = expected_empty(
        reference.response,
        level,
        shadow_scale(sun.elevation),
        reference.median,
        reference.response_seen,
    )
    return day, True


def _shadow_per_height(sun: SunPosition, track: NDArray[np.bool_]) -> float:
    """Across-track shadow length per metre of height (0 when the heading is unknown)."""
    heading = track_heading(track)
    if not np.isfinite(heading) or sun.elevation <= 0:
        return 0.0
    return sun.shadow_length(1.0) * sun.across(heading)


def _with_estimate(base: Observation, est: RailEstimate) -> Observation:
    return replace(
        base,
        occupied_track_m=est.occupied_track_m,
        railcar_equivalents=est.railcar_equivalents,
        railcar_low=est.railcar_low,
        railcar_high=est.railcar_high,
        clear_fraction=est.measured_fraction,
    )


def register_to(
    chip: Chip,
    reference: Reference,
    clear: NDArray[np.bool_],
    base: Observation,
    *,
    on_steady_land: bool = False,
) -> tuple[Chip, Observation]:
    """The chip moved onto the reference's grid, and the observation with the shift.

    A shift that could not be measured is not applied; one that failed the checks is applied
    (it is the best estimate there is). Either way the observation is marked low confidence,
    with the reason (see :mod:`pipeline.detect.coregister`).

    ``on_steady_land`` (ports) aligns on the steadiest land only
    (:func:`pipeline.detect.coregister.stable_pixels`): shadows and shading move with the
    sun's seasons (SIMULATED stress world: ship MAE 11.0 -> 3.3). Rail aligns on all its
    land: there the steadiest land is featureless farmland, and aligning on it made the fresh
    world's empty yard read up to 98 cars instead of 31.
    """
    if on_steady_land:
        clear = clear & _steady(reference)
    shift = measure_shift(chip.band("nir"), reference.median[_NIR], clear)
    moved = replace(
        base,
        shift_x_px=round(-shift.cols, 3),
        shift_y_px=round(shift.rows, 3),
        low_confidence=None if shift.reliable else f"co-registration: {shift.reason}",
    )
    if not shift.measured:
        return chip, moved
    cube, valid = apply_shift(chip.reflectance, chip.valid, shift)
    return replace(chip, reflectance=cube, valid=valid), moved


@lru_cache(maxsize=8)
def track_mask(reference: Reference, aoi: Aoi) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The pixels of the AOI's yards on a track, and those a car's signal reaches
    (:func:`pipeline.detect.tracks.track_masks`), once per reference."""
    grid = (reference.transform, reference.epsg)
    return track_masks(
        reference.median,
        reference.ndvi_high,
        _area_mask(yard_areas(aoi), *grid, reference.looks.shape),
        given=aoi_tracks(aoi, *grid),
        pixel_size_m=abs(float(reference.transform.a)),
    )

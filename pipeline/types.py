"""The project's vocabulary: small frozen dataclasses, validated on construction.

Nothing here does I/O. ``affine`` and ``shapely`` are pure geometry libraries; rasterio
and prefect are never imported by this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

AoiKind = Literal["port", "rail"]
ProductLevel = Literal["L2A", "L1C"]
PRODUCT_LEVELS: tuple[ProductLevel, ...] = ("L2A", "L1C")
REFLECTANCE_BANDS: tuple[str, ...] = ("blue", "green", "red", "nir", "swir16")


@dataclass(frozen=True)
class Zone:
    """A named part of an AOI (a yard, a bridge, a harbour basin), in WGS84."""

    name: str
    """Zone id, unique within its AOI (for example ``tumangang-yard``)."""
    kind: str
    """What the zone is: ``yard``, ``bridge``, ``harbour``, ``anchorage``..."""
    geometry: BaseGeometry
    """Polygon in WGS84 longitude/latitude."""


@dataclass(frozen=True)
class TrackLine:
    """A surveyed railway track centre line of an AOI, in WGS84 (``"kind": "track"``)."""

    geometry: BaseGeometry
    """LineString or MultiLineString in WGS84 longitude/latitude."""
    source: str
    """Where the line comes from (a survey, a mapping project, a hand digitisation)."""
    name: str = ""
    """Optional label of the track or track group."""


@dataclass(frozen=True)
class Aoi:
    """An area of interest, validated on load by :mod:`pipeline.geo.aoi`."""

    id: str
    """Unique id, also the file stem in ``aoi/`` (``rajin-port``)."""
    name: str
    """Human-readable name."""
    kind: AoiKind
    """``port`` AOIs count ships; ``rail`` AOIs estimate railcars."""
    geometry: BaseGeometry
    """Outline polygon in WGS84 longitude/latitude."""
    zones: tuple[Zone, ...] = ()
    """Named parts of the AOI; rail AOIs measure occupancy inside their ``yard`` zones."""
    sources: tuple[str, ...] = ()
    """Where the coordinates come from."""
    tracks: tuple[TrackLine, ...] = ()
    """Track centre lines the file carries (rail AOIs); without them, rail derives the
    lines from the temporal reference (:mod:`pipeline.detect.tracks`)."""

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees."""
        west, south, east, north = self.geometry.bounds
        return (float(west), float(south), float(east), float(north))


@dataclass(frozen=True)
class BandAsset:
    """Where one band lives and how its digital numbers become reflectance.

    ``reflectance = DN * scale + offset``; ``DN == nodata`` is invalid.
    """

    href: str
    """URL or path of the COG (unsigned; sources sign just before a read)."""
    scale: float = 1.0
    """Multiplier applied to DN."""
    offset: float = 0.0
    """Added after scaling (``-0.1`` for processing baseline 04.00 L2A)."""
    nodata: float | None = 0
    """DN that marks missing data."""
    resolution_m: float = 10.0
    """Native ground sampling distance of the asset."""

    def __post_init__(self) -> None:
        if not self.href:
            raise ValueError("BandAsset.href must not be empty")
        if not (math.isfinite(self.scale) and math.isfinite(self.offset)):
            raise ValueError(f"non-finite scale/offset for {self.href!r}")


@dataclass(frozen=True)
class Scene:
    """One Sentinel-2 L2A acquisition over one MGRS tile, normalised from any provider."""

    id: str
    """Provider's item id."""
    datetime: datetime
    """Acquisition time, timezone-aware UTC."""
    platform: str
    """``sentinel-2a``, ``sentinel-2b`` or ``sentinel-2c``."""
    tile: str
    """MGRS tile, for example ``52TFM``."""
    epsg: int
    """EPSG code of the raster grid (UTM zone)."""
    processing_baseline: str
    """ESA processing baseline, for example ``04.00``."""
    assets: Mapping[str, BandAsset]
    """Band name (``blue``, ``green``, ``red``, ``nir``, ``swir16``, ``scl``) to asset."""
    cloud_cover: float | None
    """Tile-wide cloud cover in percent, as the provider reports it."""
    source: str
    """Which source produced it (``earth-search``, ``planetary-computer``, ``local``...)."""
    collection: str = ""
    """STAC collection id."""
    offset_rule: str = ""
    """How the reflectance offset was decided (for provenance and tests)."""
    bbox: tuple[float, float, float, float] | None = None
    """Item footprint bounds in WGS84, when the item has them."""
    simulated: bool = False
    """True for scenes written by ``rasonwatch simulate``."""
    properties: Mapping[str, object] = field(default_factory=dict)
    """Raw STAC properties kept for provenance (never trusted as markup)."""
    level: ProductLevel = "L2A"
    """Product level: ``L2A`` (surface reflectance with SCL) or ``L1C`` (top of atmosphere,
    no SCL: what ESA made globally before December 2018)."""

    def __post_init__(self) -> None:
        if self.datetime.tzinfo is None:
            raise ValueError(f"scene {self.id!r}: datetime must be timezone-aware")
        if self.level not in PRODUCT_LEVELS:
            raise ValueError(f"scene {self.id!r}: level {self.level!r} is not L2A or L1C")
        object.__setattr__(self, "assets", MappingProxyType(dict(self.assets)))
        object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))

    @property
    def date_key(self) -> str:
        """UTC acquisition date, used to de-duplicate overlapping tiles."""
        return self.datetime.strftime("%Y-%m-%d")


@dataclass(frozen=True, eq=False)
class Chip:
    """Pixels of one AOI from one scene, on the scene's 10 m UTM grid."""

    scene_id: str
    """The scene the pixels came from."""
    aoi_id: str
    """The AOI the window covers."""
    reflectance: NDArray[np.float32]
    """Surface reflectance, shape ``(5, rows, cols)`` in :data:`REFLECTANCE_BANDS` order."""
    scl: NDArray[np.uint8]
    """Scene classification, nearest-neighbour resampled to 10 m, shape ``(rows, cols)``."""
    valid: NDArray[np.bool_]
    """True where every band has data and the pixel lies inside the AOI outline."""
    transform: Affine
    """Pixel-to-map transform of the window (UTM metres)."""
    epsg: int
    """EPSG code of the grid."""

    def __post_init__(self) -> None:
        if self.reflectance.ndim != 3 or self.reflectance.shape[0] != len(REFLECTANCE_BANDS):
            raise ValueError(
                f"chip reflectance must be (5, rows, cols), got {self.reflectance.shape}"
            )
        shape = self.reflectance.shape[1:]
        if self.scl.shape != shape or self.valid.shape != shape:
            raise ValueError(
                f"chip arrays disagree: reflectance {shape}, scl {self.scl.shape}, "
                f"valid {self.valid.shape}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (int(self.reflectance.shape[1]), int(self.reflectance.shape[2]))

    def band(self, name: str) -> NDArray[np.float32]:
        """One reflectance band by its Earth Search name (``nir``)."""
        band: NDArray[np.float32] = self.reflectance[REFLECTANCE_BANDS.index(name)]
        return band


@dataclass(frozen=True)
class DetectionRow:
    """One detection as stored: pixel centroid, lon/lat, size and outline (WKT, WGS84)."""

    kind: str
    """``ship`` or ``train``."""
    row: float
    """Centroid row in the chip's pixel grid."""
    col: float
    """Centroid column in the chip's pixel grid."""
    lon: float | None
    """Centroid longitude."""
    lat: float | None
    """Centroid latitude."""
    length_m: float | None
    """Length, metres."""
    width_m: float | None
    """Width, metres."""
    heading_deg: float | None
    """Axis direction, degrees clockwise from grid north."""
    score: float | None
    """Detector confidence 0-1."""
    geometry_wkt: str | None
    """Outline polygon in WGS84, as WKT."""
    method: str | None = None
    """Which way it was found: ``offshore`` or ``shore`` (single-date), ``reference`` (new
    against the temporal reference) or ``berth`` (new against the looks in which a usually
    occupied berth was seen empty); None for railcars and rows stored before schema 5."""


ObservationStatus = Literal["ok", "failed"]


@dataclass(frozen=True)
class Observation:
    """One row of the ``observations`` contract table: one AOI seen in one scene."""

    aoi: str
    """AOI id."""
    scene_id: str
    """Provider's scene id."""
    datetime: datetime
    """Acquisition time, timezone-aware UTC."""
    detector_version: str
    """Version of the detectors that produced the numbers."""
    source: str
    """Scene source (``earth-search``, ``local``...)."""
    status: ObservationStatus = "ok"
    """``ok``, or ``failed`` with :attr:`error` set."""
    clear_fraction: float | None = None
    """Share of the AOI seen clear, 0-1 (None when failed)."""
    ships: int | None = None
    """Ships counted (port AOIs)."""
    railcar_equivalents: float | None = None
    """Occupied track length ÷ 14 m (rail AOIs; None elsewhere)."""
    occupied_track_m: float | None = None
    """Occupied track length in metres (rail AOIs)."""
    railcar_low: float | None = None
    """Lower bound of the railcar-equivalents interval."""
    railcar_high: float | None = None
    """Upper bound of the railcar-equivalents interval."""
    error: str | None = None
    """Why the scene failed (one line), when it did."""
    simulated: bool = False
    """True when the scene came from the simulator."""
    reference_id: str | None = None
    """Content hash of the temporal reference the numbers were measured against (None
    when failed, or for rows stored before references were identified)."""
    shift_x_px: float | None = None
    """The scene's measured shift against its reference, east, 10 m pixels (co-registration;
    None when not measured)."""
    shift_y_px: float | None = None
    """The scene's measured shift against its reference, north, 10 m pixels."""
    low_confidence: str | None = None
    """Why the numbers are not to be trusted (an unreliable co-registration), or None.
    ``evaluate`` leaves such rows out and says how many."""
    product_level: ProductLevel | None = None
    """The product level of the scene the numbers come from (``L2A`` or ``L1C``; None when
    not recorded). A series never mixes levels: ``evaluate`` tests one level at a time."""
    zone: str | None = None
    """None for the AOI's own row (the ``observations`` table); a yard zone's name for a row
    of the ``zone_observations`` table (railcars per zone, keyed by AOI, scene, detector
    version and zone)."""

    def __post_init__(self) -> None:
        if self.datetime.tzinfo is None:
            raise ValueError(f"observation {self.scene_id!r}: datetime must be timezone-aware")
        if self.status == "failed" and not self.error:
            raise ValueError(f"observation {self.scene_id!r}: a failed row needs an error")
        if self.clear_fraction is not None and not 0.0 <= self.clear_fraction <= 1.0:
            raise ValueError(f"clear_fraction {self.clear_fraction} outside 0-1")

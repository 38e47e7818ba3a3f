"""The static map of each site: land cover, water, terrain, berths and tracks.

A :class:`SiteMap` is built once per process (it depends on nothing but a fixed geography
seed: the coast of Rajin does not change with the scenario) and then lit, dressed for the
season and clouded per scene by :mod:`pipeline.simulate.surface` and
:mod:`pipeline.simulate.atmosphere`.

Land cover is held as fractions per 10 m pixel, so edges are anti-aliased:

- *seasonal* classes (forest, grass, paddy, crops, reed) whose spectrum follows the
  day of year (:mod:`pipeline.simulate.spectra`);
- *water* classes (sea, harbour, river, lake);
- *fixed* surfaces (concrete, roofs, ballast, coal...), kept premultiplied by their
  fraction in one ``(5, rows, cols)`` array; the part of it that is loose ground (track
  ballast, graded yard ground), which darkens when wet, is also kept on its own
  (:attr:`SiteMap.loose_ground`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from pipeline.simulate.grid import PIXEL_M, Region, fine_coords, pixel_window
from pipeline.simulate.noise import F32, block_mean, oriented_coords, segment_distance
from pipeline.simulate.spectra import Spectrum

#: The geography is the same in every scenario: it has its own seed.
GEOGRAPHY_SEED: Final = 20231129
WATER_CLASSES: Final = ("sea", "harbour", "river", "lake")
SEASONAL_CLASSES: Final = (
    "forest",
    "grass",
    "paddy_early",
    "paddy_late",
    "crop_early",
    "crop_late",
    "reed",
)


@dataclass(frozen=True)
class Berth:
    """A straight quay face ships can lie alongside."""

    name: str
    """For example ``pier-2-east``."""
    x0: float
    """Start easting (UTM m)."""
    y0: float
    """Start northing."""
    x1: float
    """End easting."""
    y1: float
    """End northing."""
    nx: float
    """Unit normal pointing from the quay into the water (east component)."""
    ny: float
    """North component of the normal."""

    @property
    def length(self) -> float:
        """Quay length in metres."""
        return float(np.hypot(self.x1 - self.x0, self.y1 - self.y0))

    @property
    def heading(self) -> float:
        """Heading from start to end, degrees clockwise from grid north."""
        return float(np.degrees(np.arctan2(self.x1 - self.x0, self.y1 - self.y0)) % 360)


@dataclass(frozen=True)
class Track:
    """A straight yard track railcars can stand on."""

    zone: str
    """AOI zone holding the track (``tumangang-yard``)."""
    name: str
    """Track id within the site."""
    x0: float
    """Start easting (UTM m)."""
    y0: float
    """Start northing."""
    x1: float
    """End easting."""
    y1: float
    """End northing."""

    @property
    def length(self) -> float:
        """Usable length in metres."""
        return float(np.hypot(self.x1 - self.x0, self.y1 - self.y0))


@dataclass(frozen=True, eq=False)
class SiteMap:
    """Everything static about one site's painted region."""

    region: Region
    """Where the map sits in the window."""
    seasonal: dict[str, F32]
    """Fraction per pixel of each seasonal class."""
    water: dict[str, F32]
    """Fraction per pixel of each water class."""
    fixed: F32
    """Premultiplied reflectance of fixed surfaces, ``(5, rows, cols)``."""
    fixed_fraction: F32
    """Fraction per pixel covered by fixed surfaces."""
    texture: F32
    """Multiplicative brightness texture of land (about 1)."""
    normal: tuple[F32, F32, F32]
    """Terrain unit normal (east, north, up) per pixel."""
    snow_affinity: F32
    """How fully snow covers the pixel when it snows (0 on water)."""
    heights: F32
    """Height of buildings, cranes and bridges (m) for cast shadows."""
    bright_stacks: NDArray[np.bool_]
    """Container stacks and white roofs that real SCL sometimes calls cloud."""
    loose_ground: F32
    """The part of ``fixed`` that is loose ground (ballast, graded yard ground), premultiplied
    ``(5, rows, cols)``: it darkens when wet (:mod:`pipeline.simulate.weathering`)."""
    berths: tuple[Berth, ...] = ()
    """Quay faces (ports)."""
    anchorage: BaseGeometry | None = None
    """Anchorage polygon in UTM (ports)."""
    tracks: tuple[Track, ...] = ()
    """Yard tracks (rail sites)."""
    notes: dict[str, str] = field(default_factory=dict)
    """Free-text description of features, for the archive README."""

    @property
    def water_fraction(self) -> F32:
        """Total water fraction per pixel."""
        total = np.zeros_like(self.fixed_fraction)
        for layer in self.water.values():
            total += layer
        return total


class Canvas:
    """Builds a :class:`SiteMap` by painting layers "over" each other.

    Painting coverage ``c`` of a class or fixed spectrum scales every existing layer by
    ``1 - c`` and adds ``c`` of the new one, so fractions always sum to one.
    """

    def __init__(self, region: Region, *, base: str = "sea") -> None:
        self.region = region
        self.shape = (region.height, region.width)
        self.layers: dict[str, F32] = {
            name: np.zeros(self.shape, np.float32) for name in WATER_CLASSES + SEASONAL_CLASSES
        }
        self.layers[base][:] = 1.0
        self.fixed = np.zeros((5, *self.shape), np.float32)
        self.fixed_fraction = np.zeros(self.shape, np.float32)
        self.loose = np.zeros((5, *self.shape), np.float32)
        self.heights = np.zeros(self.shape, np.float32)
        self.bright = np.zeros(self.shape, bool)
        xs, ys = region.pixel_centres()
        self.gx, self.gy = (a.astype(np.float32) for a in np.meshgrid(xs, ys))

    def _scale(self, keep: F32, window: tuple[slice, slice]) -> None:
        for layer in self.layers.values():
            layer[window] *= keep
        self.fixed[(slice(None), *window)] *= keep
        self.loose[(slice(None), *window)] *= keep
        self.fixed_fraction[window] *= keep

    def paint_class(
        self, name: str, cover: F32, window: tuple[slice, slice] = (slice(None), slice(None))
    ) -> None:
        """Lay a seasonal or water class over everything, with fractional coverage."""
        self._scale(1.0 - cover, window)
        self.layers[name][window] += cover

    def paint_fixed(
        self,
        colour: Spectrum | F32,
        cover: F32,
        window: tuple[slice, slice] = (slice(None), slice(None)),
        *,
        loose: bool = False,
    ) -> None:
        """Lay a fixed surface (a spectrum, or a per-pixel ``(5, r, c)`` colour) over everything.

        ``loose`` marks it as loose ground (ballast, graded yard ground) that darkens when wet.
        """
        self._scale(1.0 - cover, window)
        values = np.asarray(colour, np.float32)
        if values.ndim == 1:
            values = values.reshape(5, 1, 1)
        self.fixed[(slice(None), *window)] += values * cover
        self.fixed_fraction[window] += cover
        if loose:
            self.loose[(slice(None), *window)] += values * cover

    def paint_mixture(self, parts: list[tuple[Spectrum, F32]], window: tuple[slice, slice]) -> F32:
        """Lay several fixed surfaces sharing pixels (mixed roofs, containers) in one go.

        Returns:
            Their total coverage per pixel.
        """
        total = np.zeros(self.heights[window].shape, np.float32)
        colour = np.zeros((5, *total.shape), np.float32)
        for spectrum, cover in parts:
            total += cover
            colour += np.asarray(spectrum, np.float32).reshape(5, 1, 1) * cover
        total = np.minimum(total, 1.0)
        colour /= np.maximum(total, 1e-6)
        self.paint_fixed(colour, total, window)
        return total

    def patch(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        """The pixel window covering a UTM box, clipped to the region."""
        return pixel_window(self.region, x0, y0, x1, y1)

    def fine_coords(
        self, window: tuple[slice, slice], factor: int
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """UTM sub-pixel centres over a pixel window, ``factor`` per pixel side."""
        return fine_coords(self.region, window, factor)

    def rect_cover(
        self,
        cx: float,
        cy: float,
        length: float,
        width: float,
        heading: float,
        factor: int = 8,
    ) -> tuple[F32, tuple[slice, slice]]:
        """Area coverage of an oriented rectangle, and the pixel window it lies in."""
        reach = 0.5 * float(np.hypot(length, width))
        window = self.patch(cx - reach, cy - reach, cx + reach, cy + reach)
        gx, gy = self.fine_coords(window, factor)
        u, v = oriented_coords(gx, gy, cx, cy, heading)
        inside = ((np.abs(u) <= length / 2) & (np.abs(v) <= width / 2)).astype(np.float32)
        rows = window[0].stop - window[0].start
        cols = window[1].stop - window[1].start
        cover = inside.reshape(rows, factor, cols, factor).mean(axis=(1, 3), dtype=np.float32)
        return cover, window

    def rect(
        self,
        colour: Spectrum,
        cx: float,
        cy: float,
        length: float,
        width: float,
        heading: float,
        *,
        height: float = 0.0,
        bright: bool = False,
        loose: bool = False,
    ) -> None:
        """Paint an oriented rectangle of a fixed surface (a quay, a roof, a breakwater)."""
        cover, window = self.rect_cover(cx, cy, length, width, heading)
        self.paint_fixed(colour, cover, window, loose=loose)
        if height:
            self.heights[window] = np.maximum(self.heights[window], height * (cover > 0.5))
        if bright:
            self.bright[window] |= cover > 0.5

    def line(
        self,
        colour: Spectrum,
        points: list[tuple[float, float]],
        width: float,
        *,
        factor: int = 4,
        height: float = 0.0,
        loose: bool = False,
    ) -> None:
        """Paint a polyline of a fixed surface (a road, a track bed, a bridge deck)."""
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            pad = width
            window = self.patch(
                min(x0, x1) - pad, min(y0, y1) - pad, max(x0, x1) + pad, max(y0, y1) + pad
            )
            gx, gy = self.fine_coords(window, factor)
            dist = segment_distance(gx, gy, [(x0, y0), (x1, y1)])
            cover = block_mean((dist <= width / 2).astype(np.float32), factor)
            self.paint_fixed(colour, cover, window, loose=loose)
            if height:
                self.heights[window] = np.maximum(self.heights[window], height * (cover > 0.3))

    def build(
        self,
        *,
        texture: F32,
        elevation: F32,
        snow_affinity: F32,
        berths: tuple[Berth, ...] = (),
        anchorage: BaseGeometry | None = None,
        tracks: tuple[Track, ...] = (),
        notes: dict[str, str] | None = None,
    ) -> SiteMap:
        """Freeze the canvas into a :class:`SiteMap`."""
        # A 10 m DEM is smooth at the pixel scale: relief shows as ridges, not as grain.
        smooth = ndimage.gaussian_filter(elevation.astype(np.float32), 2.5)
        gy_, gx_ = np.gradient(smooth, PIXEL_M)
        # Rows grow southwards: d/dnorth = -d/drow.
        nx, ny, nz = -gx_, gy_, np.ones_like(elevation)
        norm = np.sqrt(nx * nx + ny * ny + nz * nz)
        normal = (
            (nx / norm).astype(np.float32),
            (ny / norm).astype(np.float32),
            (nz / norm).astype(np.float32),
        )
        water = {name: self.layers[name] for name in WATER_CLASSES}
        seasonal = {name: self.layers[name] for name in SEASONAL_CLASSES}
        land = 1.0 - sum(water.values(), np.zeros(self.shape, np.float32))
        return SiteMap(
            region=self.region,
            seasonal=seasonal,
            water=water,
            fixed=self.fixed,
            fixed_fraction=self.fixed_fraction,
            texture=texture.astype(np.float32),
            normal=normal,
            snow_affinity=(snow_affinity * np.clip(land, 0, 1)).astype(np.float32),
            heights=self.heights,
            bright_stacks=self.bright,
            loose_ground=self.loose,
            berths=berths,
            anchorage=anchorage,
            tracks=tracks,
            notes=dict(notes or {}),
        )


Builder = Callable[[], SiteMap]
_BUILDERS: dict[str, Builder] = {}


def register(aoi_id: str) -> Callable[[Builder], Builder]:
    """Register the map builder of a site (used by the per-site modules)."""

    def wrap(builder: Builder) -> Builder:
        _BUILDERS[aoi_id] = builder
        return builder

    return wrap


@lru_cache(maxsize=4)
def site_map(aoi_id: str) -> SiteMap:
    """The static map of a site, built once per process.

    Raises:
        KeyError: the simulator has no geography for ``aoi_id``.
    """
    from pipeline.simulate import rajin, tumangang  # noqa: F401  (they register builders)

    return _BUILDERS[aoi_id]()

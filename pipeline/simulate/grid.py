"""The simulated raster grid: one window of MGRS tile 52TFM spanning both sites.

The window sits on the real 52TFM pixel grid (EPSG:32652, origin x=600000, y=4700040,
10 m pixels; the 20 m bands share the origin). It spans both sites, but only each site's
*region* is painted: the AOI's bounding box plus :data:`MARGIN_M`, clipped to the tile's
northern edge. The rest is nodata and costs nothing in the sparse COGs, so an archive
holds only the pixels a reader of the AOIs can ask for.

The margin is what a read of the AOI can reach beyond its box: the PSF (a few pixels), a
misregistered scene's shift (the stress scenario's 1 px standard deviation reaches 4 px),
and the Fourier shift's wrap-around, which must stay inside the margin. 100 m (10 pixels)
covers all three; it used to be 1 km, which tripled the bytes of an archive for pixels no
one read.

At Tumangang the AOI reaches to 340 m of the tile's northern edge (y=4700040), so the
painted margin there is 340 m, as in real 52TFM products (52TFN covers the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.geo.aoi import load_aoi
from pipeline.geo.projection import reproject
from pipeline.types import Aoi

EPSG: Final = 32652
TILE: Final = "52TFM"
TILE_ORIGIN_X: Final = 600000.0
TILE_ORIGIN_Y: Final = 4700040.0
PIXEL_M: Final = 10.0
#: Painted margin around each AOI's bounding box, metres (see the module docstring).
MARGIN_M: Final = 100.0
#: Window bounds (UTM metres): west of Rajin's margin to east of Tumangang's, tile top down.
WINDOW_WEST: Final = 604700.0
WINDOW_EAST: Final = 636500.0
WINDOW_SOUTH: Final = 4673200.0
WINDOW_NORTH: Final = TILE_ORIGIN_Y


@dataclass(frozen=True)
class Region:
    """The painted part of the window around one site, aligned to the 20 m grid."""

    aoi: str
    """AOI id."""
    west: float
    """Western edge, UTM metres."""
    south: float
    """Southern edge, UTM metres."""
    east: float
    """Eastern edge, UTM metres."""
    north: float
    """Northern edge, UTM metres."""

    def __post_init__(self) -> None:
        for value in (self.west - WINDOW_WEST, WINDOW_NORTH - self.north):
            if value % (2 * PIXEL_M) or value < 0:
                raise ValueError(f"region {self.aoi} is not aligned to the 20 m grid")
        if self.height % 2 or self.width % 2:
            raise ValueError(f"region {self.aoi} must have an even pixel size")

    @property
    def row0(self) -> int:
        """First window row (10 m grid)."""
        return round((WINDOW_NORTH - self.north) / PIXEL_M)

    @property
    def col0(self) -> int:
        """First window column (10 m grid)."""
        return round((self.west - WINDOW_WEST) / PIXEL_M)

    @property
    def height(self) -> int:
        """Rows at 10 m."""
        return round((self.north - self.south) / PIXEL_M)

    @property
    def width(self) -> int:
        """Columns at 10 m."""
        return round((self.east - self.west) / PIXEL_M)

    @property
    def transform(self) -> Affine:
        """Pixel-to-UTM transform of the region at 10 m."""
        return Affine(PIXEL_M, 0.0, self.west, 0.0, -PIXEL_M, self.north)

    def pixel_centres(self, factor: int = 1) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """UTM x (per column) and y (per row) of pixel centres, ``factor`` sub-pixels each."""
        step = PIXEL_M / factor
        xs = self.west + (np.arange(self.width * factor, dtype=np.float64) + 0.5) * step
        ys = self.north - (np.arange(self.height * factor, dtype=np.float64) + 0.5) * step
        return xs, ys


def pixel_window(reg: Region, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
    """The pixel window of a region covering a UTM box (plus one pixel), clipped."""
    c0 = max(int((min(x0, x1) - reg.west) // PIXEL_M) - 1, 0)
    c1 = min(int((max(x0, x1) - reg.west) // PIXEL_M) + 2, reg.width)
    r0 = max(int((reg.north - max(y0, y1)) // PIXEL_M) - 1, 0)
    r1 = min(int((reg.north - min(y0, y1)) // PIXEL_M) + 2, reg.height)
    return slice(r0, max(r1, r0)), slice(c0, max(c1, c0))


def fine_coords(
    reg: Region, window: tuple[slice, slice], factor: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """UTM eastings/northings of sub-pixel centres over a window, ``factor`` per pixel side."""
    rows, cols = window
    step = PIXEL_M / factor
    ncols = (cols.stop - cols.start) * factor
    nrows = (rows.stop - rows.start) * factor
    xs = reg.west + cols.start * PIXEL_M + (np.arange(ncols) + 0.5) * step
    ys = reg.north - rows.start * PIXEL_M - (np.arange(nrows) + 0.5) * step
    gx, gy = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    return gx, gy


#: The AOIs' bounding boxes (of aoi/*.geojson in EPSG:32652) plus :data:`MARGIN_M`;
#: ``test_regions_hold_each_aoi_with_its_margin`` checks them against the AOI files.
REGIONS: Final = (
    Region("rajin-port", 604700.0, 4673200.0, 610900.0, 4679400.0),
    Region("tumangang-rail", 630900.0, 4696200.0, 636500.0, TILE_ORIGIN_Y),
)
WINDOW_HEIGHT: Final = round((WINDOW_NORTH - WINDOW_SOUTH) / PIXEL_M)
WINDOW_WIDTH: Final = round((WINDOW_EAST - WINDOW_WEST) / PIXEL_M)
#: Pixel-to-UTM transform of the whole window at 10 m and at 20 m.
TRANSFORM_10M: Final = Affine(PIXEL_M, 0.0, WINDOW_WEST, 0.0, -PIXEL_M, WINDOW_NORTH)
TRANSFORM_20M: Final = Affine(2 * PIXEL_M, 0.0, WINDOW_WEST, 0.0, -2 * PIXEL_M, WINDOW_NORTH)


def region(aoi_id: str) -> Region:
    """The painted region of one site.

    Raises:
        KeyError: no site has that id.
    """
    for reg in REGIONS:
        if reg.aoi == aoi_id:
            return reg
    raise KeyError(aoi_id)


@lru_cache(maxsize=4)
def site_aoi(aoi_id: str) -> Aoi:
    """The AOI as defined in ``aoi/`` (the simulator's geography is built around it)."""
    return load_aoi(DEFAULT_AOI_DIR / f"{aoi_id}.geojson")


@lru_cache(maxsize=16)
def aoi_utm(aoi_id: str, zone: str | None = None) -> BaseGeometry:
    """The AOI outline (or one of its zones) in EPSG:32652 metres."""
    aoi = site_aoi(aoi_id)
    if zone is None:
        return reproject(aoi.geometry, dst_epsg=EPSG)
    for z in aoi.zones:
        if z.name == zone:
            return reproject(z.geometry, dst_epsg=EPSG)
    raise KeyError(f"{aoi_id} has no zone {zone!r}")


@lru_cache(maxsize=4)
def aoi_mask(aoi_id: str) -> NDArray[np.bool_]:
    """True at the 10 m pixels of the site's region whose centre lies inside the AOI."""
    reg = region(aoi_id)
    xs, ys = reg.pixel_centres()
    gx, gy = np.meshgrid(xs, ys)
    mask = np.asarray(shapely.contains_xy(aoi_utm(aoi_id), gx, gy), dtype=bool)
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=1)
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(EPSG, 4326, always_xy=True)


def utm_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:32652 metres to WGS84 ``(lon, lat)``."""
    lon, lat = _to_lonlat().transform(x, y)
    return float(lon), float(lat)


def window_pixel(x: float, y: float) -> tuple[float, float]:
    """Continuous ``(row, col)`` of a UTM point in the window's 10 m grid.

    Pixel ``(r, c)`` spans ``[r, r+1) x [c, c+1)``, so its centre is ``(r + 0.5, c + 0.5)``.
    """
    col, row = ~TRANSFORM_10M @ (x, y)
    return float(row), float(col)


def footprint_lonlat() -> list[tuple[float, float]]:
    """The window's outline in WGS84, closed, counter-clockwise, 4 points per side."""
    xs = np.linspace(WINDOW_WEST, WINDOW_EAST, 5)
    ys = np.linspace(WINDOW_SOUTH, WINDOW_NORTH, 5)
    ring = (
        [(float(x), WINDOW_SOUTH) for x in xs[:-1]]
        + [(WINDOW_EAST, float(y)) for y in ys[:-1]]
        + [(float(x), WINDOW_NORTH) for x in xs[::-1][:-1]]
        + [(WINDOW_WEST, float(y)) for y in ys[::-1][:-1]]
    )
    ring.append(ring[0])
    return [utm_to_lonlat(x, y) for x, y in ring]

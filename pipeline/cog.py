"""Windowed COG reads of one AOI from one scene -> :class:`~pipeline.types.Chip`.

Only the pixels of the AOI's bounding box are fetched: each band is opened (one header
request), its window on the scene's 10 m grid is computed, and only the tiles under that
window are read. The six bands are read concurrently (``settings.read_threads``).

The 10 m grid
    The AOI is projected to the scene's EPSG and its bounds are snapped *outward* to the
    10 m lattice anchored at the band's own upper-left corner (:func:`snap_grid`). Sentinel-2
    tiles put every band's corner on the same point, so every band yields the same grid;
    the reader checks that and fails loudly otherwise. 10 m bands are read with an integer
    window (no resampling at all). ``swir16`` (20 m) is resampled bilinearly and ``scl``
    (20 m) by nearest neighbour onto that grid through a :class:`rasterio.vrt.WarpedVRT`
    whose output *is* the chip grid, so a 10 m pixel centre falls at 1/4 or 3/4 of a 20 m
    pixel exactly; nodata never enters the bilinear kernel.

Reflectance
    ``DN * scale + offset`` per band as float32, NaN where the band has no data; the scale and
    offset come from the scene (decided by :mod:`pipeline.sources.offsets`). Then the
    dark-water check: when the darkest water says the offset is wrong, an
    :class:`~pipeline.errors.OffsetWarning` is emitted; for the Earth Search ``sentinel-2-l2a``
    rules known to be unreliable the five bands are also shifted by +/-0.1 (the warning says
    so); trusted rules are left alone.

``valid``
    Every band has data (not nodata, SCL not 0) and the pixel centre is inside the AOI outline.

Retries
    Each attempt signs the href afresh (``sign``), opens a new dataset handle inside
    ``rasterio.Env(**settings.gdal_env)`` with ``CPL_VSIL_CURL_NON_CACHED`` set to the file's
    ``/vsicurl/`` path, so that closing a failed handle drops everything GDAL cached about
    the URL (GDAL otherwise remembers a failed open and answers the retry from that cache).
    GDAL splits that option on ``:``, so in practice it disables the cross-handle
    ``/vsicurl/`` cache for the reading thread while the Env is active; each band is opened
    once per chip, so nothing is lost. Config options set in worker threads are
    thread-local in rasterio. Transient failures (HTTP 5xx/408/429, timeouts, resets,
    truncated reads) are retried with exponential back-off; 4xx, "not a TIFF", a CRS
    mismatch and an AOI outside the raster raise at once. Errors name the unsigned href and
    never carry a query string (SAS tokens, presigned signatures).
"""

from __future__ import annotations

import logging
import math
import re
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.features import geometry_mask
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pipeline.aoi import reproject
from pipeline.config import BANDS, Settings
from pipeline.errors import AoiOutsideSceneError, OffsetWarning, RasonWatchError, ReadError
from pipeline.sources.offsets import DARK_PERCENTILE, check_dark_water, correction_for
from pipeline.types import REFLECTANCE_BANDS, Aoi, BandAsset, Chip, Scene

log = logging.getLogger(__name__)

#: Ground sampling distance of the chip grid (the finest Sentinel-2 bands).
TARGET_RESOLUTION_M: Final = 10.0
#: Grids closer than this (metres) are the same grid.
GRID_TOLERANCE_M: Final = 1e-6
_HTTP_CODE: Final = re.compile(r"HTTP response code: (\d{3})")
_QUERY: Final = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\"]*")
_PERMANENT: Final = (
    "not recognized as being in a supported file format",
    "not recognized as a supported dataset name",
    "not a tiff",
    "no such file or directory",
    "permission denied",
)
_TRANSIENT_HTTP: Final = frozenset({408, 425, 429})
try:  # GDAL errors that rasterio raises without wrapping (e.g. from WarpedVRT)
    from rasterio._err import CPLE_BaseError as _CpleError
except ImportError:  # pragma: no cover - a rasterio without the private module
    _CpleError = RasterioError
#: What a failed GDAL read raises; anything else is a bug and propagates untouched.
GDAL_ERRORS: Final = (RasterioError, _CpleError, OSError)
T = TypeVar("T")


def identity(href: str) -> str:
    """The default ``sign``: read the href as it is."""
    return href


def gdal_path(href: str) -> str:
    """The GDAL path of an href: ``/vsicurl/`` for HTTP(S), ``/vsis3/`` for ``s3://``."""
    if href.startswith("/vsi"):
        return href
    if href.startswith(("http://", "https://")):
        return f"/vsicurl/{href}"
    if href.startswith("s3://"):
        return f"/vsis3/{href[len('s3://') :]}"
    if href.startswith("file://"):
        return href[len("file://") :]
    return href


def redact(text: str) -> str:
    """``text`` with every URL query string (tokens, signatures) replaced by ``<redacted>``."""
    return _QUERY.sub(r"\1?<redacted>", text)


@dataclass(frozen=True)
class ChipGrid:
    """The pixel grid of a chip: a window of a band's lattice, in the scene's CRS."""

    transform: Affine
    """Pixel-to-map transform of the chip's upper-left pixel (north-up)."""
    height: int
    """Rows."""
    width: int
    """Columns."""

    def __post_init__(self) -> None:
        if self.height <= 0 or self.width <= 0:
            raise ValueError(f"empty chip grid {self.height}x{self.width}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in map units."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    def same_as(self, other: ChipGrid) -> bool:
        """Equal shape and transform within :data:`GRID_TOLERANCE_M`."""
        return self.shape == other.shape and self.transform.almost_equals(
            other.transform, precision=GRID_TOLERANCE_M
        )


def snap_grid(
    bounds: tuple[float, float, float, float], *, origin: tuple[float, float], res: float
) -> ChipGrid:
    """The smallest grid of ``res``-sized cells aligned to ``origin`` that covers ``bounds``.

    Args:
        bounds: ``(west, south, east, north)`` in the CRS of ``origin``.
        origin: ``(x, y)`` of any lattice corner (a band's upper-left corner).
        res: cell size in map units.
    """
    west, south, east, north = bounds
    x0, y0 = origin
    eps = 1e-9
    col0 = math.floor((west - x0) / res + eps)
    col1 = math.ceil((east - x0) / res - eps)
    row0 = math.floor((y0 - north) / res + eps)
    row1 = math.ceil((y0 - south) / res - eps)
    transform = Affine(res, 0.0, x0 + col0 * res, 0.0, -res, y0 - row0 * res)
    return ChipGrid(transform, max(row1 - row0, 1), max(col1 - col0, 1))


def band_window(grid: ChipGrid, src_transform: Affine) -> Window:
    """The integer window of ``grid`` in a raster of the same resolution and lattice."""
    col, row = ~src_transform @ (grid.transform.c, grid.transform.f)
    return Window(round(col), round(row), grid.width, grid.height)


def classify(exc: BaseException) -> tuple[bool, str]:
    """``(transient, reason)`` of a GDAL/rasterio failure, from the whole exception chain."""
    messages: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 5:
        text = str(seen).strip()
        if text and text not in messages:
            messages.append(text)
        seen = seen.__cause__ or seen.__context__
    reason = redact(" <- ".join(messages) or type(exc).__name__)
    code = _HTTP_CODE.search(reason)
    if code:
        status = int(code.group(1))
        return (status >= 500 or status in _TRANSIENT_HTTP, reason)
    lowered = reason.lower()
    return (not any(p in lowered for p in _PERMANENT), reason)


def with_retries(fn: Callable[[], T], *, href: str, settings: Settings) -> T:
    """Call ``fn`` until it succeeds, a permanent failure, or ``settings.read_retries`` attempts.

    Raises:
        ReadError: a permanent failure, or the last transient one (href redacted).
        RasonWatchError: raised by ``fn`` itself (never retried).
    """
    attempts = max(1, settings.read_retries)
    delay = settings.retry_backoff_s
    shown = redact(href)
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except RasonWatchError:
            raise
        except GDAL_ERRORS as exc:
            transient, reason = classify(exc)
            if not transient:
                raise ReadError(f"cannot read {shown}: {reason}") from None
            if attempt == attempts:
                raise ReadError(
                    f"cannot read {shown} after {attempts} attempts: {reason}"
                ) from None
            log.warning("read %s failed (%s); retry %d/%d", shown, reason, attempt, attempts - 1)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class BandRead:
    """One band's pixels on the chip grid."""

    data: NDArray[np.float32]
    """DN (float32; fractional where resampled), undefined where ``has_data`` is False."""
    has_data: NDArray[np.bool_]
    """True where the band has data."""
    grid: ChipGrid
    """The grid the pixels lie on."""


def _read_open(
    src: DatasetReader, band: str, asset: BandAsset, aoi_bounds: tuple[float, ...], epsg: int
) -> BandRead:
    if src.crs is None or src.crs.to_epsg() != epsg:
        raise ReadError(f"{band} asset {asset.href} is in {src.crs}, the item says EPSG:{epsg}")
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise ReadError(f"{band} asset {asset.href} is rotated; only north-up rasters are read")
    west, south, east, north = aoi_bounds
    grid = snap_grid((west, south, east, north), origin=(t.c, t.f), res=TARGET_RESOLUTION_M)
    gw, gs, ge, gn = grid.bounds
    rw, rs, re_, rn = src.bounds
    if ge <= rw or gw >= re_ or gn <= rs or gs >= rn:
        raise AoiOutsideSceneError(
            f"the AOI lies outside the {band} raster of {asset.href} "
            f"(AOI {grid.bounds}, raster {tuple(src.bounds)}, EPSG:{epsg})"
        )
    nodata = src.nodata if src.nodata is not None else asset.nodata
    fill = float(nodata) if nodata is not None else 0.0
    if band == "scl":
        resampling, dtype = Resampling.nearest, "uint8"
    else:
        resampling, dtype = Resampling.bilinear, "float32"
    if math.isclose(t.a, TARGET_RESOLUTION_M) and math.isclose(-t.e, TARGET_RESOLUTION_M):
        data = _read_window(src, band_window(grid, t), fill)
    else:
        with WarpedVRT(
            src,
            crs=src.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=resampling,
            src_nodata=nodata,
            nodata=fill,
            dtype=dtype,
        ) as vrt:
            data = vrt.read(1).astype(np.float32)
    has_data = np.isfinite(data) & (data != fill)
    return BandRead(data, has_data, grid)


def _read_window(src: DatasetReader, window: Window, fill: float) -> NDArray[np.float32]:
    """Read ``window`` (which may overhang the raster) as float32, ``fill`` outside."""
    out = np.full((int(window.height), int(window.width)), fill, dtype=np.float32)
    col0, row0 = int(window.col_off), int(window.row_off)
    c0, r0 = max(col0, 0), max(row0, 0)
    c1 = min(col0 + int(window.width), src.width)
    r1 = min(row0 + int(window.height), src.height)
    if c1 > c0 and r1 > r0:
        part = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
        out[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = part
    return out


def read_band(
    band: str,
    asset: BandAsset,
    aoi_bounds: tuple[float, ...],
    *,
    epsg: int,
    settings: Settings,
    sign: Callable[[str], str],
) -> BandRead:
    """Read one band of the AOI window with retries and a fresh handle per attempt.

    Raises:
        AoiOutsideSceneError: the AOI does not overlap the raster.
        ReadError: the asset cannot be read (after retries for transient failures).
    """

    def attempt() -> BandRead:
        path = gdal_path(sign(asset.href))
        with (
            rasterio.Env(**settings.gdal_env, CPL_VSIL_CURL_NON_CACHED=path),
            rasterio.open(path) as src,
        ):
            return _read_open(src, band, asset, aoi_bounds, epsg)

    return with_retries(attempt, href=asset.href, settings=settings)


def _gather(futures: dict[str, Future[BandRead]]) -> dict[str, BandRead]:
    reads: dict[str, BandRead] = {}
    try:
        for band, future in futures.items():
            reads[band] = future.result()
    finally:
        for future in futures.values():
            future.cancel()
    return reads


def _apply_offset_check(
    scene: Scene, reflectance: NDArray[np.float32], scl: NDArray[np.uint8], valid: NDArray[np.bool_]
) -> None:
    nir = reflectance[REFLECTANCE_BANDS.index("nir")]
    swir = reflectance[REFLECTANCE_BANDS.index("swir16")]
    verdict = check_dark_water(nir, swir, scl, valid)
    if verdict.verdict in ("ok", "no-reference"):
        return
    offset = scene.assets["nir"].offset
    shift = correction_for(verdict, rule=scene.offset_rule, offset=offset)
    action = (
        f"corrected by {shift:+.1f} (suspect rule)"
        if shift
        else "left unchanged (the rule is trusted; check the item metadata)"
    )
    warnings.warn(
        OffsetWarning(
            f"scene {scene.id}: dark {verdict.reference} pixels look {verdict.verdict} "
            f"(p{DARK_PERCENTILE:g} NIR {verdict.nir:.3f}, SWIR16 {verdict.swir16:.3f}, "
            f"n={verdict.pixels}) "
            f"with offset {offset:+.1f} from rule {scene.offset_rule!r}; reflectance {action}"
        ),
        stacklevel=3,
    )
    if shift:
        reflectance += np.float32(shift)


def read_chip(
    scene: Scene,
    aoi: Aoi,
    *,
    settings: Settings,
    sign: Callable[[str], str] = identity,
) -> Chip:
    """Read the AOI window of ``blue, green, red, nir, swir16, scl`` from one scene.

    Args:
        scene: the scene (unsigned hrefs, scale/offset decided).
        aoi: the AOI (WGS84).
        settings: GDAL options, retries, threads.
        sign: called on each href just before every read attempt (the source's ``sign``).

    Raises:
        AoiOutsideSceneError: the AOI does not intersect the scene (footprint or raster).
        ReadError: a band is missing or cannot be read, or the bands disagree on their grid.
    """
    missing = [b for b in BANDS if b not in scene.assets]
    if missing:
        raise ReadError(f"scene {scene.id} has no asset for {', '.join(missing)}")
    if scene.bbox is not None and not box(*scene.bbox).intersects(aoi.geometry):
        raise AoiOutsideSceneError(
            f"AOI {aoi.id} lies outside scene {scene.id} (bbox {scene.bbox})"
        )
    outline: BaseGeometry = reproject(aoi.geometry, dst_epsg=scene.epsg)
    bounds = tuple(float(v) for v in outline.bounds)
    with ThreadPoolExecutor(max_workers=max(1, settings.read_threads)) as pool:
        futures = {
            band: pool.submit(
                read_band,
                band,
                scene.assets[band],
                bounds,
                epsg=scene.epsg,
                settings=settings,
                sign=sign,
            )
            for band in BANDS
        }
        reads = _gather(futures)
    grid = reads[BANDS[0]].grid
    for band, read in reads.items():
        if not read.grid.same_as(grid):
            raise ReadError(
                f"scene {scene.id}: band {band} lies on another grid ({read.grid}) than "
                f"{BANDS[0]} ({grid}); its assets are not one Sentinel-2 tile"
            )
    has_data = np.logical_and.reduce([reads[b].has_data for b in BANDS])
    reflectance = np.empty((len(REFLECTANCE_BANDS), *grid.shape), dtype=np.float32)
    for i, band in enumerate(REFLECTANCE_BANDS):
        asset = scene.assets[band]
        values = reads[band].data * np.float32(asset.scale) + np.float32(asset.offset)
        reflectance[i] = np.where(reads[band].has_data, values, np.float32(np.nan))
    scl = np.where(reads["scl"].has_data, reads["scl"].data, 0).astype(np.uint8)
    inside = geometry_mask([outline], out_shape=grid.shape, transform=grid.transform, invert=True)
    valid = has_data & inside
    _apply_offset_check(scene, reflectance, scl, valid)
    return Chip(
        scene_id=scene.id,
        aoi_id=aoi.id,
        reflectance=reflectance,
        scl=scl,
        valid=valid,
        transform=grid.transform,
        epsg=scene.epsg,
    )

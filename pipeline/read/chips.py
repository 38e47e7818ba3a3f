"""Windowed COG reads of AOIs from one scene -> :class:`~pipeline.types.Chip` per AOI.

Only the pixels of each AOI's bounding box are fetched. Each band file of the scene is
opened *once* for all the AOIs being read (one header request; GDAL's ``/vsicurl/`` cache
keeps the header for later handles), each AOI's window on the scene's 10 m grid is
computed, and only the tiles under those windows are read. The six bands are read
concurrently (``settings.read_threads``). :func:`read_chips` reads several AOIs of a scene
in one pass; :func:`read_chip` is the one-AOI case.

The 10 m grid
    The AOI is projected to the scene's EPSG and its bounds are snapped *outward* to the
    10 m lattice anchored at the band's own upper-left corner
    (:func:`~pipeline.read.grid.snap_grid`). Sentinel-2 tiles put every band's corner on the
    same point, so every band yields the same grid; the reader checks that and fails loudly
    otherwise. 10 m bands are read with an integer window (no resampling at all).
    ``swir16`` (20 m) is resampled bilinearly and ``scl`` (20 m) by nearest neighbour onto
    that grid through a :class:`rasterio.vrt.WarpedVRT` whose output *is* the chip grid, so
    a 10 m pixel centre falls at 1/4 or 3/4 of a 20 m pixel exactly; nodata never enters
    the bilinear kernel.

    Every position comes from the band file's own georeferencing as GDAL reads it (over HTTP,
    :mod:`pipeline.read.tile_fetch` must agree with GDAL or fall back to ``/vsicurl/``); the item's
    ``proj:transform`` / ``proj:shape`` are never used to place a window. They can be wrong:
    Earth Search's published test scenes are decimated x10 while their items still describe
    the 10980-pixel files. A file in another CRS than the item's EPSG, rotated, or not
    north-up is refused with a :class:`~pipeline.errors.ReadError`.

JPEG 2000 and ``s3://``
    Files other than HTTP(S) GeoTIFFs (the Level-1C JPEG 2000 of CDSE and Earth Search, local
    files) are opened by GDAL itself (``/vsicurl/``, ``/vsis3/``). A requester-pays ``s3://``
    href is read with ``AWS_REQUEST_PAYER=requester``, and refused before anything is opened
    when the environment has no AWS credentials (:mod:`pipeline.read.s3_access`).

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
    Each attempt signs the href afresh (``sign``) and opens a new dataset handle; transient
    failures are retried with back-off, permanent ones raise at once, and the attempt after
    a failure bypasses GDAL's caches (:mod:`pipeline.read.retry`). Errors name the unsigned
    href and never carry a query string (SAS tokens, presigned signatures).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from pipeline.config import BANDS, Settings
from pipeline.detect.toa_mask import scl_from_toa
from pipeline.errors import AoiOutsideSceneError, OffsetWarning, ReadError
from pipeline.geo.projection import reproject
from pipeline.geo.redaction import redact
from pipeline.read.grid import (
    GRID_TOLERANCE_M,
    TARGET_RESOLUTION_M,
    ChipGrid,
    band_window,
    read_window,
    snap_grid,
)
from pipeline.read.retry import (
    GDAL_ERRORS,
    classify,
    gdal_path,
    identity,
    read_env,
    with_retries,
)
from pipeline.read.s3_access import s3_read_options
from pipeline.read.tile_fetch import FallBackError, read_windows
from pipeline.sources.offsets import DARK_PERCENTILE, check_dark_water, correction_for
from pipeline.types import REFLECTANCE_BANDS, Aoi, BandAsset, Chip, Scene

__all__ = [
    "GDAL_ERRORS",
    "GRID_TOLERANCE_M",
    "TARGET_RESOLUTION_M",
    "BandRead",
    "ChipGrid",
    "band_window",
    "classify",
    "gdal_path",
    "identity",
    "read_band",
    "read_chip",
    "read_chips",
    "redact",
    "snap_grid",
    "with_retries",
]

Bounds = tuple[float, float, float, float]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BandRead:
    """One band's pixels on one chip grid."""

    data: NDArray[np.float32]
    """DN (float32; fractional where resampled), undefined where ``has_data`` is False."""
    has_data: NDArray[np.bool_]
    """True where the band has data."""
    grid: ChipGrid
    """The grid the pixels lie on."""


def _read_open(
    src: DatasetReader, band: str, asset: BandAsset, aoi_bounds: Bounds, epsg: int
) -> BandRead:
    t = src.transform
    grid = snap_grid(aoi_bounds, origin=(t.c, t.f), res=TARGET_RESOLUTION_M)
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
        data = read_window(src, band_window(grid, t), fill)
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


def _check_georeferencing(src: DatasetReader, band: str, asset: BandAsset, epsg: int) -> None:
    if src.crs is None or src.crs.to_epsg() != epsg:
        raise ReadError(f"{band} asset {asset.href} is in {src.crs}, the item says EPSG:{epsg}")
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise ReadError(f"{band} asset {asset.href} is rotated; only north-up rasters are read")
    if not (t.a > 0 and t.e < 0):
        raise ReadError(
            f"{band} asset {asset.href} is not north-up (pixel size {t.a:g} x {t.e:g}); "
            "only north-up rasters are read"
        )


def _is_http_tiff(url: str) -> bool:
    """An HTTP(S) URL the short path may read (JPEG 2000, as CDSE serves, goes to GDAL)."""
    path = url.split("?", 1)[0].lower()
    return path.startswith(("http://", "https://")) and not path.endswith((".jp2", ".j2k"))


def read_band(
    band: str,
    asset: BandAsset,
    aoi_bounds: Sequence[Bounds],
    *,
    epsg: int,
    settings: Settings,
    sign: Callable[[str], str],
) -> list[BandRead]:
    """Read the windows of several AOIs from one band file, opened once, with retries.

    Args:
        band: the band's name (decides the resampling).
        asset: the band's asset (unsigned href, nodata).
        aoi_bounds: each AOI's bounds in the scene's CRS; one read per entry, in order.
        epsg: the scene's EPSG code, which the file must carry.
        settings: GDAL options and retries.
        sign: called on the href before every attempt.

    Raises:
        AoiOutsideSceneError: an AOI does not overlap the raster.
        ReadError: the asset cannot be read (after retries for transient failures).
    """

    def read_all(src: DatasetReader) -> list[BandRead]:
        _check_georeferencing(src, band, asset, epsg)
        return [_read_open(src, band, asset, bounds, epsg) for bounds in aoi_bounds]

    def attempt() -> list[BandRead]:
        url = sign(asset.href)
        if settings.fetch_tiles and _is_http_tiff(url):
            try:
                return read_windows(url, aoi_bounds, settings=settings, read=read_all)
            except FallBackError as why:
                log.debug("%s: reading through /vsicurl/ (%s)", redact(asset.href), why)
        options = s3_read_options(url, settings.aws_env)  # before any open
        path = gdal_path(url)
        with read_env(asset.href, path, settings, options), rasterio.open(path) as src:
            return read_all(src)

    return with_retries(attempt, href=asset.href, settings=settings)


def _gather(futures: dict[str, Future[list[BandRead]]]) -> dict[str, list[BandRead]]:
    reads: dict[str, list[BandRead]] = {}
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


def _outline(scene: Scene, aoi: Aoi) -> BaseGeometry:
    """``aoi`` in the scene's CRS, after checking it meets the scene's footprint."""
    if scene.bbox is not None and not box(*scene.bbox).intersects(aoi.geometry):
        raise AoiOutsideSceneError(
            f"AOI {aoi.id} lies outside scene {scene.id} (bbox {scene.bbox})"
        )
    return reproject(aoi.geometry, dst_epsg=scene.epsg)


def _assemble(scene: Scene, aoi: Aoi, outline: BaseGeometry, reads: dict[str, BandRead]) -> Chip:
    """One AOI's chip from its band reads: reflectance, SCL, ``valid``, offset check.

    A Level-1C scene has no SCL: its classification comes from the TOA bands
    (:func:`pipeline.detect.toa_mask.scl_from_toa`), and the dark-water offset check, made
    for surface reflectance, is not applied.
    """
    grid = reads[BANDS[0]].grid
    for band, read in reads.items():
        if not read.grid.same_as(grid):
            raise ReadError(
                f"scene {scene.id}: band {band} lies on another grid ({read.grid}) than "
                f"{BANDS[0]} ({grid}); its assets are not one Sentinel-2 tile"
            )
    has_data = np.logical_and.reduce([r.has_data for r in reads.values()])
    reflectance = np.empty((len(REFLECTANCE_BANDS), *grid.shape), dtype=np.float32)
    for i, band in enumerate(REFLECTANCE_BANDS):
        asset = scene.assets[band]
        values = reads[band].data * np.float32(asset.scale) + np.float32(asset.offset)
        reflectance[i] = np.where(reads[band].has_data, values, np.float32(np.nan))
    inside = geometry_mask([outline], out_shape=grid.shape, transform=grid.transform, invert=True)
    valid = has_data & inside
    if scene.level == "L1C":
        scl = scl_from_toa(np.nan_to_num(reflectance), has_data)
    else:
        scl = np.where(reads["scl"].has_data, reads["scl"].data, 0).astype(np.uint8)
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


def read_chips(
    scene: Scene,
    aois: Sequence[Aoi],
    *,
    settings: Settings,
    sign: Callable[[str], str] = identity,
    allow_l1c: bool = False,
) -> list[Chip]:
    """Read the windows of ``aois`` of ``blue, green, red, nir, swir16, scl`` from one scene.

    A Level-1C scene is read only with ``allow_l1c`` (its chips then hold TOA reflectance and
    a classification made from it): a caller must know to bring it to surface reflectance
    before it meets a detector, as :func:`pipeline.detect.analyse.analyse_chip` does.

    Each band file is opened once for all the AOIs, so a file's header is fetched once per
    scene however many AOIs it serves. All or nothing: any AOI that cannot be read fails
    the call.

    Args:
        scene: the scene (unsigned hrefs, scale/offset decided).
        aois: the AOIs (WGS84); one chip each, in order.
        settings: GDAL options, retries, threads.
        sign: called on each href just before every read attempt (the source's ``sign``).
        allow_l1c: read a Level-1C scene (TOA) instead of refusing it.

    Raises:
        AoiOutsideSceneError: an AOI does not intersect the scene (footprint or raster).
        ReadError: a band is missing or cannot be read, the bands disagree on their grid,
            or the scene is Level-1C and ``allow_l1c`` is not set.
        MissingS3CredentialsError: a band lies in a requester-pays bucket (Earth Search's
            Level-1C JPEG 2000) and the environment has no AWS credentials; raised before
            any file is opened (:mod:`pipeline.read.s3_access`).
    """
    if scene.level != "L2A" and not allow_l1c:
        raise ReadError(
            f"scene {scene.id} is {scene.level} (top of atmosphere, no SCL): pass "
            "allow_l1c=True to read it, and calibrate it before counting "
            "(pipeline.detect.toa_calibrate)"
        )
    bands = BANDS if scene.level == "L2A" else tuple(b for b in BANDS if b != "scl")
    missing = [b for b in bands if b not in scene.assets]
    if missing:
        raise ReadError(f"scene {scene.id} has no asset for {', '.join(missing)}")
    for band in bands:  # a requester-pays href without credentials fails before any read
        s3_read_options(scene.assets[band].href, settings.aws_env)
    outlines = [_outline(scene, aoi) for aoi in aois]
    bounds: list[Bounds] = []
    for outline in outlines:
        west, south, east, north = (float(v) for v in outline.bounds)
        bounds.append((west, south, east, north))
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
            for band in bands
        }
        reads = _gather(futures)
    return [
        _assemble(scene, aoi, outline, {band: reads[band][i] for band in bands})
        for i, (aoi, outline) in enumerate(zip(aois, outlines, strict=True))
    ]


def read_chip(
    scene: Scene,
    aoi: Aoi,
    *,
    settings: Settings,
    sign: Callable[[str], str] = identity,
    allow_l1c: bool = False,
) -> Chip:
    """Read the AOI window of ``blue, green, red, nir, swir16, scl`` from one scene.

    The one-AOI case of :func:`read_chips`, with the same arguments and errors.
    """
    return read_chips(scene, [aoi], settings=settings, sign=sign, allow_l1c=allow_l1c)[0]

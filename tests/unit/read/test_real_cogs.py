"""Real GeoTIFFs written by other projects, read over HTTP exactly as GDAL reads them on disk.

``../shared/datasets/real-cogs`` (read in place, never copied) holds a real Earth Search
Sentinel-2 scene decimated x10 with its real STAC item, and TIFF layouts from other projects
(PixelIsPoint, striped, BigTIFF, big-endian, internal masks, LZW/PackBits/JPEG, GCPs only, no
CRS, inverted latitude, a malformed header). Every ``*.tif`` found there is tested, so a new
file is covered without editing this module. The rule, per file:

* the pixels read over HTTP by our short path (:func:`pipeline.read.tile_fetch.read_windows`) equal
  GDAL's own windowed read of the local file bit for bit, on the same transform; or
* the file takes the ``/vsicurl/`` fallback with a one-line reason (and GDAL then reads it
  right), or is refused with a typed error and a one-line reason;
* never a silently shifted or zero-filled window.

:data:`EXPECTED` pins what each known file does, so a regression (a PixelIsPoint file sent
back to the fallback, say) fails; a file it does not list must obey the rule all the same.
The real scene is also read end to end through :func:`pipeline.read.chips.read_chip`: the item says
10 m pixels and 10980 columns, the files hold 100 m pixels and 1098 columns, and the reader
must place the chip by the files' own georeferencing.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pytest
import rasterio
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, bounds
from servers import RangeFileServer, serving_in_process
from shapely.geometry import Polygon

from pipeline.config import GDAL_ENV, Settings
from pipeline.errors import ReadError
from pipeline.geo.projection import reproject
from pipeline.read.chips import read_band, read_chip
from pipeline.read.retry import gdal_path, identity
from pipeline.read.tiff_layout import (
    HeaderIncompleteError,
    TileLayout,
    UnsupportedLayoutError,
    parse_layout,
)
from pipeline.read.tile_fetch import FallBackError, TruncatedCogError, read_windows
from pipeline.sources.normalise import normalise_item
from pipeline.types import REFLECTANCE_BANDS, Aoi, BandAsset, Chip, Scene

REAL_COGS: Final = Path(__file__).resolve().parents[4] / "shared/datasets/real-cogs"
SCENE_DIR: Final = "earth-search-s2-29RKH"
ITEM_FILE: Final = "S2A_29RKH_20200219_0_L2A.json"
HEADER_BYTES: Final = int(GDAL_ENV["GDAL_INGESTED_BYTES_AT_OPEN"])
#: No retries: every failure here is permanent, and a retried one only costs time.
ONCE: Final = Settings(read_retries=1, retry_backoff_s=0.0, read_threads=2)
MISSING: Final = f"real COGs not found at {REAL_COGS} (a fresh clone has none)"

pytestmark = pytest.mark.shared


@dataclass(frozen=True)
class Outcome:
    """What reading a file over HTTP does."""

    kind: Literal["short", "fallback", "refused"]
    """Short path, bit-identical; ``/vsicurl/`` fallback; or a typed refusal."""
    reason: str = ""
    """Regular expression the fallback's or the refusal's reason must match."""


SHORT: Final = Outcome("short")
#: What each known file does over HTTP, by path under ``real-cogs``.
EXPECTED: Final = {
    **{f"{SCENE_DIR}/{band}.tif": SHORT for band in ("B01", "B02", "B03", "B04", "B08")},
    f"{SCENE_DIR}/B11.tif": SHORT,
    f"{SCENE_DIR}/SCL.tif": SHORT,
    # PixelIsPoint: placed half a pixel up and left of the tiepoint, as GDAL does.
    "tiff-variants/riotiler_cog.tif": SHORT,
    "tiff-variants/riotiler_web.tif": SHORT,
    "tiff-variants/riotiler_cog_int16.tif": SHORT,
    "tiff-variants/riotiler_cog_nonearth.tif": SHORT,
    "tiff-variants/riotiler_cog_rgb_mask.tif": SHORT,
    "tiff-variants/riotiler_cog_uint8_rgb_mask.tif": SHORT,
    "tiff-variants/riotiler_nocog.tif": Outcome("fallback", "striped"),
    "tiff-variants/riotiler_inverted_lat.tif": Outcome("fallback", "ModelTransformation"),
    "tiff-variants/riotiler_cog_gcps_ovr.tif": Outcome("fallback", r"tiepoints \(GCPs\)"),
    "tiff-variants/asynccog_BigTIFF.tif": Outcome("fallback", "no ModelPixelScale"),
    "tiff-variants/asynccog_be_cog.tif": Outcome("fallback", "no ModelPixelScale"),
    "tiff-variants/asynccog_cog.tif": Outcome("fallback", "no ModelPixelScale"),
    "tiff-variants/asynccog_packbits.tif": Outcome("fallback", "no ModelPixelScale"),
    "tiff-variants/asynccog_invalid_cog.tif": Outcome("fallback", "not a TIFF"),
    # Its full-resolution tiles lie past the end of the file: GDAL cannot read them either.
    "tiff-variants/asynccog_lzw.tif": Outcome("refused", "past the end of the"),
}
#: What the product's band reader (:func:`pipeline.read.chips.read_band`) refuses, over HTTP and
#: on disk alike; every other file must read the same both ways.
PRODUCT_REFUSALS: Final = {
    "tiff-variants/riotiler_inverted_lat.tif": "not north-up",
    "tiff-variants/riotiler_cog_nonearth.tif": "the item says EPSG:32629",
    "tiff-variants/riotiler_cog_gcps_ovr.tif": "is in None",
    "tiff-variants/asynccog_BigTIFF.tif": "is in None",
    "tiff-variants/asynccog_be_cog.tif": "is in None",
    "tiff-variants/asynccog_cog.tif": "is in None",
    "tiff-variants/asynccog_packbits.tif": "is in None",
    "tiff-variants/asynccog_invalid_cog.tif": "not recognized",
    "tiff-variants/asynccog_lzw.tif": "",
}


def _files() -> list[Any]:
    """One pytest param per ``*.tif`` under :data:`REAL_COGS` (a skip when it is absent)."""
    if not REAL_COGS.is_dir():
        return [pytest.param("", id="real-cogs-absent", marks=pytest.mark.skip(reason=MISSING))]
    found = sorted(p.relative_to(REAL_COGS).as_posix() for p in REAL_COGS.rglob("*.tif"))
    return [pytest.param(name, id=name) for name in found]


FILES: Final = _files()


@pytest.fixture(scope="module")
def real_server() -> Iterator[RangeFileServer]:
    """The Range server of the tests, over ``real-cogs`` itself (files read in place)."""
    if not REAL_COGS.is_dir():
        pytest.skip(MISSING)
    with RangeFileServer(REAL_COGS) as server:
        yield server


@pytest.fixture(scope="module")
def real_url() -> Iterator[str]:
    """The same server in a child process (base URL), for tests that may reach ``/vsicurl/``.

    GDAL holds the GIL during some of its HTTP reads (the overview IFDs of the BigTIFF lie
    past the first 64 KiB): an in-process server would only answer after curl's timeout.
    """
    if not REAL_COGS.is_dir():
        pytest.skip(MISSING)
    with serving_in_process(REAL_COGS) as url:
        yield url


def _one_line(text: str) -> str:
    assert text.strip(), "an empty reason"
    assert "\n" not in text, f"a reason of several lines: {text!r}"
    return text


def _layout(path: Path) -> TileLayout | str:
    """What :func:`parse_layout` makes of the file's header, read as the short path does.

    A string is the reason it refused the file.
    """
    raw = path.read_bytes()
    try:
        try:
            return parse_layout(raw[:HEADER_BYTES])
        except HeaderIncompleteError as short:
            return parse_layout(raw[: short.needed * 2])
    except UnsupportedLayoutError as refused:
        return str(refused)


def _interior(extent: int, block: int) -> tuple[int, int]:
    """``(offset, size)`` of a span near the middle, across a block edge when there is one."""
    size = max(1, min(48, extent // 3))
    edge = (extent // 2) // block * block
    start = edge - size // 2 if edge > 0 else extent // 2 - size // 2
    return max(0, min(start, extent - size)), size


@dataclass(frozen=True)
class LocalRead:
    """GDAL's own read of the local file (``error`` when GDAL cannot read it)."""

    window: Window
    bounds: tuple[float, float, float, float]
    transform: Any = None
    data: NDArray[Any] | None = None
    masks: NDArray[Any] | None = None
    error: str = ""


def _local_read(path: Path) -> LocalRead:
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        window = Window(0, 0, 16, 16)
        return LocalRead(window, (0.0, 0.0, 16.0, 16.0), error=str(exc))
    with src:
        block_rows, block_cols = src.block_shapes[0]
        col, width = _interior(src.width, block_cols)
        row, height = _interior(src.height, block_rows)
        window = Window(col, row, width, height)
        west, south, east, north = bounds(window, src.transform)
        box = (min(west, east), min(south, north), max(west, east), max(south, north))
        try:
            data = src.read(window=window)
        except RasterioIOError as exc:
            return LocalRead(window, box, src.transform, error=str(exc))
        return LocalRead(window, box, src.transform, data, src.read_masks(window=window))


def _read(window: Window) -> Any:
    def read(src: DatasetReader) -> tuple[Any, NDArray[Any], NDArray[Any] | None]:
        data = src.read(window=window)
        try:
            masks = src.read_masks(window=window)
        except RasterioIOError:  # an internal mask whose tiles were not fetched: loud
            masks = None
        return src.transform, data, masks

    return read


# --- the header parser places every raster where GDAL does -------------------------------------
@pytest.mark.parametrize("name", FILES)
def test_layout_places_the_raster_where_gdal_does(name: str) -> None:
    """What the header parser accepts, it places exactly as GDAL does (PixelIsPoint too)."""
    path = REAL_COGS / name
    expected = EXPECTED.get(name)
    layout = _layout(path)
    if isinstance(layout, str):
        assert expected is None or expected.kind != "short", f"{name}: {layout}"
        _one_line(layout)
        return
    with rasterio.open(path) as src:
        assert layout.transform == src.transform, name  # exactly, not within a tolerance
        assert (layout.width, layout.height) == (src.width, src.height)
        assert (layout.tile_height, layout.tile_width) == src.block_shapes[0]


def _pixel_is_point(name: str) -> Path:
    path = REAL_COGS / "tiff-variants" / name
    if not path.is_file():
        pytest.skip(f"{path} is missing ({MISSING})")
    return path


def test_pixel_is_point_moves_the_origin_half_a_pixel_like_gdal() -> None:
    path = _pixel_is_point("riotiler_cog.tif")
    raw = path.read_bytes()[:HEADER_BYTES]
    shifted = parse_layout(raw).transform
    as_area = parse_layout(raw, point_geo_ignore=True).transform
    with rasterio.open(path) as src:
        assert src.tags()["AREA_OR_POINT"] == "Point"
        assert shifted == src.transform
    # The tiepoint names the centre of the upper-left pixel: GDAL's corner is half a pixel
    # west and north of it.
    assert shifted.c == pytest.approx(as_area.c - as_area.a / 2, abs=1e-9)
    assert shifted.f == pytest.approx(as_area.f - as_area.e / 2, abs=1e-9)
    with rasterio.Env(GTIFF_POINT_GEO_IGNORE=True), rasterio.open(path) as src:
        assert as_area == src.transform


# --- over HTTP, file by file -------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_http_window_equals_gdal_window_or_falls_back_with_a_reason(
    name: str, real_url: str
) -> None:
    local = _local_read(REAL_COGS / name)
    url = f"{real_url}/{name}"
    try:
        transform, data, masks = read_windows(
            url, [local.bounds], settings=ONCE, read=_read(local.window)
        )
    except FallBackError as why:
        outcome, reason = Outcome("fallback"), _one_line(str(why))
        _check_fallback_reads_like_gdal(url, local)
    except TruncatedCogError as why:
        outcome, reason = Outcome("refused"), _one_line(str(why))
        assert local.error, f"{name}: refused, yet GDAL reads the window on disk"
    else:
        outcome, reason = SHORT, ""
        assert not local.error, f"{name}: GDAL fails on disk ({local.error}) but HTTP read"
        assert local.data is not None
        assert transform == local.transform, name  # the same georeferenced position
        assert data.dtype == local.data.dtype
        np.testing.assert_array_equal(data, local.data)  # bit for bit
        if masks is not None:  # read, or failed loudly; never a made-up mask
            np.testing.assert_array_equal(masks, local.masks)
    expected = EXPECTED.get(name)
    if expected is not None:
        assert outcome.kind == expected.kind, f"{name}: {outcome.kind} ({reason})"
        assert re.search(expected.reason, reason), f"{name}: {reason}"


def _check_fallback_reads_like_gdal(url: str, local: LocalRead) -> None:
    """``/vsicurl/`` reads what GDAL reads on disk, or fails where GDAL fails on disk."""
    with rasterio.Env(**ONCE.gdal_env):
        if local.error:
            with pytest.raises(RasterioIOError), rasterio.open(gdal_path(url)) as src:
                src.read(window=local.window)
            return
        with rasterio.open(gdal_path(url)) as src:
            assert src.transform == local.transform
            np.testing.assert_array_equal(src.read(window=local.window), local.data)


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_band_reader_reads_the_same_over_http_and_on_disk(name: str, real_url: str) -> None:
    """:func:`pipeline.read.chips.read_band`: the same chip both ways, or the same refusal."""
    path = REAL_COGS / name
    try:
        with rasterio.open(path) as src:
            epsg = (src.crs.to_epsg() if src.crs else None) or 32629
    except RasterioIOError:
        epsg = 32629
    box = _local_read(path).bounds
    # About 8 x 8 source pixels around the middle of the window the other test reads.
    west, south, east, north = box
    cx, cy, half_w, half_h = (
        (west + east) / 2,
        (south + north) / 2,
        (east - west) / 12,
        (north - south) / 12,
    )
    small = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def band(href: str) -> Any:
        try:
            return read_band(
                "red", BandAsset(href=href), [small], epsg=epsg, settings=ONCE, sign=identity
            )[0]
        except ReadError as exc:
            return exc

    over_http, on_disk = band(f"{real_url}/{name}"), band(str(path))
    if name in PRODUCT_REFUSALS or isinstance(on_disk, ReadError):
        assert isinstance(over_http, ReadError), f"{name}: read over HTTP, refused on disk"
        assert isinstance(on_disk, ReadError), f"{name}: refused over HTTP, read on disk"
        _one_line(str(over_http))
        assert re.search(PRODUCT_REFUSALS.get(name, ""), str(over_http)), str(over_http)
        return
    assert not isinstance(over_http, ReadError), f"{name}: {over_http}"
    assert over_http.grid.same_as(on_disk.grid)
    assert over_http.grid.transform == on_disk.grid.transform
    np.testing.assert_array_equal(over_http.data, on_disk.data)
    np.testing.assert_array_equal(over_http.has_data, on_disk.has_data)


# --- the real scene, end to end ----------------------------------------------------------------
@pytest.fixture(scope="module")
def s2_item() -> dict[str, Any]:
    """The real Earth Search item of the decimated scene."""
    path = REAL_COGS / SCENE_DIR / ITEM_FILE
    if not path.is_file():
        pytest.skip(f"{path} is missing ({MISSING})")
    item: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return item


def _scene(item: dict[str, Any], base: str) -> Scene:
    """The item normalised, every asset href re-pointed at ``base``/<file name>."""
    item = copy.deepcopy(item)
    for asset in item["assets"].values():
        asset["href"] = f"{base}/{asset['href'].rsplit('/', 1)[-1]}"
    return normalise_item(item, source="earth-search")


#: A 2.5 x 2.5 km AOI inside tile 29RKH (UTM 29N), off the 10 m lattice on purpose, where
#: SCL holds four classes (bare soil, clouds of two probabilities, cirrus): a chip shifted
#: by a pixel would not match.
AOI_UTM: Final = Polygon(
    [
        (301_597.0, 2_787_103.0),
        (304_113.0, 2_787_103.0),
        (304_113.0, 2_789_611.0),
        (301_597.0, 2_789_611.0),
    ]
)
AOI: Final = Aoi(
    id="real-29rkh",
    name="real-29rkh",
    kind="port",
    geometry=reproject(AOI_UTM, src_epsg=32629, dst_epsg=4326),
)


def _direct(path: Path, chip: Chip, resampling: Resampling, dtype: str) -> NDArray[Any]:
    """The band on the chip's grid, read by rasterio from the local file."""
    with (
        rasterio.open(path) as src,
        WarpedVRT(
            src,
            crs=src.crs,
            transform=chip.transform,
            width=chip.shape[1],
            height=chip.shape[0],
            resampling=resampling,
            src_nodata=0,
            nodata=0,
            dtype=dtype,
        ) as vrt,
    ):
        return np.asarray(vrt.read(1))


@pytest.mark.slow
def test_real_scene_chip_over_http_equals_direct_rasterio_reads(
    s2_item: dict[str, Any], real_server: RangeFileServer
) -> None:
    folder = REAL_COGS / SCENE_DIR
    remote = _scene(s2_item, real_server.href(SCENE_DIR))
    local = _scene(s2_item, str(folder))
    real_server.reset_stats()
    chip = read_chip(remote, AOI, settings=ONCE)
    # Every band took the short path: one ranged GET for the header, then the tiles; no HEAD.
    for band in ("blue", "green", "red", "nir", "swir16", "scl"):
        stats = real_server.stats("/" + remote.assets[band].href.split("/", 3)[3])
        assert stats.full_gets == 0, band
        assert stats.ranges, band
        assert stats.ranges[0][0] == 0, band
        assert stats.requests == len(stats.ranges), band
    # The chip lies on the files' own 10 m lattice and covers the AOI.
    with rasterio.open(folder / "B04.tif") as src:
        origin = src.transform
    assert (origin.a, origin.e) == (100.0, -100.0)  # the files: 100 m; the item says 10 m
    t = chip.transform
    assert (t.a, t.e) == (10.0, -10.0)
    assert (t.c - origin.c) % 10.0 == 0.0
    assert (origin.f - t.f) % 10.0 == 0.0
    west, south, east, north = AOI_UTM.bounds
    chip_east, chip_south = t.c + t.a * chip.shape[1], t.f + t.e * chip.shape[0]
    assert t.c <= west < t.c + 10
    assert chip_east - 10 < east <= chip_east
    assert chip_south <= south < chip_south + 10
    assert t.f - 10 < north <= t.f
    # Bit for bit what the same reader makes of the local files (GDAL reading the disk) ...
    on_disk = read_chip(local, AOI, settings=ONCE)
    assert on_disk.transform == chip.transform
    np.testing.assert_array_equal(chip.reflectance, on_disk.reflectance)
    np.testing.assert_array_equal(chip.scl, on_disk.scl)
    np.testing.assert_array_equal(chip.valid, on_disk.valid)
    # ... and what rasterio reads from the local files on the chip's grid.
    for band in REFLECTANCE_BANDS:
        asset = local.assets[band]
        dn = _direct(Path(asset.href), chip, Resampling.bilinear, "float32")
        expected = np.where(
            dn != 0, dn * np.float32(asset.scale) + np.float32(asset.offset), np.float32(np.nan)
        ).astype(np.float32)
        np.testing.assert_array_equal(chip.band(band), expected, err_msg=band)
    np.testing.assert_array_equal(
        chip.scl, _direct(folder / "SCL.tif", chip, Resampling.nearest, "uint8")
    )
    # SCL once more without the warper: the 200 m pixel under each 10 m pixel centre.
    with rasterio.open(folder / "SCL.tif") as src:
        scl = src.read(1)
        scl_t = src.transform
    rows = np.floor((scl_t.f - (t.f + t.e * (np.arange(chip.shape[0]) + 0.5))) / -scl_t.e)
    cols = np.floor((t.c + t.a * (np.arange(chip.shape[1]) + 0.5) - scl_t.c) / scl_t.a)
    np.testing.assert_array_equal(chip.scl, scl[rows.astype(int)[:, None], cols.astype(int)])
    assert len(np.unique(chip.scl)) >= 4  # a chip with something in it
    assert chip.valid.mean() > 0.9


@pytest.mark.slow
def test_item_grid_metadata_never_moves_the_window(
    s2_item: dict[str, Any], real_server: RangeFileServer
) -> None:
    """The item's ``proj:transform`` / ``proj:shape`` / ``gsd`` do not place the chip.

    They already disagree with the decimated files (10 m and 10980 px against 100 m and
    1098 px); here they are moved 1 km further. The chip must not move with them.
    """
    base = real_server.href(SCENE_DIR)
    item = copy.deepcopy(s2_item)
    for asset in item["assets"].values():
        if "proj:transform" in asset:
            res = float(asset["proj:transform"][0])
            asset["proj:transform"] = [res * 3, 0, 199_980 + 1_000, 0, -res * 3, 2_800_020 - 1_000]
            asset["proj:shape"] = [3660, 3660]
        if "gsd" in asset:
            asset["gsd"] = float(asset["gsd"]) * 3
        for band in asset.get("raster:bands", []):
            if "spatial_resolution" in band:
                band["spatial_resolution"] = float(band["spatial_resolution"]) * 3
    moved = read_chip(_scene(item, base), AOI, settings=ONCE)
    truth = read_chip(_scene(s2_item, base), AOI, settings=ONCE)
    assert _scene(item, base).assets["red"].resolution_m == 30.0  # the item did change
    assert moved.transform == truth.transform
    np.testing.assert_array_equal(moved.reflectance, truth.reflectance)
    np.testing.assert_array_equal(moved.scl, truth.scl)
    assert math.isfinite(float(np.nanmean(truth.band("red"))))

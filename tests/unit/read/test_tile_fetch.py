"""The HTTP short path: header and tiles fetched by us, decoded by GDAL, pixel for pixel.

* :mod:`pipeline.read.tiff_layout` reads the same tile offsets, sizes and georeferencing as GDAL,
  for classic TIFF and BigTIFF in both byte orders, and refuses what it cannot describe.
* :func:`pipeline.read.tile_fetch.tile_ranges` merges neighbouring tiles and never asks for bytes
  past the file's end or already held.
* A read outside the fetched bytes fails loudly instead of decoding zeros.
* Over HTTP, :func:`pipeline.read.chips.read_chips` returns exactly the chips of a local read with
  no ``HEAD`` and one request for the header plus one per run of tiles; an uncompressed COG
  falls back to ``/vsicurl/`` and still reads right.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.errors import RasterioIOError
from rasterio.windows import Window
from servers import RangeFileServer
from synthetic_scene import utm_polygon_to_wgs84, write_scene

from pipeline.config import GDAL_ENV, Settings
from pipeline.read.chips import read_chips
from pipeline.read.tiff_layout import (
    HeaderIncompleteError,
    TileLayout,
    UnsupportedLayoutError,
    parse_layout,
)
from pipeline.read.tile_fetch import sparse_dataset, tile_ranges
from pipeline.sources.normalise import normalise_item
from pipeline.types import Aoi, BandAsset, Scene

ORIGIN = (600_000.0, 4_700_040.0)
HEADER_BYTES = int(GDAL_ENV["GDAL_INGESTED_BYTES_AT_OPEN"])


def _write(path: Path, options: dict[str, object] | None = None, *, size: int = 700) -> Path:
    flat = (np.arange(size * size, dtype=np.uint32) % 9973 + 1).astype(np.uint16)
    data = flat.reshape(size, size)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:32652",
        "transform": Affine(10.0, 0.0, ORIGIN[0], 0.0, -10.0, ORIGIN[1]),
        "nodata": 0,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        **(options or {}),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


@pytest.mark.parametrize(
    "options",
    [{}, {"BIGTIFF": "YES"}, {"ENDIANNESS": "BIG"}, {"BIGTIFF": "YES", "ENDIANNESS": "BIG"}],
    ids=["classic-le", "bigtiff-le", "classic-be", "bigtiff-be"],
)
def test_layout_matches_gdal(tmp_path: Path, options: dict[str, object]) -> None:
    path = _write(tmp_path / "a.tif", options)
    layout = parse_layout(path.read_bytes()[:HEADER_BYTES])
    with rasterio.open(path) as src:
        assert layout.transform == src.transform
        assert (layout.width, layout.height) == (src.width, src.height)
        assert (layout.tile_height, layout.tile_width) == src.block_shapes[0]
        for row in range(3):
            for col in range(3):
                index = row * layout.tiles_across + col
                offset = src.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=1)
                size = src.get_tag_item(f"BLOCK_SIZE_{col}_{row}", "TIFF", bidx=1)
                assert (layout.offsets[index], layout.byte_counts[index]) == (
                    int(offset),
                    int(size),
                )
    assert layout.compression == 8  # deflate


def test_short_and_foreign_headers_are_refused(tmp_path: Path) -> None:
    head = _write(tmp_path / "a.tif").read_bytes()
    with pytest.raises(HeaderIncompleteError) as short:
        parse_layout(head[:40])
    assert short.value.needed > 40
    with pytest.raises(UnsupportedLayoutError, match="not a TIFF"):
        parse_layout(b"<html>not a tiff</html>")
    striped = tmp_path / "striped.tif"
    _write(striped, {"tiled": False})
    with pytest.raises(UnsupportedLayoutError, match="striped"):
        parse_layout(striped.read_bytes()[:HEADER_BYTES])


def _layout() -> TileLayout:
    # 4 x 2 tiles of 100 px; tile i at offset 1000 + 100 * i, 92 bytes (8 bytes between).
    return TileLayout(
        width=400,
        height=200,
        tile_width=100,
        tile_height=100,
        offsets=tuple(1000 + 100 * i for i in range(8)),
        byte_counts=(92, 92, 0, 92, 92, 92, 92, 92),
        transform=Affine(10.0, 0.0, 0.0, 0.0, -10.0, 0.0),
        compression=8,
    )


def test_tile_ranges_merge_skip_and_clamp() -> None:
    layout = _layout()
    # Tiles 0, 1 (row 0) and 4, 5 (row 1): one run, the gaps and sparse tile 2 read through.
    assert tile_ranges(layout, [Window(50, 50, 100, 100)], have=0, size=10_000) == [(992, 1599)]
    # Already holding the first 1100 bytes: start after them.
    assert tile_ranges(layout, [Window(0, 0, 10, 10)], have=1100, size=10_000) == []
    # The last tile's trailer margin stops at the end of the file.
    assert tile_ranges(layout, [Window(390, 190, 50, 50)], have=0, size=1795) == [(1692, 1794)]
    # Windows wholly outside the image ask for nothing.
    assert tile_ranges(layout, [Window(-50, -50, 10, 10)], have=0, size=10_000) == []


def test_a_read_outside_the_fetched_bytes_fails(tmp_path: Path) -> None:
    raw = _write(tmp_path / "a.tif").read_bytes()
    layout = parse_layout(raw[:HEADER_BYTES])
    header = raw[: min(layout.offsets)]
    with sparse_dataset([(0, header)], len(raw)) as src, pytest.raises(RasterioIOError):
        src.read(1, window=Window(0, 0, 50, 50))
    first = tile_ranges(layout, [Window(0, 0, 50, 50)], have=len(header), size=len(raw))
    parts = [(0, header), *((a, raw[a : b + 1]) for a, b in first)]
    with sparse_dataset(parts, len(raw)) as src, rasterio.open(tmp_path / "a.tif") as truth:
        window = Window(0, 0, 50, 50)
        np.testing.assert_array_equal(src.read(1, window=window), truth.read(1, window=window))


def _aoi(aoi_id: str, west: float, north: float, side: float) -> Aoi:
    ring = [(west, north - side), (west + side, north - side), (west + side, north), (west, north)]
    return Aoi(id=aoi_id, name=aoi_id, kind="port", geometry=utm_polygon_to_wgs84(ring))


@pytest.fixture(scope="module")
def served(http_root: Path, range_server: RangeFileServer) -> tuple[Scene, Scene]:
    """One synthetic scene, as local files and as URLs on the Range server."""
    when = datetime(2023, 9, 11, 2, 10, tzinfo=UTC)
    scene = write_scene(
        http_root / "fetch", "S2B_T52TFM_20230911T021000_L2A", when=when, size10=1536, seed=3
    )
    local = normalise_item(scene.item(lambda p: str(p)), source="local")
    remote = normalise_item(
        scene.item(lambda p: range_server.href(p.relative_to(http_root))), source="http"
    )
    return local, remote


AOIS = [
    _aoi("inside", ORIGIN[0] + 2_560.0, ORIGIN[1] - 2_550.0, 3_000.0),  # across tile edges
    _aoi("corner", ORIGIN[0] - 500.0, ORIGIN[1] + 500.0, 1_500.0),  # overhangs the raster
    _aoi("east", ORIGIN[0] + 11_000.0, ORIGIN[1] - 9_000.0, 1_200.0),
]


@pytest.mark.slow
def test_http_chips_equal_local_chips_without_head(
    served: tuple[Scene, Scene], range_server: RangeFileServer
) -> None:
    local, remote = served
    range_server.reset_stats()
    over_http = read_chips(remote, AOIS, settings=Settings(read_threads=2))
    on_disk = read_chips(local, AOIS, settings=Settings(read_threads=2))
    for a, b in zip(over_http, on_disk, strict=True):
        assert a.transform == b.transform
        np.testing.assert_array_equal(a.reflectance, b.reflectance)
        np.testing.assert_array_equal(a.scl, b.scl)
        np.testing.assert_array_equal(a.valid, b.valid)
    for band, asset in remote.assets.items():
        path = "/" + asset.href.split("/", 3)[3]
        stats = range_server.stats(path)
        assert stats.full_gets == 0, band
        assert stats.ranges[0][0] == 0, band  # the header first, no HEAD before it
        assert stats.requests == len(stats.ranges) <= 1 + 2 * len(AOIS), band


@pytest.mark.slow
def test_uncompressed_cogs_fall_back_to_vsicurl(
    served: tuple[Scene, Scene], http_root: Path, range_server: RangeFileServer
) -> None:
    local, remote = served
    plain = http_root / "fetch" / "plain-B02.tif"
    with rasterio.open(local.assets["blue"].href) as src:
        profile = {**src.profile, "compress": "none", "tiled": True}
        data = src.read(1)
    with rasterio.open(plain, "w", **profile) as dst:
        dst.write(data, 1)
    url = range_server.href(plain.relative_to(http_root))
    assets = {**remote.assets, "blue": BandAsset(**{**vars(remote.assets["blue"]), "href": url})}
    chip = read_chips(replace(remote, assets=assets), AOIS[:1], settings=Settings())[0]
    reference = read_chips(local, AOIS[:1], settings=Settings())[0]
    np.testing.assert_array_equal(chip.band("blue"), reference.band("blue"))
    plain_stats = range_server.stats("/" + url.split("/", 3)[3])
    # A HEAD was sent, so /vsicurl/ read the file (the short path never sends one).
    assert plain_stats.requests > len(plain_stats.ranges) + plain_stats.full_gets

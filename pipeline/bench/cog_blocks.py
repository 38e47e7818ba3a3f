"""The physical floor of a windowed COG read: the header plus the tiles under the window.

A COG written by GDAL (``rasonwatch simulate`` does) puts every IFD and tile index first and
the tile data after it, so the *header* of a file is everything before its first tile:
``min(non-zero BLOCK_OFFSET)`` over the full-resolution image and every overview. Tiles that
are entirely nodata may be sparse (offset/size 0) and cost nothing.

The minimum bytes to read a set of windows of one file is that header once, plus the
compressed size (``BLOCK_SIZE``) of every tile that intersects at least one window, each
counted once. GDAL exposes both through the ``TIFF`` metadata domain, so the layout is read
from the local file (no HTTP) with rasterio.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import rasterio
from rasterio.io import DatasetReader
from rasterio.windows import Window


@dataclass(frozen=True)
class BlockLayout:
    """Where the tiles of band 1 of one COG live."""

    header_bytes: int
    """Bytes before the first tile of any image in the file (IFDs, tile index, ghost area)."""
    block_height: int
    """Rows per tile."""
    block_width: int
    """Columns per tile."""
    sizes: dict[tuple[int, int], int]
    """``(tile_row, tile_col)`` -> compressed bytes, full resolution; sparse tiles absent."""

    def __post_init__(self) -> None:
        if self.header_bytes <= 0 or self.block_height <= 0 or self.block_width <= 0:
            raise ValueError(f"not a tiled COG layout: {self.header_bytes=} {self.block_height=}")

    def tiles_under(self, window: Window) -> set[tuple[int, int]]:
        """The ``(tile_row, tile_col)`` indices a window (pixel units) intersects."""
        row0 = max(math.floor(window.row_off), 0)
        col0 = max(math.floor(window.col_off), 0)
        row1 = math.ceil(window.row_off + window.height)
        col1 = math.ceil(window.col_off + window.width)
        if row1 <= row0 or col1 <= col0:
            return set()
        rows = range(row0 // self.block_height, (row1 - 1) // self.block_height + 1)
        cols = range(col0 // self.block_width, (col1 - 1) // self.block_width + 1)
        return {(r, c) for r in rows for c in cols}

    def min_bytes(self, windows: Iterable[Window]) -> int:
        """Header plus every tile under any of ``windows``, each counted once."""
        tiles: set[tuple[int, int]] = set()
        for window in windows:
            tiles |= self.tiles_under(window)
        return self.header_bytes + sum(self.sizes.get(t, 0) for t in tiles)


def _offsets_and_sizes(src: DatasetReader) -> dict[tuple[int, int], tuple[int, int]]:
    height, width = src.block_shapes[0]
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for row in range(math.ceil(src.height / height)):
        for col in range(math.ceil(src.width / width)):
            offset = src.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=1)
            size = src.get_tag_item(f"BLOCK_SIZE_{col}_{row}", "TIFF", bidx=1)
            if offset and size and int(offset) > 0 and int(size) > 0:
                out[(row, col)] = (int(offset), int(size))
    return out


def read_layout(path: Path) -> BlockLayout:
    """The tile layout of a local COG (band 1 and its overviews).

    Raises:
        ValueError: the file is not tiled, or has no tile data at all.
        rasterio.errors.RasterioIOError: the file cannot be opened.
    """
    with rasterio.open(path) as src:
        block_height, block_width = src.block_shapes[0]
        full = _offsets_and_sizes(src)
        overviews = len(src.overviews(1))
    offsets = [offset for offset, _ in full.values()]
    for level in range(overviews):
        with rasterio.open(path, overview_level=level) as ovr:
            offsets += [offset for offset, _ in _offsets_and_sizes(ovr).values()]
    if not offsets:
        raise ValueError(f"{path}: no tile data found (not a tiled GeoTIFF?)")
    return BlockLayout(
        header_bytes=min(offsets),
        block_height=block_height,
        block_width=block_width,
        sizes={tile: size for tile, (_, size) in full.items()},
    )

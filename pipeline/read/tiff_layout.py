"""Where the tiles of a tiled GeoTIFF live, read from the bytes of its header (pure Python).

A cloud-optimised GeoTIFF keeps every IFD and tag value before the image data, so its first
few kilobytes say where each full-resolution tile lies (``TileOffsets``, ``TileByteCounts``)
and where the raster sits on the map (``ModelPixelScale`` and ``ModelTiepoint``). That is
what :mod:`pipeline.read.tile_fetch` needs to fetch only the tiles under a window, in one request
per run of neighbouring tiles, before GDAL decodes them.

The map position is the one GDAL reports, so both agree on which pixel lies where:

- ``PixelIsArea`` (``GTRasterTypeGeoKey`` 1, the default): the tiepoint names a pixel's
  corner, the geotransform follows from it and the pixel scale.
- ``PixelIsPoint`` (``GTRasterTypeGeoKey`` 2, ``AREA_OR_POINT=Point``): the tiepoint names a
  pixel's *centre*; GDAL moves the origin half a pixel up and left (GDAL RFC 33) unless
  ``GTIFF_POINT_GEO_IGNORE`` is set, and so does :func:`parse_layout` (its
  ``point_geo_ignore`` argument mirrors that option).

:func:`parse_layout` reads classic TIFF and BigTIFF, either byte order. It raises
:class:`HeaderIncompleteError` (with the byte count needed) when the buffer ends before the first
IFD's tags do, and :class:`UnsupportedLayoutError` for a file it does not describe (not a TIFF,
striped, georeferenced by a ModelTransformation or by several tiepoints (GCPs), without a
tiepoint, or with a raster type it does not know); the caller then lets GDAL read the file as
usual.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Final

from affine import Affine

_TYPE_BYTES: Final = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_TYPE_BYTES_BIG: Final = {**_TYPE_BYTES, 16: 8, 17: 8, 18: 8}
_INT_FORMATS: Final = {1: "B", 3: "H", 4: "I", 16: "Q"}
IMAGE_WIDTH: Final = 256
IMAGE_LENGTH: Final = 257
COMPRESSION: Final = 259
TILE_WIDTH: Final = 322
TILE_LENGTH: Final = 323
TILE_OFFSETS: Final = 324
TILE_BYTE_COUNTS: Final = 325
MODEL_PIXEL_SCALE: Final = 33550
MODEL_TIEPOINT: Final = 33922
MODEL_TRANSFORMATION: Final = 34264
GEO_KEY_DIRECTORY: Final = 34735
#: GeoKey saying whether the tiepoint names a pixel's corner (1, area) or centre (2, point).
GT_RASTER_TYPE_GEO_KEY: Final = 1025
RASTER_PIXEL_IS_AREA: Final = 1
RASTER_PIXEL_IS_POINT: Final = 2
_WANTED: Final = frozenset(
    {
        IMAGE_WIDTH,
        IMAGE_LENGTH,
        COMPRESSION,
        TILE_WIDTH,
        TILE_LENGTH,
        TILE_OFFSETS,
        TILE_BYTE_COUNTS,
        MODEL_PIXEL_SCALE,
        MODEL_TIEPOINT,
        MODEL_TRANSFORMATION,
        GEO_KEY_DIRECTORY,
    }
)


class HeaderIncompleteError(Exception):
    """The buffer ends before the header does; ``needed`` bytes from the start would do."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"the TIFF header needs {needed} bytes")
        self.needed = needed


class UnsupportedLayoutError(Exception):
    """Not a tiled, north-up GeoTIFF this module can describe (GDAL reads it instead)."""


@dataclass(frozen=True)
class TileLayout:
    """The full-resolution image of a tiled GeoTIFF: its size, tiles and map position."""

    width: int
    """Columns."""
    height: int
    """Rows."""
    tile_width: int
    """Columns per tile."""
    tile_height: int
    """Rows per tile."""
    offsets: tuple[int, ...]
    """Byte offset of each tile, row-major; 0 for a tile never written (sparse)."""
    byte_counts: tuple[int, ...]
    """Compressed bytes of each tile, row-major; 0 for a sparse tile."""
    transform: Affine
    """Pixel corner to map coordinates, as GDAL reports it (PixelIsPoint shifted half a pixel)."""
    compression: int
    """TIFF ``Compression`` code (1 = none)."""

    @property
    def tiles_across(self) -> int:
        """Tiles per row."""
        return math.ceil(self.width / self.tile_width)

    def tile_spans(
        self, col_off: int, row_off: int, width: int, height: int
    ) -> list[tuple[int, int]]:
        """``(offset, size)`` of every stored tile under a pixel window (clipped to the image)."""
        c0, r0 = max(col_off, 0), max(row_off, 0)
        c1, r1 = min(col_off + width, self.width), min(row_off + height, self.height)
        if c1 <= c0 or r1 <= r0:
            return []
        spans = []
        for row in range(r0 // self.tile_height, (r1 - 1) // self.tile_height + 1):
            for col in range(c0 // self.tile_width, (c1 - 1) // self.tile_width + 1):
                index = row * self.tiles_across + col
                if self.byte_counts[index] and self.offsets[index]:
                    spans.append((self.offsets[index], self.byte_counts[index]))
        return spans


class _Reader:
    """Bounds-checked struct reads from a header buffer, recording how far the header goes."""

    def __init__(self, buffer: bytes) -> None:
        if buffer[:2] not in (b"II", b"MM"):
            raise UnsupportedLayoutError("not a TIFF file (no byte-order mark)")
        self.buffer = buffer
        self.order = "<" if buffer[:2] == b"II" else ">"
        magic = self.unpack("H", 2)[0]
        if magic not in (42, 43):
            raise UnsupportedLayoutError(f"not a TIFF file (magic {magic})")
        self.big = magic == 43

    def unpack(self, fmt: str, offset: int) -> tuple[int | float, ...]:
        size = struct.calcsize(self.order + fmt)
        if offset + size > len(self.buffer):
            raise HeaderIncompleteError(offset + size)
        return struct.unpack_from(self.order + fmt, self.buffer, offset)

    def integer(self, fmt: str, offset: int) -> int:
        return int(self.unpack(fmt, offset)[0])


def _first_ifd_tags(reader: _Reader) -> dict[int, tuple[int | float, ...]]:
    """The tags of the first IFD that this module uses, values decoded."""
    pointer, count_fmt, entry_size, inline = ("Q", "Q", 20, 8) if reader.big else ("I", "H", 12, 4)
    ifd = reader.integer(pointer, 8 if reader.big else 4)
    entries = reader.integer(count_fmt, ifd)
    first = ifd + struct.calcsize(count_fmt)
    tags: dict[int, tuple[int | float, ...]] = {}
    for i in range(entries):
        at = first + i * entry_size
        tag, kind = reader.integer("H", at), reader.integer("H", at + 2)
        count = reader.integer(count_fmt if reader.big else "I", at + 4)
        if tag not in _WANTED:
            continue
        value_at = at + (12 if reader.big else 8)
        size = (_TYPE_BYTES_BIG if reader.big else _TYPE_BYTES).get(kind, 1) * count
        if size > inline:
            value_at = reader.integer(pointer, value_at)
        fmt = "d" if kind == 12 else _INT_FORMATS.get(kind)
        if fmt is None:
            raise UnsupportedLayoutError(f"TIFF tag {tag} has type {kind}")
        tags[tag] = reader.unpack(f"{count}{fmt}", value_at)
    return tags


def raster_type(tags: dict[int, tuple[int | float, ...]]) -> int:
    """``GTRasterTypeGeoKey`` of the GeoKey directory: 1 PixelIsArea (also when absent), 2 Point.

    Raises:
        UnsupportedLayoutError: the directory is malformed, or the key's value is stored in
            another tag or is neither 1 nor 2 (what GDAL makes of it is not mirrored here).
    """
    directory = [int(v) for v in tags.get(GEO_KEY_DIRECTORY, ())]
    if not directory:
        return RASTER_PIXEL_IS_AREA
    if len(directory) < 4 or len(directory) < 4 + 4 * directory[3]:
        raise UnsupportedLayoutError(f"a GeoKey directory of {len(directory)} values, truncated")
    for i in range(directory[3]):
        key, location, count, value = directory[4 + 4 * i : 8 + 4 * i]
        if key != GT_RASTER_TYPE_GEO_KEY:
            continue
        if location == GEO_KEY_DIRECTORY and count == 1 and value < len(directory):
            value = directory[value]
        elif location != 0:
            raise UnsupportedLayoutError(f"GTRasterTypeGeoKey stored in TIFF tag {location}")
        if value not in (RASTER_PIXEL_IS_AREA, RASTER_PIXEL_IS_POINT):
            raise UnsupportedLayoutError(f"GTRasterTypeGeoKey {value} (neither area nor point)")
        return value
    return RASTER_PIXEL_IS_AREA


def _transform(tags: dict[int, tuple[int | float, ...]], *, point_geo_ignore: bool) -> Affine:
    if MODEL_TRANSFORMATION in tags:
        raise UnsupportedLayoutError("georeferenced by a ModelTransformation matrix")
    if len(tags.get(MODEL_TIEPOINT, ())) > 6:
        raise UnsupportedLayoutError(
            f"georeferenced by {len(tags[MODEL_TIEPOINT]) // 6} tiepoints (GCPs), no geotransform"
        )
    if MODEL_PIXEL_SCALE not in tags or MODEL_TIEPOINT not in tags:
        raise UnsupportedLayoutError("no ModelPixelScale/ModelTiepoint")
    sx, sy = (float(v) for v in tags[MODEL_PIXEL_SCALE][:2])
    col, row, _, x, y = (float(v) for v in tags[MODEL_TIEPOINT][:5])
    if not (sx > 0 and sy > 0 and all(map(math.isfinite, (sx, sy, col, row, x, y)))):
        raise UnsupportedLayoutError(f"pixel scale {sx, sy}, tiepoint {col, row, x, y}")
    x0, y0 = x - col * sx, y - row * -sy
    if raster_type(tags) == RASTER_PIXEL_IS_POINT and not point_geo_ignore:
        # The tiepoint names the centre of pixel (col, row): GDAL's corner is half a pixel
        # up and left of it (GDAL RFC 33), computed in GDAL's order for the same floats.
        x0, y0 = x0 - sx * 0.5, y0 - -sy * 0.5
    return Affine(sx, 0.0, x0, 0.0, -sy, y0)


def parse_layout(buffer: bytes, *, point_geo_ignore: bool = False) -> TileLayout:
    """The full-resolution tile layout described by the first bytes of a GeoTIFF.

    Args:
        buffer: the first bytes of the file.
        point_geo_ignore: GDAL's ``GTIFF_POINT_GEO_IGNORE``: place a PixelIsPoint raster as
            if it were PixelIsArea (no half-pixel shift).

    Raises:
        HeaderIncompleteError: ``buffer`` ends inside the first IFD or its tag values.
        UnsupportedLayoutError: not a tiled, north-up GeoTIFF (GDAL reads it instead).
    """
    reader = _Reader(buffer)
    tags = _first_ifd_tags(reader)
    if TILE_OFFSETS not in tags or TILE_WIDTH not in tags:
        raise UnsupportedLayoutError("a striped (not tiled) TIFF")
    width, height = int(tags[IMAGE_WIDTH][0]), int(tags[IMAGE_LENGTH][0])
    tile_width, tile_height = int(tags[TILE_WIDTH][0]), int(tags[TILE_LENGTH][0])
    offsets = tuple(int(v) for v in tags[TILE_OFFSETS])
    counts = tuple(int(v) for v in tags[TILE_BYTE_COUNTS])
    expected = math.ceil(width / tile_width) * math.ceil(height / tile_height)
    if len(offsets) != expected or len(counts) != expected:
        raise UnsupportedLayoutError(
            f"{len(offsets)} tile offsets for {expected} tiles (planar bands?)"
        )
    compression = int(tags.get(COMPRESSION, (1,))[0])
    return TileLayout(
        width,
        height,
        tile_width,
        tile_height,
        offsets,
        counts,
        _transform(tags, point_geo_ignore=point_geo_ignore),
        compression,
    )

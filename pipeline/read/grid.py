"""The 10 m chip grid: snapping AOI bounds to a band's pixel lattice, and band windows.

Sentinel-2 tiles put every band's upper-left corner on the same point, so the 10 m lattice
anchored there is shared by all bands of a scene. An AOI's bounds (in the scene's UTM CRS)
are snapped *outward* to that lattice (:func:`snap_grid`); a 10 m band is then read with an
integer window of it (:func:`band_window`), with no resampling at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from rasterio.io import DatasetReader
from rasterio.windows import Window

#: Ground sampling distance of the chip grid (the finest Sentinel-2 bands).
TARGET_RESOLUTION_M: Final = 10.0
#: Grids closer than this (metres) are the same grid.
GRID_TOLERANCE_M: Final = 1e-6


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


def read_window(src: DatasetReader, window: Window, fill: float) -> NDArray[np.float32]:
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

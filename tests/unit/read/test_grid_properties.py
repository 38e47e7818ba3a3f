"""Property-based tests (hypothesis) of the chip-window maths."""

from __future__ import annotations

import pytest
from affine import Affine
from hostile_values import MANY
from hypothesis import given
from hypothesis import strategies as st

from pipeline.read.grid import ChipGrid, band_window, snap_grid

# --- the chip window ----------------------------------------------------------------------------
TOL = 1e-6  # metres (pipeline.read.grid.GRID_TOLERANCE_M)
eastings = st.floats(min_value=100_000, max_value=900_000, allow_nan=False)
northings = st.floats(min_value=1_000_000, max_value=9_000_000, allow_nan=False)
offsets = st.floats(min_value=-60_000, max_value=60_000, allow_nan=False)
extents = st.one_of(st.just(0.0), st.floats(min_value=0, max_value=20_000, allow_nan=False))


@st.composite
def windows(draw: st.DrawFn) -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    """AOI bounds in a UTM zone and a band's upper-left corner, sometimes exactly on a line."""
    origin = (draw(eastings), draw(northings))
    if draw(st.booleans()):  # bounds exactly on lattice lines: the edge cases of floor/ceil
        west = origin[0] + 10 * draw(st.integers(-5000, 5000))
        north = origin[1] - 10 * draw(st.integers(-5000, 5000))
        width, height = 10.0 * draw(st.integers(0, 500)), 10.0 * draw(st.integers(0, 500))
    else:
        west, north = origin[0] + draw(offsets), origin[1] + draw(offsets)
        width, height = draw(extents), draw(extents)
    return (west, north - height, west + width, north), origin


def _on_lattice(value: float, anchor: float, res: float) -> bool:
    cells = (value - anchor) / res
    return abs(cells - round(cells)) * res < TOL


@MANY
@given(windows(), st.sampled_from([10.0, 20.0, 60.0]))
def test_snapped_grid_covers_the_bounds_on_the_lattice(
    case: tuple[tuple[float, float, float, float], tuple[float, float]], res: float
) -> None:
    bounds, origin = case
    west, south, east, north = bounds
    grid = snap_grid(bounds, origin=origin, res=res)
    gw, gs, ge, gn = grid.bounds
    assert isinstance(grid.width, int)
    assert isinstance(grid.height, int)
    assert grid.width >= 1
    assert grid.height >= 1
    assert gw <= west + TOL
    assert ge >= east - TOL
    assert gs <= south + TOL
    assert gn >= north - TOL
    assert west - gw < res + TOL, "at most one cell of padding"
    assert ge - east < res + TOL
    assert north - gn > -res - TOL
    assert south - gs < res + TOL
    assert _on_lattice(gw, origin[0], res)
    assert _on_lattice(gn, origin[1], res)
    assert grid.transform.a == res
    assert grid.transform.e == -res
    assert grid.transform.b == 0
    assert grid.transform.d == 0


@MANY
@given(windows())
def test_snapping_is_idempotent_and_ignores_which_corner_anchors(
    case: tuple[tuple[float, float, float, float], tuple[float, float]],
) -> None:
    bounds, origin = case
    grid = snap_grid(bounds, origin=origin, res=10.0)
    assert snap_grid(grid.bounds, origin=origin, res=10.0).same_as(grid)
    moved = (origin[0] - 10.0 * 137, origin[1] + 10.0 * 59)  # another corner of the lattice
    assert snap_grid(bounds, origin=moved, res=10.0).same_as(grid)


@MANY
@given(windows())
def test_band_window_is_the_grid_in_the_band(
    case: tuple[tuple[float, float, float, float], tuple[float, float]],
) -> None:
    bounds, origin = case
    grid = snap_grid(bounds, origin=origin, res=10.0)
    band = Affine(10.0, 0.0, origin[0], 0.0, -10.0, origin[1])
    window = band_window(grid, band)
    assert (window.width, window.height) == (grid.width, grid.height)
    assert float(window.col_off).is_integer()
    assert float(window.row_off).is_integer()
    x, y = band @ (window.col_off, window.row_off)
    assert abs(x - grid.transform.c) < TOL
    assert abs(y - grid.transform.f) < TOL


@given(st.integers(max_value=0), st.integers(min_value=1, max_value=5))
def test_an_empty_grid_is_refused(rows: int, cols: int) -> None:
    with pytest.raises(ValueError, match="empty chip grid"):
        ChipGrid(Affine.identity(), rows, cols)

"""Pure parts of the reader: grid snapping, windows, error classification, redaction, paths."""

from __future__ import annotations

import math

import pytest
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.errors import InvalidSettingError
from pipeline.read.chips import ChipGrid, band_window, classify, gdal_path, redact, snap_grid
from pipeline.read.tile_fetch import HttpPolicy

coord = st.floats(min_value=-50_000.0, max_value=50_000.0, allow_nan=False)
size = st.floats(min_value=0.5, max_value=5_000.0, allow_nan=False)
origin = st.tuples(
    st.integers(min_value=-10_000, max_value=10_000).map(lambda v: 600_000.0 + 10 * v),
    st.integers(min_value=-10_000, max_value=10_000).map(lambda v: 4_700_040.0 + 10 * v),
)


@given(west=coord, south=coord, width=size, height=size, origin=origin)
def test_snapped_grid_covers_the_bounds_on_the_lattice_and_is_minimal(
    west: float, south: float, width: float, height: float, origin: tuple[float, float]
) -> None:
    x, y = 600_000.0 + west, 4_690_000.0 + south
    bounds = (x, y, x + width, y + height)
    grid = snap_grid(bounds, origin=origin, res=10.0)
    gw, gs, ge, gn = grid.bounds
    tol = 1e-6
    assert gw <= bounds[0] + tol
    assert gs <= bounds[1] + tol
    assert ge >= bounds[2] - tol
    assert gn >= bounds[3] - tol
    for edge, anchor in ((gw, origin[0]), (gn, origin[1])):  # on the band's 10 m lattice
        assert math.isclose((edge - anchor) / 10.0, round((edge - anchor) / 10.0), abs_tol=1e-6)
    # Minimal: dropping any edge row/column would uncover part of the bounds.
    assert gw + 10.0 > bounds[0] - tol
    assert ge - 10.0 < bounds[2] + tol
    assert gn - 10.0 < bounds[3] + tol
    assert gs + 10.0 > bounds[1] - tol


def test_a_20m_band_with_the_same_corner_gives_the_same_10m_grid() -> None:
    bounds = (603_955.0, 4_694_013.0, 605_190.0, 4_695_170.0)
    ten = snap_grid(bounds, origin=(600_000.0, 4_700_040.0), res=10.0)
    assert ten.transform == Affine(10.0, 0.0, 603_950.0, 0.0, -10.0, 4_695_170.0)
    assert ten.shape == (116, 124)
    window = band_window(ten, Affine(10.0, 0.0, 600_000.0, 0.0, -10.0, 4_700_040.0))
    assert (window.col_off, window.row_off, window.width, window.height) == (395, 487, 124, 116)
    other = ChipGrid(Affine(10.0, 0.0, 603_950.0 + 1e-9, 0.0, -10.0, 4_695_170.0), 116, 124)
    assert ten.same_as(other)
    assert not ten.same_as(ChipGrid(ten.transform, 116, 125))


def test_classify_transient_and_permanent_failures() -> None:
    assert classify(OSError("HTTP response code: 503")) == (True, "HTTP response code: 503")
    assert classify(OSError("HTTP response code: 429"))[0]
    assert not classify(OSError("HTTP response code: 404"))[0]
    assert not classify(OSError("HTTP response code: 403"))[0]
    assert not classify(
        OSError("'/vsicurl/x' not recognized as being in a supported file format.")
    )[0]
    assert classify(OSError("CURL error: Failed to connect to 127.0.0.1 port 9"))[0]
    chained = OSError("Read failed. See previous exception for details.")
    chained.__cause__ = RuntimeError(
        "IReadBlock failed at X offset 2: TIFFReadEncodedTile() failed."
    )
    transient, reason = classify(chained)
    assert transient
    assert "IReadBlock" in reason


def test_redaction_removes_query_strings_only() -> None:
    text = "'/vsicurl/https://a.blob.core.windows.net/c/B04.tif?st=1&se=2&sig=SECRET' failed"
    assert redact(text) == "'/vsicurl/https://a.blob.core.windows.net/c/B04.tif?<redacted>' failed"
    assert redact("no url here") == "no url here"


def test_gdal_paths() -> None:
    assert gdal_path("https://x/a.tif") == "/vsicurl/https://x/a.tif"
    assert gdal_path("s3://eodata/a.jp2") == "/vsis3/eodata/a.jp2"
    assert gdal_path("file:///data/a.tif") == "/data/a.tif"
    assert gdal_path("/data/a.tif") == "/data/a.tif"
    assert gdal_path("/vsicurl/http://x/a.tif") == "/vsicurl/http://x/a.tif"


def test_operators_tune_timeouts_and_retries_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RASONWATCH_HTTP_TIMEOUT_S", "90")
    monkeypatch.setenv("RASONWATCH_HTTP_RETRIES", "5")
    monkeypatch.setenv("RASONWATCH_READ_RETRIES", "4")
    settings = Settings()
    assert settings.gdal_env["GDAL_HTTP_TIMEOUT"] == "90"
    assert settings.gdal_env["GDAL_HTTP_MAX_RETRY"] == "5"
    assert settings.read_retries == 4
    assert HttpPolicy.from_settings(settings) == HttpPolicy(90.0, 5, 0.5)
    assert settings.fetch_tiles
    monkeypatch.setenv("RASONWATCH_FETCH_TILES", "0")
    assert not Settings().fetch_tiles
    for name, value in (("RASONWATCH_HTTP_TIMEOUT_S", "soon"), ("RASONWATCH_READ_RETRIES", "0")):
        monkeypatch.setenv(name, value)
        with pytest.raises(InvalidSettingError, match=name):
            Settings()
        monkeypatch.delenv(name)

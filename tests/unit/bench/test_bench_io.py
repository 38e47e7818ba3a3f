"""``bench io`` on the tiny simulated archive: the JSON shape and the byte floor.

Timings are printed by the bench, never asserted here. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasterio.windows import Window

from pipeline.bench.cog_blocks import BlockLayout
from pipeline.bench.io import BenchSetupError, run_io_bench

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # odc-geo

KEYS = {
    "ours_s",
    "odc_stac_s",
    "ratio",
    "bytes_read",
    "bytes_min",
    "bytes_ratio",
    "requests",
    "scenes",
}


def test_block_layout_counts_each_tile_once() -> None:
    layout = BlockLayout(100, 512, 512, {(0, 0): 10, (0, 1): 20, (1, 1): 40})
    assert layout.tiles_under(Window(500, 0, 20, 10)) == {(0, 0), (0, 1)}
    overlapping = [Window(500, 0, 20, 10), Window(510, 0, 5, 600)]
    assert layout.min_bytes(overlapping) == 100 + 10 + 20 + 40
    assert layout.min_bytes([Window(-50, -50, 10, 10)]) == 100


@pytest.mark.slow
def test_bench_io_shape_and_floor(small_archive: Path) -> None:
    pytest.importorskip("odc.stac")
    result = run_io_bench(small_archive, latency_ms=1, scenes=3, threads=2)
    assert set(result) >= KEYS
    assert result["scenes"] == 3
    assert result["bytes_read"] >= result["bytes_min"] > 0
    assert result["requests"] > 0
    assert result["detail"]["shapes_match"]
    assert result["detail"]["odc_stac"]["bytes_read"] > 0


@pytest.mark.slow
def test_bench_io_needs_enough_scenes(small_archive: Path) -> None:
    pytest.importorskip("odc.stac")
    with pytest.raises(BenchSetupError, match="needs 999"):
        run_io_bench(small_archive, latency_ms=0, scenes=999)

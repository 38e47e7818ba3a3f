"""The baseline-04.00 offset: decision rules, the dark-water check, and the reader's reaction."""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import box
from synthetic_scene import WATER, SyntheticScene, utm_polygon_to_wgs84, write_scene

from pipeline.config import Settings
from pipeline.errors import AoiOutsideSceneError, OffsetWarning, ReadError
from pipeline.read.chips import read_chip
from pipeline.sources.normalise import normalise_item
from pipeline.sources.offsets import (
    check_dark_water,
    correction_for,
    decide_offset,
    parse_baseline,
)
from pipeline.types import Aoi, Scene

#: An AOI across the water/land boundary of a 512-pixel synthetic tile (water: cols < 281).
AOI = Aoi(
    id="offsets",
    name="offsets",
    kind="port",
    geometry=utm_polygon_to_wgs84(
        [(602300.0, 4697000.0), (603600.0, 4697000.0), (603600.0, 4698200.0), (602300.0, 4698200.0)]
    ),
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("04.00", (4, 0)),
        ("05.11", (5, 11)),
        ("N0400", (4, 0)),
        ("4.0", (4, 0)),
        ("2.12", (2, 12)),
        ("S2B_MSIL2A_20250731T131909_N0511_R095_T20EPT_20250731T143919.SAFE", (5, 11)),
        ("GS2B_20250731T131909_043879_N05.11", (5, 11)),
        ("baseline", None),
    ],
)
def test_parse_baseline(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_baseline(text) == parsed


def test_decision_table() -> None:
    def rule(**kw: Any) -> tuple[str, float]:
        base: dict[str, Any] = {
            "baseline": (5, 10),
            "raster_scale": None,
            "raster_offset": None,
            "earthsearch_flag": None,
            "earthsearch_l2a": False,
        }
        decision = decide_offset(**(base | kw))
        return decision.rule, decision.offset

    assert rule(raster_scale=1e-4, raster_offset=-0.1) == ("raster-metadata", -0.1)
    assert rule(baseline=(2, 12), raster_scale=1e-4, raster_offset=-0.1) == (
        "raster-metadata",
        -0.1,
    )
    assert rule() == ("baseline>=04.00", -0.1)
    assert rule(raster_scale=1e-4) == ("baseline>=04.00", -0.1)  # offset not stated
    assert rule(raster_scale=1e-4, baseline=(3, 1)) == ("baseline<04.00", 0.0)
    assert rule(raster_scale=1e-4, baseline=None) == ("raster-metadata", 0.0)
    assert rule(baseline=(4, 0)) == ("baseline>=04.00", -0.1)
    assert rule(baseline=(3, 99)) == ("baseline<04.00", 0.0)
    # Earth Search sentinel-2-l2a: raster:bands -0.1 is ignored; the flag decides.
    es = {"raster_scale": 1e-4, "raster_offset": -0.1, "earthsearch_l2a": True}
    assert rule(**es, earthsearch_flag=True) == ("earthsearch-flag:applied", 0.0)
    assert rule(**es, earthsearch_flag=False) == ("earthsearch-flag:not-applied", -0.1)
    assert rule(**es) == ("earthsearch-flag:not-applied", -0.1)
    assert rule(**es, baseline=(2, 14), earthsearch_flag=True) == ("baseline<04.00", 0.0)
    with pytest.raises(ValueError, match="baseline"):
        rule(baseline=None)


def _chip_arrays(shift: float, *, n: int = 40) -> tuple[Any, Any, Any, Any]:
    """Half water (SCL 6, true NIR 0.012 / SWIR 0.006), half land; ``shift`` added to water."""
    rng = np.random.default_rng(3)
    nir = np.full((n, n), 0.3, np.float32)
    swir = np.full((n, n), 0.2, np.float32)
    scl = np.full((n, n), 4, np.uint8)
    nir[:, : n // 2] = 0.012 + shift + rng.normal(0, 0.003, (n, n // 2))
    swir[:, : n // 2] = 0.006 + shift + rng.normal(0, 0.003, (n, n // 2))
    scl[:, : n // 2] = 6
    return nir, swir, scl, np.ones((n, n), bool)


def test_dark_water_verdicts() -> None:
    assert check_dark_water(*_chip_arrays(0.0)).verdict == "ok"
    too_dark = check_dark_water(*_chip_arrays(-0.1))
    assert (too_dark.verdict, too_dark.reference) == ("too-dark", "water")
    assert check_dark_water(*_chip_arrays(0.1)).verdict == "too-bright"
    nir, swir, scl, has = _chip_arrays(0.0)
    assert check_dark_water(nir, swir, scl, np.zeros_like(has)).verdict == "no-reference"
    # Without SCL water, bright darkest pixels are not evidence of a missing offset...
    land = np.full_like(scl, 4)
    assert check_dark_water(nir + 0.1, swir + 0.1, land, has).verdict == "ok"
    # ...but negative darkest pixels still are evidence of a doubled offset.
    dark = check_dark_water(nir - 0.1, swir - 0.1, land, has)
    assert (dark.verdict, dark.reference) == ("too-dark", "dark")


def test_corrections_only_for_suspect_rules() -> None:
    dark = check_dark_water(*_chip_arrays(-0.1))
    bright = check_dark_water(*_chip_arrays(0.1))
    assert correction_for(dark, rule="earthsearch-flag:not-applied", offset=-0.1) == pytest.approx(
        0.1
    )
    assert correction_for(bright, rule="earthsearch-flag:applied", offset=0.0) == pytest.approx(
        -0.1
    )
    assert correction_for(dark, rule="raster-metadata", offset=-0.1) == 0.0
    assert correction_for(dark, rule="earthsearch-flag:applied", offset=0.0) == 0.0  # not provable


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SyntheticScene]:
    root = tmp_path_factory.mktemp("offset-scenes")
    when = datetime(2022, 6, 1, 2, 10, tzinfo=UTC)
    return {
        # Earth Search l2a item whose pixels were harmonised (no +1000) but whose flag says not.
        "harmonised": write_scene(
            root, "harmonised", when=when, size10=512, flavour="es-l2a", offset_dn=0
        ),
        # Raw baseline-04.00 pixels (+1000) but the flag claims the offset was applied.
        "raw": write_scene(
            root, "raw", when=when, size10=512, flavour="es-l2a", offset_dn=1000, seed=2
        ),
    }


def _scene(tile: SyntheticScene, **props: Any) -> Scene:
    item = tile.item(str)
    item["properties"].update(props)
    return normalise_item(item, source="local")


def _water_nir(chip: Any) -> float:
    return float(np.nanmedian(chip.band("nir")[chip.valid & (chip.scl == 6)]))


def test_wrong_earthsearch_flag_is_detected_and_corrected(tiles: dict[str, SyntheticScene]) -> None:
    scene = _scene(tiles["harmonised"], **{"earthsearch:boa_offset_applied": False})
    assert scene.offset_rule == "earthsearch-flag:not-applied"
    with pytest.warns(OffsetWarning, match=r"too-dark .* corrected by \+0\.1"):
        chip = read_chip(scene, AOI, settings=Settings())
    assert _water_nir(chip) == pytest.approx(WATER["nir"], abs=0.003)
    scene = _scene(tiles["raw"], **{"earthsearch:boa_offset_applied": True})
    with pytest.warns(OffsetWarning, match=r"too-bright .* corrected by -0\.1"):
        chip = read_chip(scene, AOI, settings=Settings())
    assert _water_nir(chip) == pytest.approx(WATER["nir"], abs=0.003)


def test_right_flag_reads_silently(tiles: dict[str, SyntheticScene]) -> None:
    scene = _scene(tiles["raw"], **{"earthsearch:boa_offset_applied": False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chip = read_chip(scene, AOI, settings=Settings())
    assert _water_nir(chip) == pytest.approx(WATER["nir"], abs=0.003)


def test_trusted_rule_is_flagged_but_left_unchanged(tiles: dict[str, SyntheticScene]) -> None:
    tile = tiles["harmonised"]
    item = tile.item(str)
    item["collection"] = "sentinel-2-c1-l2a"
    del item["properties"]["earthsearch:payload_id"]
    scene = normalise_item(item, source="local")
    assert scene.offset_rule == "raster-metadata"
    with pytest.warns(OffsetWarning, match="left unchanged"):
        chip = read_chip(scene, AOI, settings=Settings())
    assert _water_nir(chip) == pytest.approx(WATER["nir"] - 0.1, abs=0.003)


def test_aoi_outside_the_scene(tiles: dict[str, SyntheticScene]) -> None:
    scene = _scene(tiles["raw"], **{"earthsearch:boa_offset_applied": False})
    far = Aoi(id="far", name="far", kind="port", geometry=box(10.0, 10.0, 10.1, 10.1))
    with pytest.raises(AoiOutsideSceneError, match="outside scene"):
        read_chip(scene, far, settings=Settings())
    # Inside the item's bbox but beyond the raster: detected from the raster itself.
    near = utm_polygon_to_wgs84(
        [(610_500.0, 4_690_500.0), (611_500.0, 4_690_500.0), (611_500.0, 4_691_500.0)]
    )
    unbounded = replace(scene, bbox=None)
    with pytest.raises(AoiOutsideSceneError, match=r"outside the .* raster"):
        read_chip(
            unbounded, Aoi(id="near", name="near", kind="port", geometry=near), settings=Settings()
        )


def test_missing_band_file_is_a_read_error(
    tiles: dict[str, SyntheticScene], tmp_path: Path
) -> None:
    tile = tiles["raw"]
    item = tile.item(str)
    item["assets"]["swir16"]["href"] = str(tmp_path / "nope.tif")
    item["properties"]["earthsearch:boa_offset_applied"] = False
    scene = normalise_item(item, source="x")
    with pytest.raises(ReadError, match=r"nope\.tif: .*No such file"):
        read_chip(scene, AOI, settings=Settings(retry_backoff_s=0.0))

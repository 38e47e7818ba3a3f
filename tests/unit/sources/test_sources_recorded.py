"""Every recorded real STAC item parses into a Scene with the right offset, or is refused."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from pipeline.errors import SceneMetadataError
from pipeline.sources.normalise import normalise_item
from pipeline.types import REFLECTANCE_BANDS

ES_C1 = "earth-search_sentinel-2-c1-l2a_S2B_T20EPT_20250731T131905_L2A.json"
ES_L2A = "earth-search_sentinel-2-l2a_S2B_20EPT_20250731_0_L2A.json"
PC = "planetarycomputer_sentinel-2-l2a_S2A_MSIL2A_20190101T000001_R116_T60VUK_20201007T214652.json"
ES_V0 = "odc-stac/S2A_28QCH_20200714_0_L2A.json"
PC_ODC = "odc-stac/S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json"
PC_ODC_RASTER = "odc-stac/S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531_raster_ext.json"
CDSE = "odc-stac/S2C_MSIL2A_20250330T100051_N0511_R122_T33UWP_20250330T145914_cdse_stac_v110.json"


class Case(NamedTuple):
    tile: str
    epsg: int
    baseline: str
    platform: str
    rule: str
    offset: float
    cloud: float


EXPECTED: dict[str, Case] = {
    # Earth Search Collection 1: raster:bands says -0.1 and is trusted.
    ES_C1: Case("20EPT", 32720, "05.11", "sentinel-2b", "raster-metadata", -0.1, 26.02542),
    # Earth Search sentinel-2-l2a: earthsearch:boa_offset_applied=true -> 0, although its
    # raster:bands says -0.1 (known-wrong metadata; the reader checks dark water).
    ES_L2A: Case("20EPT", 32720, "05.11", "sentinel-2b", "earthsearch-flag:applied", 0.0, 26.02542),
    # Planetary Computer, reprocessed at baseline 02.12: no raster:bands, no offset.
    PC: Case("60VUK", 32660, "02.12", "sentinel-2a", "baseline<04.00", 0.0, 56.297088),
    # Earth Search v0 (STAC 1.0.0-beta.1): the baseline is only in sentinel:product_id.
    ES_V0: Case("28QCH", 32628, "02.14", "sentinel-2a", "baseline<04.00", 0.0, 2.36),
    PC_ODC: Case("06VVN", 32606, "02.12", "sentinel-2b", "baseline<04.00", 0.0, 0.314306),
    # Same PC item with raster:bands that carry nodata but no scale/offset: baseline rule.
    PC_ODC_RASTER: Case("06VVN", 32606, "02.12", "sentinel-2b", "baseline<04.00", 0.0, 0.314306),
    # CDSE STAC 1.1: raster:scale/raster:offset on each asset, proj:code on assets only.
    CDSE: Case("33UWP", 32633, "05.11", "sentinel-2c", "raster-metadata", -0.1, 86.041468),
}
REJECTED: dict[str, str] = {
    "earth-search_sentinel-2-l1c_S2B_20EPT_20250731_0_L1C.json": "Level-1C",
    "odc-stac/sentinel-2-l2a.collection.json": "not a STAC item",
}


def _load(root: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((root / name).read_text(encoding="utf-8"))
    return doc


def test_every_recorded_file_is_covered(stac_recorded: Path) -> None:
    files = {p.relative_to(stac_recorded).as_posix() for p in stac_recorded.rglob("*.json")}
    assert files == set(EXPECTED) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_item_parses_with_the_right_offset(stac_recorded: Path, name: str) -> None:
    tile, epsg, baseline, platform, rule, offset, cloud = EXPECTED[name]
    item = _load(stac_recorded, name)
    scene = normalise_item(item, source="recorded")
    assert scene.id == item["id"]
    assert (scene.tile, scene.epsg, scene.processing_baseline) == (tile, epsg, baseline)
    assert (scene.platform, scene.offset_rule) == (platform, rule)
    assert scene.cloud_cover == pytest.approx(cloud)
    assert scene.datetime.tzinfo == UTC
    assert scene.datetime.isoformat()[:19] == item["properties"]["datetime"][:19]
    assert set(scene.assets) == {*REFLECTANCE_BANDS, "scl"}
    for band in REFLECTANCE_BANDS:
        asset = scene.assets[band]
        assert asset.scale == pytest.approx(1e-4)
        assert asset.offset == pytest.approx(offset)
        assert asset.nodata == 0
    assert (scene.assets["scl"].scale, scene.assets["scl"].offset) == (1.0, 0.0)
    assert scene.assets["swir16"].resolution_m == 20.0
    assert scene.assets["nir"].resolution_m == 10.0
    assert scene.bbox is not None
    assert len(scene.bbox) == 4
    assert not scene.simulated


def test_recorded_hrefs_are_the_cog_or_s3_assets(stac_recorded: Path) -> None:
    es = normalise_item(_load(stac_recorded, ES_L2A), source="x")
    assert es.assets["red"].href.endswith("/B04.tif")  # the COG, not red-jp2
    cdse = normalise_item(_load(stac_recorded, CDSE), source="x")
    assert cdse.assets["swir16"].href.startswith("s3://eodata/")
    assert "B11_20m" in cdse.assets["swir16"].href
    assert cdse.assets["scl"].href.endswith("_SCL_20m.jp2")


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_non_l2a_files_are_rejected_with_a_reason(stac_recorded: Path, name: str) -> None:
    with pytest.raises(SceneMetadataError, match=REJECTED[name]):
        normalise_item(_load(stac_recorded, name), source="recorded")


def test_missing_band_and_missing_baseline_are_clear_errors(stac_recorded: Path) -> None:
    item = _load(stac_recorded, PC)
    no_scl = {**item, "assets": {k: v for k, v in item["assets"].items() if k != "SCL"}}
    with pytest.raises(SceneMetadataError, match=r"lacks the asset\(s\) scl"):
        normalise_item(no_scl, source="x")
    only_uri = {k: v for k, v in item["properties"].items() if k != "s2:processing_baseline"}
    fallback = normalise_item({**item, "properties": only_uri}, source="x")
    assert fallback.processing_baseline == "02.12"  # from s2:product_uri "..._N0212_..."
    hidden = ("s2:processing_baseline", "s2:product_uri", "s2:datatake_id")
    props = {k: v for k, v in item["properties"].items() if k not in hidden}
    no_baseline = {**item, "id": "no-baseline", "properties": props}
    with pytest.raises(SceneMetadataError, match="cannot decide the reflectance offset"):
        normalise_item(no_baseline, source="x")


def test_earth_search_l2a_flag_false_after_0400_gets_the_offset(stac_recorded: Path) -> None:
    item = _load(stac_recorded, ES_L2A)
    item["properties"]["earthsearch:boa_offset_applied"] = False
    scene = normalise_item(item, source="x")
    assert scene.offset_rule == "earthsearch-flag:not-applied"
    assert scene.assets["nir"].offset == pytest.approx(-0.1)


def test_pc_item_after_0400_gets_the_offset_from_the_baseline(stac_recorded: Path) -> None:
    item = _load(stac_recorded, PC)
    item["properties"]["s2:processing_baseline"] = "04.00"
    scene = normalise_item(item, source="x")
    assert scene.offset_rule == "baseline>=04.00"
    assert scene.assets["red"].offset == pytest.approx(-0.1)


def test_cdse_without_raster_metadata_falls_back_to_the_baseline(stac_recorded: Path) -> None:
    item = _load(stac_recorded, CDSE)
    for asset in item["assets"].values():
        asset.pop("raster:offset", None)
        asset.pop("raster:scale", None)
    scene = normalise_item(item, source="cdse")
    assert scene.offset_rule == "baseline>=04.00"
    assert scene.assets["blue"].offset == pytest.approx(-0.1)

"""CDSE's best product of each date (issue 17): ``sentinel-2-l2a``, else ``sentinel-2-l1c``,
on the recorded real CDSE Level-2A item and Level-1C items built from it
(:mod:`cdse_items` says what is real and what is derived)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cdse_items import load_l2a, moved, to_l1c, with_baseline
from shapely.geometry import box, shape

from pipeline.config import Settings
from pipeline.errors import SceneMetadataError, SourceError
from pipeline.sources import CdseSource, open_source
from pipeline.sources.normalise import normalise_item
from pipeline.sources.per_date import Rung, best_per_date
from pipeline.sources.stac_api import Found, collect
from pipeline.types import Aoi


@pytest.fixture
def l2a(stac_recorded: Path) -> dict[str, Any]:
    return load_l2a(stac_recorded)


def test_a_cdse_l1c_item_parses_into_an_l1c_scene(l2a: dict[str, Any]) -> None:
    scene = normalise_item(to_l1c(l2a), source="cdse", allow_l1c=True)
    assert (scene.level, scene.collection) == ("L1C", "sentinel-2-l1c")
    assert sorted(scene.assets) == ["blue", "green", "nir", "red", "swir16"]  # no SCL
    red = scene.assets["red"].href
    assert red.startswith("s3://eodata/Sentinel-2/MSI/L1C/")
    assert "/IMG_DATA/" in red
    assert red.endswith("_B04.jp2")  # JPEG 2000 in the SAFE layout
    assert scene.assets["swir16"].resolution_m == 20.0
    assert (scene.tile, scene.epsg, scene.processing_baseline) == ("33UWP", 32633, "05.11")
    assert (scene.offset_rule, scene.assets["nir"].offset) == ("raster-metadata", -0.1)


@pytest.mark.parametrize(
    ("baseline", "raster", "rule", "offset"),
    [
        ("05.11", False, "baseline>=04.00", -0.1),  # the +1000 DN of baseline 04.00 on TOA too
        ("02.05", False, "baseline<04.00", 0.0),  # a 2017 product: no offset
        ("02.05", True, "raster-metadata", -0.1),  # what the item states is used as stated
    ],
)
def test_l1c_offsets_follow_the_metadata_else_the_baseline(
    l2a: dict[str, Any], baseline: str, raster: bool, rule: str, offset: float
) -> None:
    item = with_baseline(to_l1c(l2a), baseline, raster_metadata=raster)
    scene = normalise_item(item, source="cdse", allow_l1c=True)
    assert scene.processing_baseline == baseline
    assert scene.offset_rule == rule
    assert [a.offset for a in scene.assets.values()] == pytest.approx([offset] * 5)


def test_a_cdse_l1c_item_without_a_band_is_refused_naming_it(l2a: dict[str, Any]) -> None:
    item = to_l1c(l2a)
    del item["assets"]["B11"]
    with pytest.raises(SceneMetadataError, match=r"lacks the asset\(s\) swir16 \(.*B11"):
        normalise_item(item, source="cdse", allow_l1c=True)
    with pytest.raises(SceneMetadataError, match=r"Level-1C.*no scene classification \(SCL\)"):
        normalise_item(to_l1c(l2a), source="cdse")  # an L2A search refuses it


def _aoi(item: dict[str, Any]) -> Aoi:
    centre = shape(item["geometry"]).representative_point()
    area = box(centre.x - 0.01, centre.y - 0.005, centre.x + 0.01, centre.y + 0.005)
    return Aoi(id="t", name="t", kind="port", geometry=area)


def _served(l2a: dict[str, Any]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Day 0: both levels; day 5: Level-1C only; day 10: Level-2A only."""
    l1c = to_l1c(l2a)
    return {
        ("sentinel-2-l2a",): [moved(l2a, days=0), moved(l2a, days=10)],
        ("sentinel-2-l1c",): [moved(l1c, days=0), moved(l1c, days=5)],
    }


def test_cdse_gives_each_date_its_best_product(
    l2a: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, asked = _served(l2a), []

    def fake_find(
        aoi: Any, start: date, end: date, *, collections: tuple[str, ...], allow_l1c: bool = False
    ) -> Found:
        asked.append((collections, allow_l1c))
        return collect(iter(served[collections]), source="cdse", allow_l1c=allow_l1c)

    source = CdseSource({})
    monkeypatch.setattr(source.api, "find", fake_find)
    scenes = source.search(_aoi(l2a), date(2025, 3, 1), date(2025, 4, 30))
    assert [(s.date_key, s.collection, s.level) for s in scenes] == [
        ("2025-03-30", "sentinel-2-l2a", "L2A"),  # both exist: Level-2A only
        ("2025-04-04", "sentinel-2-l1c", "L1C"),  # only Level-1C exists
        ("2025-04-09", "sentinel-2-l2a", "L2A"),
    ]
    assert asked == [(("sentinel-2-l2a",), False), (("sentinel-2-l1c",), True)]


def test_a_failing_l1c_search_leaves_gaps_and_a_failing_l2a_search_fails(
    l2a: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, failing = _served(l2a), {("sentinel-2-l1c",)}

    def fake_find(
        aoi: Any, start: date, end: date, *, collections: tuple[str, ...], allow_l1c: bool = False
    ) -> Found:
        if collections in failing:
            raise SourceError(f"boom {collections[0]}")
        return collect(iter(served[collections]), source="cdse", allow_l1c=allow_l1c)

    source = CdseSource({})
    monkeypatch.setattr(source.api, "find", fake_find)
    area, start, end = _aoi(l2a), date(2025, 3, 1), date(2025, 4, 30)
    assert [s.level for s in source.search(area, start, end)] == ["L2A", "L2A"]
    failing = {("sentinel-2-l2a",)}
    with pytest.raises(SourceError, match="boom sentinel-2-l2a"):
        source.search(area, start, end)  # never Level-1C passed off as the whole archive


def test_the_stac_root_comes_from_the_environment_at_the_entry_point() -> None:
    assert CdseSource({}).api.url == "https://stac.dataspace.copernicus.eu/v1"
    local = open_source("cdse", Settings(), env={"CDSE_STAC_URL": "http://127.0.0.1:9/"})
    assert isinstance(local, CdseSource)
    assert local.api.url == "http://127.0.0.1:9"


def test_best_per_date_never_gives_a_date_two_products(l2a: dict[str, Any]) -> None:
    found = [
        collect(iter(items), source="cdse", allow_l1c=True)
        for items in (
            [moved(l2a, days=0)],
            [moved(l2a, days=0, dx=0.001), moved(l2a, days=3)],  # another tile of day 0
            [moved(to_l1c(l2a), days=d) for d in (0, 3, 6)],
        )
    ]
    best = best_per_date(found)
    got = sorted((s.date_key, s.id) for s in best.scenes)
    assert [d for d, _ in got] == ["2025-03-30", "2025-04-02", "2025-04-05"]
    assert [s.level for s in sorted(best.scenes, key=lambda s: s.date_key)] == ["L2A", "L2A", "L1C"]
    assert best.raw_count == 6
    assert set(best.footprints) == {s.id for s in best.scenes}


def test_a_rung_needs_collections_and_a_level() -> None:
    with pytest.raises(ValueError, match="collection"):
        Rung((), "L2A")
    with pytest.raises(ValueError, match="L2A or L1C"):
        Rung(("x",), "L3")  # type: ignore[arg-type]

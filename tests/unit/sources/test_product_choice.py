"""The best product of each date (issue 17), on recorded real items: Collection 1, its gaps
filled from sentinel-2-l2a for those dates only, Level-1C where no Level-2A exists."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box, shape

from pipeline.errors import SceneMetadataError, SourceError
from pipeline.sources.earth_search import EarthSearchSource
from pipeline.sources.gaps import product_gaps
from pipeline.sources.normalise import normalise_item
from pipeline.sources.per_date import best_per_date, by_level
from pipeline.sources.stac_api import Found, collect
from pipeline.types import Aoi, Scene

C1 = "earth-search_sentinel-2-c1-l2a_S2B_T20EPT_20250731T131905_L2A.json"
OLD = "earth-search_sentinel-2-l2a_S2B_20EPT_20250731_0_L2A.json"
L1C = "earth-search_sentinel-2-l1c_S2B_20EPT_20250731_0_L1C.json"


def _load(root: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((root / name).read_text(encoding="utf-8"))
    return doc


def _on(item: dict[str, Any], day: int) -> dict[str, Any]:
    """The recorded item moved ``day`` days later (id and datetime), to make a series."""
    out = copy.deepcopy(item)
    when = datetime.fromisoformat(out["properties"]["datetime"].replace("Z", "+00:00"))
    out["properties"]["datetime"] = (when + timedelta(days=day)).isoformat()
    out["id"] = f"{out['id']}-d{day}"
    return out


def test_the_real_l1c_item_parses_into_an_l1c_scene(stac_recorded: Path) -> None:
    item = _load(stac_recorded, L1C)
    scene = normalise_item(item, source="earth-search", allow_l1c=True)
    assert scene.level == "L1C"
    assert scene.collection == "sentinel-2-l1c"
    assert sorted(scene.assets) == ["blue", "green", "nir", "red", "swir16"]  # no SCL
    assert scene.assets["red"].href.endswith("B04.jp2")  # JPEG 2000, requester pays
    assert scene.processing_baseline == "05.11"
    assert (scene.assets["red"].scale, scene.assets["red"].offset) == (0.0001, -0.1)


def test_without_asking_the_l1c_item_is_refused_naming_what_it_lacks(stac_recorded: Path) -> None:
    with pytest.raises(SceneMetadataError, match=r"Level-1C.*no scene classification \(SCL\)"):
        normalise_item(_load(stac_recorded, L1C), source="earth-search")


def test_level_2a_items_stay_level_2a(stac_recorded: Path) -> None:
    assert normalise_item(_load(stac_recorded, C1), source="x").level == "L2A"
    assert normalise_item(_load(stac_recorded, OLD), source="x").level == "L2A"


def _aoi(item: dict[str, Any]) -> Aoi:
    centre = shape(item["geometry"]).representative_point()
    area = box(centre.x - 0.01, centre.y - 0.005, centre.x + 0.01, centre.y + 0.005)
    return Aoi(id="t", name="t", kind="port", geometry=area)


def test_each_date_gets_the_best_product(
    stac_recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c1, old, l1c = (_load(stac_recorded, n) for n in (C1, OLD, L1C))
    served: dict[tuple[str, ...], list[dict[str, Any]]] = {
        ("sentinel-2-c1-l2a",): [_on(c1, 0), _on(c1, 10)],
        ("sentinel-2-l2a",): [_on(old, 0), _on(old, 5), _on(old, 10)],
        ("sentinel-2-l1c",): [_on(l1c, d) for d in (0, 5, 10, 15)],
    }
    asked = []

    def fake_find(
        aoi: Any, start: date, end: date, *, collections: tuple[str, ...], allow_l1c: bool = False
    ) -> Found:
        asked.append((collections, allow_l1c))
        return collect(iter(served[collections]), source="earth-search", allow_l1c=allow_l1c)

    source = EarthSearchSource()
    monkeypatch.setattr(source.api, "find", fake_find)
    scenes = source.search(_aoi(c1), date(2025, 7, 1), date(2025, 8, 31))
    got = [(s.date_key, s.collection, s.level) for s in scenes]
    assert got == [
        ("2025-07-31", "sentinel-2-c1-l2a", "L2A"),
        ("2025-08-05", "sentinel-2-l2a", "L2A"),  # the c1 gap, filled for that date only
        ("2025-08-10", "sentinel-2-c1-l2a", "L2A"),  # not replaced by the older collection
        ("2025-08-15", "sentinel-2-l1c", "L1C"),  # no Level-2A at all that day
    ]
    assert [a[1] for a in asked] == [False, False, True]


def test_a_failing_collection_one_still_gets_every_date_from_l2a(
    stac_recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _load(stac_recorded, OLD)

    def fake_find(
        aoi: Any, start: date, end: date, *, collections: tuple[str, ...], allow_l1c: bool = False
    ) -> Found:
        if collections == ("sentinel-2-c1-l2a",):
            raise SourceError("boom")
        items = [] if allow_l1c else [_on(old, 0), _on(old, 5)]
        return collect(iter(items), source="earth-search", allow_l1c=allow_l1c)

    source = EarthSearchSource()
    monkeypatch.setattr(source.api, "find", fake_find)
    scenes = source.search(_aoi(old), date(2025, 7, 1), date(2025, 8, 31))
    assert [s.collection for s in scenes] == ["sentinel-2-l2a", "sentinel-2-l2a"]


def _scene(day: date, level: str, collection: str) -> Scene:
    return Scene(
        id=f"{collection}-{day}",
        datetime=datetime(day.year, day.month, day.day, 2, 16, tzinfo=UTC),
        platform="sentinel-2a",
        tile="52TFM",
        epsg=32652,
        processing_baseline="02.07",
        assets={},
        cloud_cover=None,
        source="local",
        collection=collection,
        level=level,  # type: ignore[arg-type]
    )


def test_level_1c_is_kept_only_on_dates_without_level_2a() -> None:
    days = [date(2018, 11, 25), date(2018, 12, 5)]
    scenes = [
        _scene(days[0], "L1C", "sentinel-2-l1c"),
        _scene(days[1], "L1C", "sentinel-2-l1c"),
        _scene(days[1], "L2A", "sentinel-2-c1-l2a"),
    ]
    best = best_per_date(by_level(Found(scenes, {}, len(scenes), [])))
    assert sorted((s.date_key, s.level) for s in best.scenes) == [
        ("2018-11-25", "L1C"),
        ("2018-12-05", "L2A"),
    ]


def test_gaps_name_the_products_and_the_months_nothing_or_only_l1c_covers() -> None:
    scenes = [
        _scene(date(2018, 11, 25), "L1C", "sentinel-2-l1c"),
        _scene(date(2018, 11, 30), "L1C", "sentinel-2-l1c"),
        _scene(date(2019, 2, 5), "L2A", "sentinel-2-c1-l2a"),
    ]
    gaps = product_gaps(scenes, date(2018, 10, 1), date(2019, 3, 31), source="s")
    assert gaps.months_without == ("2018-10", "2018-12", "2019-01", "2019-03")
    assert gaps.months_l1c_only == ("2018-11",)
    assert gaps.lines() == [
        "s: sentinel-2-l1c (L1C) 2 dates 2018-11-25..2018-11-30",
        "s: sentinel-2-c1-l2a (L2A) 1 dates 2019-02-05..2019-02-05",
        "s: months with no scene: 2018-10, 2018-12..2019-01, 2019-03",
        "s: months with Level-1C only (no Level-2A): 2018-11",
    ]

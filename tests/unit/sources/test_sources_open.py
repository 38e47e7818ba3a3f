"""``--source`` resolution, the local catalog source, and per-read signing (PC, CDSE)."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from servers import free_port
from shapely.geometry import box, mapping

from pipeline.config import Settings
from pipeline.errors import ReadError, SourceError
from pipeline.sources import (
    CdseSource,
    EarthSearchSource,
    LocalSource,
    PlanetaryComputerSource,
    SkippedItemWarning,
    StacApiSource,
    open_source,
)
from pipeline.sources.s3presign import presign_get
from pipeline.types import Aoi

AOI = Aoi(id="a", name="a", kind="port", geometry=box(130.27, 42.20, 130.34, 42.26))


def _item(
    item_id: str,
    when: str,
    *,
    bbox: tuple[float, ...] = (130.0, 42.0, 131.0, 43.0),
    href: str = "B.tif",
) -> dict[str, Any]:
    keys = {
        "blue": "B02",
        "green": "B03",
        "red": "B04",
        "nir": "B08",
        "swir16": "B11",
        "scl": "SCL",
    }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": "sentinel-2-c1-l2a",
        "bbox": list(bbox),
        "geometry": mapping(box(bbox[0], bbox[1], bbox[2], bbox[3])),
        "properties": {
            "datetime": when,
            "platform": "sentinel-2a",
            "grid:code": "MGRS-52TFM",
            "proj:epsg": 32652,
            "s2:processing_baseline": "05.10",
            "eo:cloud_cover": 5.0,
            "rasonwatch:simulated": True,
        },
        "assets": {
            band: {
                "href": f"{name}/{href}",
                "raster:bands": [{"scale": 0.0001, "offset": -0.1, "nodata": 0}]
                if band != "scl"
                else [{"nodata": 0}],
            }
            for band, name in keys.items()
        },
        "links": [],
    }


def test_named_sources_and_urls() -> None:
    settings = Settings()
    assert isinstance(open_source("earth-search", settings), EarthSearchSource)
    assert isinstance(open_source("planetary-computer", settings), PlanetaryComputerSource)
    assert isinstance(open_source("cdse", settings, env={}), CdseSource)
    api = open_source("http://127.0.0.1:9/stac/", settings)
    assert isinstance(api, StacApiSource)
    assert api.url == "http://127.0.0.1:9/stac"


def test_missing_path_is_a_one_line_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        open_source(str(tmp_path / "nope"), Settings())
    assert "\n" not in str(err.value)
    assert "nope" in str(err.value)
    with pytest.raises(SourceError):
        open_source("  ", Settings())


def test_unreachable_api_is_a_source_error() -> None:
    source = StacApiSource(f"http://127.0.0.1:{free_port()}", http_retries=0, timeout_s=2)
    with pytest.raises(SourceError, match=r"127\.0\.0\.1"):
        source.search(AOI, date(2023, 1, 1), date(2023, 1, 2))


def test_local_catalog_resolves_relative_hrefs_and_filters(tmp_path: Path) -> None:
    (tmp_path / "items" / "s1").mkdir(parents=True)
    (tmp_path / "items" / "s2").mkdir(parents=True)
    (tmp_path / "items" / "far").mkdir(parents=True)
    docs = {
        "items/s1/s1.json": _item("s1", "2023-09-01T02:10:00Z"),
        "items/s2/s2.json": _item("s2", "2023-10-01T02:10:00Z"),
        "items/far/far.json": _item("far", "2023-09-05T02:10:00Z", bbox=(10.0, 10.0, 11.0, 11.0)),
    }
    for rel, doc in docs.items():
        (tmp_path / rel).write_text(json.dumps(doc))
    collection = {
        "type": "Collection",
        "id": "sim",
        "links": [{"rel": "item", "href": f"../{rel}"} for rel in docs],
    }
    (tmp_path / "collection").mkdir()
    (tmp_path / "collection" / "collection.json").write_text(json.dumps(collection))
    catalog = {
        "type": "Catalog",
        "id": "root",
        "links": [{"rel": "child", "href": "./collection/collection.json"}],
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    source = open_source(str(tmp_path), Settings())
    assert isinstance(source, LocalSource)
    scenes = source.search(AOI, date(2023, 9, 1), date(2023, 9, 30))
    assert [s.id for s in scenes] == ["s1"]
    (scene,) = scenes
    assert scene.assets["red"].href == str(tmp_path / "items" / "s1" / "B04" / "B.tif")
    assert scene.simulated
    assert scene.source == "local"
    assert source.sign(scene.assets["red"].href) == scene.assets["red"].href
    assert [s.id for s in source.search(AOI, date(2023, 1, 1), date(2023, 12, 31))] == ["s1", "s2"]


def test_local_ndjson_and_bad_items(tmp_path: Path) -> None:
    good = _item("good", "2023-09-01T02:10:00Z")
    l1c = {
        **_item("S2A_52TFM_20230902_0_L1C", "2023-09-02T02:10:00Z"),
        "collection": "sentinel-2-l1c",
    }
    same_day = {
        **_item("S2A_52TFM_20230901_0_L1C", "2023-09-01T02:10:00Z"),
        "collection": "sentinel-2-l1c",
    }
    broken = {k: v for k, v in _item("broken", "2023-09-03T02:10:00Z").items() if k != "properties"}
    path = tmp_path / "items.ndjson"
    path.write_text("\n".join(json.dumps(i) for i in (good, l1c, same_day, broken)) + "\n")
    source = LocalSource(tmp_path)
    with pytest.warns(SkippedItemWarning, match="broken"):
        scenes = source.search(AOI, date(2023, 9, 1), date(2023, 9, 30))
    # issue 17: Level-1C where no Level-2A exists that day, never beside a Level-2A scene
    assert [(s.id, s.level) for s in scenes] == [
        ("good", "L2A"),
        ("S2A_52TFM_20230902_0_L1C", "L1C"),
    ]
    assert scenes[0].assets["nir"].href == str(tmp_path / "B08" / "B.tif")
    (tmp_path / "items.ndjson").write_text("")
    with pytest.raises(SourceError, match="no STAC items"):
        LocalSource(tmp_path).search(AOI, date(2023, 9, 1), date(2023, 9, 30))


def test_planetary_computer_signs_at_read_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import planetary_computer

    calls: list[str] = []

    def fake_sign(href: str) -> str:
        calls.append(href)
        return href + "?st=2023&se=2023&sig=abc"

    monkeypatch.setattr(planetary_computer, "sign", fake_sign)
    source = PlanetaryComputerSource()
    href = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/x/B04_10m.tif"
    assert source.sign(href).endswith("sig=abc")
    assert source.sign(href) == source.sign(href)
    assert calls == [href] * 3  # every read signs again; nothing is cached by us


def test_cdse_without_credentials_searches_but_cannot_read() -> None:
    source = CdseSource({})
    assert source.sign("https://example.org/a.tif") == "https://example.org/a.tif"
    with pytest.raises(
        ReadError, match=r"CDSE_S3_ACCESS_KEY.*CDSE_S3_SECRET_KEY.*AWS_ACCESS_KEY_ID"
    ):
        source.sign("s3://eodata/Sentinel-2/MSI/L2A/x/B04_10m.jp2")


def test_cdse_presigns_s3_hrefs_without_exposing_the_secret() -> None:
    env = {"CDSE_S3_ACCESS_KEY": "AKIDCDSE", "CDSE_S3_SECRET_KEY": "very-secret-key"}
    source = CdseSource(env)
    assert "very-secret-key" not in repr(source.credentials)
    url = source.sign("s3://eodata/Sentinel-2/MSI/L2A/2025/03/30/x/T33UWP_B04_10m.jp2")
    assert url.startswith(
        "https://eodata.dataspace.copernicus.eu/eodata/Sentinel-2/MSI/L2A/2025/03/30/x/"
    )
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Credential=AKIDCDSE%2F" in url
    assert "very-secret-key" not in url
    assert "%2Fdefault%2Fs3%2Faws4_request" in url
    aws = CdseSource(
        {"AWS_ACCESS_KEY_ID": "AKIDAWS", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}
    )
    assert "X-Amz-Security-Token=tok" in aws.sign("s3://eodata/a.jp2")


def test_presign_reproduces_the_aws_documented_example() -> None:
    url = presign_get(
        "https://examplebucket.s3.amazonaws.com/test.txt",
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        expires_s=86400,
        now=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert url == (
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    with pytest.raises(ValueError, match="no query string"):
        presign_get("https://h/b/k?x=1", access_key="a", secret_key="s", region="r")


def test_earth_search_falls_back_when_c1_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    source = EarthSearchSource()
    asked: list[tuple[str, ...]] = []

    def fake_find(aoi: Any, start: date, end: date, *, collections: tuple[str, ...]) -> Any:
        asked.append(collections)
        raise SourceError(f"boom {collections[0]}")

    monkeypatch.setattr(source.api, "find", fake_find)
    expected = r"boom sentinel-2-c1-l2a.*fallback also failed: boom sentinel-2-l2a"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a failing fallback is an error, not a warning
        with pytest.raises(SourceError, match=expected):
            source.search(AOI, date(2023, 1, 1), date(2023, 1, 2))
    assert asked == [("sentinel-2-c1-l2a",), ("sentinel-2-l2a",)]

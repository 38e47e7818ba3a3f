"""The de-duplication rule for overlapping MGRS tiles (52TEM / 52TFM / 52TFN) on one date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fake_source import FakeSource
from shapely.geometry import box

from pipeline.errors import InvalidDateRangeError
from pipeline.sources import dedupe
from pipeline.types import Aoi, BandAsset, Scene

AOI = Aoi(id="rajin", name="rajin", kind="port", geometry=box(130.27, 42.20, 130.34, 42.26))
FULL = (130.0, 42.0, 131.5, 43.0)
HALF = (129.0, 42.0, 130.305, 43.0)  # covers the west half of the AOI


def scene(
    scene_id: str,
    *,
    day: int = 1,
    tile: str = "52TFM",
    bbox: tuple[float, float, float, float] | None = FULL,
    cloud: float | None = 20.0,
    baseline: str = "05.10",
    rule: str = "raster-metadata",
    hour: int = 2,
) -> Scene:
    return Scene(
        id=scene_id,
        datetime=datetime(2023, 9, day, hour, 10, tzinfo=UTC),
        platform="sentinel-2b",
        tile=tile,
        epsg=32652,
        processing_baseline=baseline,
        assets={"red": BandAsset(href=f"/data/{scene_id}/B04.tif")},
        cloud_cover=cloud,
        source="fake",
        offset_rule=rule,
        bbox=bbox,
    )


def ids(scenes: list[Scene]) -> list[str]:
    return [s.id for s in scenes]


def test_coverage_beats_cloud_cover() -> None:
    fm = scene("FM", tile="52TFM", cloud=40.0)
    em = scene("EM", tile="52TEM", bbox=HALF, cloud=1.0)
    assert ids(dedupe([em, fm], AOI)) == ["FM"]


def test_equal_coverage_then_lower_cloud_cover() -> None:
    fm = scene("FM", cloud=40.0)
    fn = scene("FN", tile="52TFN", cloud=5.0)
    assert ids(dedupe([fm, fn], AOI)) == ["FN"]
    unknown = scene("UN", tile="52TEM", cloud=None)
    assert ids(dedupe([unknown, fm], AOI)) == ["FM"]  # unknown cloud ranks last


def test_equal_coverage_and_cloud_then_newer_baseline_then_trusted_offset() -> None:
    old = scene("A-OLD", baseline="04.00")
    new = scene("B-NEW", baseline="05.10")
    assert ids(dedupe([old, new], AOI)) == ["B-NEW"]
    suspect = scene("A-SUSPECT", rule="earthsearch-flag:applied")
    trusted = scene("B-TRUSTED", rule="raster-metadata")
    assert ids(dedupe([suspect, trusted], AOI)) == ["B-TRUSTED"]
    assert ids(dedupe([scene("B"), scene("A")], AOI)) == ["A"]  # finally the id, deterministically


def test_footprint_geometry_outranks_bbox() -> None:
    # Both bboxes cover the AOI, but one real footprint (a swath edge) covers only half of it.
    edge = scene("EDGE", cloud=0.0)
    full = scene("FULL", tile="52TEM", cloud=50.0)
    assert ids(dedupe([edge, full], AOI, footprints={"EDGE": box(*HALF)})) == ["FULL"]


def test_one_scene_per_utc_date_sorted_and_far_tiles_dropped() -> None:
    day2 = scene("D2", day=2)
    day1_late = scene("D1-FN", day=1, hour=23, tile="52TFN", cloud=1.0)
    day1 = scene("D1-FM", day=1, cloud=30.0)
    far = scene("FAR", day=3, bbox=(10.0, 10.0, 11.0, 11.0))
    assert ids(dedupe([day2, day1, far, day1_late], AOI)) == ["D1-FN", "D2"]


def test_fake_source_filters_dates_dedupes_and_records_signing() -> None:
    scenes = [
        scene("FM", cloud=40.0),
        scene("EM", tile="52TEM", bbox=HALF, cloud=1.0),
        scene("D5", day=5),
    ]
    source = FakeSource(scenes, signer=lambda h: h + "?token")
    assert ids(source.search(AOI, date(2023, 9, 1), date(2023, 9, 4))) == ["FM"]
    assert ids(source.search(AOI, date(2023, 9, 1), date(2023, 9, 5))) == ["FM", "D5"]
    assert source.sign("/x.tif") == "/x.tif?token"
    assert source.signed == ["/x.tif"]
    with pytest.raises(InvalidDateRangeError, match="ends before it starts"):
        source.search(AOI, date(2023, 9, 5), date(2023, 9, 1))


def test_dedupe_is_order_independent() -> None:
    many = [
        scene(f"S{i}", tile=t, cloud=c)
        for i, (t, c) in enumerate([("52TFM", 9.0), ("52TEM", 3.0), ("52TFN", 3.0)])
    ]
    expected = ids(dedupe(many, AOI))
    assert expected == ["S1"]
    assert ids(dedupe(list(reversed(many)), AOI)) == expected
    assert dedupe([], AOI) == []
    assert all(s.datetime - many[0].datetime < timedelta(days=1) for s in many)

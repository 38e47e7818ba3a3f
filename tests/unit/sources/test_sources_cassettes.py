"""Recorded Earth Search and Planetary Computer searches replay through our sources, offline.

Replay only (``--record-mode=none``): a request the cassette does not hold fails the test.
Where our source can send exactly the recorded request, the body is matched too; the other
recordings were made with parameters a source never sends (a CQL2 filter, no AOI), so
those match on method and URL and prove parsing and paging only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, box

from pipeline.sources import (
    EarthSearchSource,
    PlanetaryComputerSource,
    SkippedItemWarning,
    StacApiSource,
)
from pipeline.types import Aoi

SHARED_DATASETS = Path(__file__).resolve().parents[4] / "shared" / "datasets"
CASSETTES = SHARED_DATASETS / "stac-recorded" / "pystac-client-cassettes"
pytestmark = pytest.mark.skipif(
    not CASSETTES.is_dir(), reason=f"recorded cassettes not found at {CASSETTES} (fresh clone)"
)
WITH_BODY = ("method", "scheme", "host", "port", "path", "query", "body")
URL_ONLY = ("method", "scheme", "host", "port", "path", "query")


def _aoi(geometry: Any) -> Aoi:
    return Aoi(id="recorded", name="recorded", kind="port", geometry=geometry)


@pytest.mark.vcr(
    str(CASSETTES / "earth-search-v1_search_multiple_collections.yaml"), match_on=WITH_BODY
)
def test_earth_search_sends_the_recorded_request_and_follows_the_next_page(vcr: Any) -> None:
    source = EarthSearchSource(
        collections=("sentinel-2-l2a", "landsat-c2-l2"), fallback_collections=(), page_size=None
    )
    boulder = _aoi(Point(-105.1019, 40.1672))
    with pytest.warns(
        SkippedItemWarning, match=r"skipped 1 of 2 items: .*LC08_L2SP_033032_20231008_02_T1"
    ):
        scenes = source.search(boulder, date(2023, 10, 8), date(2023, 10, 8))
    assert vcr.play_count == 2
    assert vcr.all_played
    (scene,) = scenes
    assert (scene.id, scene.tile, scene.collection) == (
        "S2A_13TDE_20231008_0_L2A",
        "13TDE",
        "sentinel-2-l2a",
    )
    assert scene.offset_rule == "earthsearch-flag:applied"
    assert scene.assets["nir"].offset == 0.0
    assert scene.source == "earth-search"


@pytest.mark.vcr(str(CASSETTES / "earth-search-v1_search_c1-l2a_l2a_l1c.yaml"), match_on=URL_ONLY)
def test_generic_stac_api_pages_through_mixed_collections(vcr: Any) -> None:
    source = StacApiSource("https://earth-search.aws.element84.com/v1", name="es-any", max_items=20)
    found = source.find(_aoi(Point(0, 0)), date(2025, 7, 31), date(2025, 7, 31), collections=None)
    assert vcr.play_count == 3  # landing page, page 1, page 2 (max_items stops paging there)
    assert found.raw_count == 20
    kinds = sorted({s.collection for s in found.scenes})
    assert kinds == ["sentinel-2-c1-l2a", "sentinel-2-l2a"]
    assert len(found.scenes) == 12
    reasons = " ".join(found.skipped)
    assert len(found.skipped) == 8
    assert "Level-1C" in reasons
    assert "not a Sentinel-2 item" in reasons
    # Over tile 20EPT the same acquisition exists in c1 and in l2a with equal coverage, cloud
    # and baseline: the trusted offset (c1's raster:bands) wins the tie.
    aoi = _aoi(box(-59.44, -60.43, -59.41, -60.41))
    chosen = source.finish(found, aoi, date(2025, 7, 31), date(2025, 7, 31))
    assert [s.id for s in chosen] == ["S2B_T20EPT_20250731T131905_L2A"]


@pytest.mark.vcr(
    str(CASSETTES / "planetary-computer_search_s2-l2a_2019-01-01.yaml"), match_on=URL_ONLY
)
def test_planetary_computer_search_is_parsed_unsigned_and_deduplicated(vcr: Any) -> None:
    source = PlanetaryComputerSource(page_size=None)
    aoi = _aoi(box(173.754, 58.002, 173.854, 58.062))  # inside both 60VUK and 59VPE
    found = source.api.find(
        aoi, date(2019, 1, 1), date(2019, 1, 1), collections=("sentinel-2-l2a",)
    )
    assert found.raw_count == 33
    assert len(found.scenes) == 33
    assert not found.skipped
    assert all("?" not in a.href for s in found.scenes for a in s.assets.values())  # no SAS yet
    assert {s.offset_rule for s in found.scenes} == {"baseline<04.00"}
    chosen = source.api.finish(found, aoi, date(2019, 1, 1), date(2019, 1, 1))
    # Both tiles cover the AOI completely (two UTM zones); the less cloudy one is kept.
    assert [(s.tile, s.epsg) for s in chosen] == [("60VUK", 32660)]
    assert vcr.play_count == 1


@pytest.mark.vcr(
    str(CASSETTES / "planetary-computer_search_s2-l2a_2019-01-01.yaml"), match_on=URL_ONLY
)
def test_planetary_computer_source_search_makes_no_token_request(vcr: Any) -> None:
    source = PlanetaryComputerSource()
    scenes = source.search(
        _aoi(box(173.754, 58.002, 173.854, 58.062)), date(2019, 1, 1), date(2019, 1, 1)
    )
    assert [s.tile for s in scenes] == ["60VUK"]
    assert vcr.play_count == 1  # a SAS token request would have failed: it is not recorded

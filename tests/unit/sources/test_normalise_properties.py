"""Property-based tests (hypothesis) of the STAC item normaliser and the local catalog: a
Scene or a one-line refusal.
"""

from __future__ import annotations

import copy
import json
import tempfile
import warnings
from datetime import date
from pathlib import Path
from typing import Any

from hostile_values import FEW, HUGE_INT, json_values, valid_or_refused
from hypothesis import example, given
from hypothesis import strategies as st
from shapely.geometry import box

from pipeline.geo.safe_paths import is_safe_name, safe_name
from pipeline.sources.local import LocalSource
from pipeline.sources.normalise import normalise_item
from pipeline.types import Aoi, Scene

# --- the STAC item normaliser -------------------------------------------------------------------
BAND_FILES = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11"}
ITEM: dict[str, Any] = {
    "type": "Feature",
    "id": "S2A_T52TFM_20230804T021601_L2A",
    "collection": "sentinel-2-c1-l2a",
    "bbox": [130.0, 42.0, 131.0, 43.0],
    "properties": {
        "datetime": "2023-08-04T02:16:01Z",
        "platform": "sentinel-2a",
        "grid:code": "MGRS-52TFM",
        "proj:epsg": 32652,
        "s2:processing_baseline": "05.10",
        "eo:cloud_cover": 5.0,
    },
    "assets": {
        **{
            band: {"href": f"/data/{name}.tif", "raster:bands": [{"scale": 1e-4, "offset": -0.1}]}
            for band, name in BAND_FILES.items()
        },
        "scl": {"href": "/data/SCL.tif", "raster:bands": [{"nodata": 0}]},
        "thumbnail": {"href": "/data/t.jpg"},
    },
}
HOSTILE_IDS = ["../../etc/x", "/abs/path", "a/../../b", "..", "x\x00y", "a\\b", "", " ", "\n"]


def _item(
    *,
    item_id: str | None = None,
    bbox: Any = None,
    drop: str | None = None,
    thumbnail: Any = None,
    when: str | None = None,
    cloud: Any = None,
) -> dict[str, Any]:
    """The sample item with one hostile change."""
    item = copy.deepcopy(ITEM)
    props = item["properties"]
    if item_id is not None:
        item["id"] = item_id
    if bbox is not None:
        item["bbox"] = bbox
    if drop is not None:
        props.pop(drop)
    if thumbnail is not None:
        item["assets"]["thumbnail"] = thumbnail
    if when is not None:
        props["datetime"] = when
    if cloud is not None:
        props["eo:cloud_cover"] = cloud
    return item


def _members(item: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths to every member of nested dicts (where a hostile value can go)."""
    if not isinstance(item, dict):
        return []
    out = []
    for key, value in item.items():
        out.append((*prefix, key))
        out += _members(value, (*prefix, key))
    return out


MEMBERS = _members(ITEM)


@st.composite
def items(draw: st.DrawFn) -> Any:
    """The sample item with a few members replaced by junk or removed, or any JSON at all."""
    if draw(st.integers(0, 7)) == 0:
        return draw(json_values)
    item = copy.deepcopy(ITEM)
    for path in draw(st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=3)):
        parent: Any = item
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if draw(st.booleans()):
            parent.pop(path[-1], None)
        elif path == ("id",):
            parent["id"] = draw(st.one_of(st.sampled_from(HOSTILE_IDS), json_values))
        else:
            parent[path[-1]] = draw(json_values)
    return item


def _check_scene(scene: Scene | None) -> None:
    if scene is None:
        return
    assert isinstance(scene.id, str)
    assert scene.id.strip()
    assert not any(ord(c) < 32 for c in scene.id), "control characters reach logs and paths"
    assert is_safe_name(safe_name(scene.id))
    assert scene.datetime.tzinfo is not None
    assert all(isinstance(a.href, str) and a.href for a in scene.assets.values())


@FEW
@given(items())
# regressions: ValueError, AttributeError, OverflowError, or an id with NUL accepted
@example(_item(bbox=["a", 1, 2, 3]))
@example(_item(drop="proj:epsg", thumbnail="x"))
@example(_item(when="0001-01-01T00:00:00+01:00"))
@example(_item(cloud=HUGE_INT))
@example(_item(item_id="S2A_x\x00y"))
def test_normaliser_builds_a_scene_or_refuses(item: Any) -> None:
    if not isinstance(item, dict):
        return  # sources only hand dicts over (json objects); see the next test for the rest
    _check_scene(valid_or_refused(lambda: normalise_item(item, source="t")))


@FEW
@given(
    st.dictionaries(st.sampled_from(["id", "properties", "assets", "bbox", "type"]), json_values)
)
def test_normaliser_survives_any_json_object(item: dict[str, Any]) -> None:
    _check_scene(valid_or_refused(lambda: normalise_item(item, source="t")))


def test_the_sample_item_is_valid() -> None:
    """The mutations above start from an item that normalises (else they prove nothing)."""
    scene = normalise_item(ITEM, source="t")
    assert scene.id == ITEM["id"]
    assert scene.tile == "52TFM"
    assert scene.epsg == 32652


@FEW
@given(st.lists(st.one_of(items(), json_values), min_size=1, max_size=4))
# regressions: each raised AttributeError, ValueError or TypeError out of the search
@example([None])
@example([{"links": {"a": 1}}])
@example([{"bbox": ["x", 1, 2, 3]}])
@example([{"properties": [1]}])
@example([{"assets": {"b": 5}}])
def test_a_local_catalog_of_hostile_items_gives_scenes_or_refuses(lines: list[Any]) -> None:
    """Items in an ndjson file: each becomes a scene or a skipped item, never a crash."""
    aoi = Aoi("a", "a", "port", box(130.3, 42.2, 130.4, 42.3))
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped items are reported as a warning
        path = Path(folder) / "items.ndjson"
        path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
        found = valid_or_refused(
            lambda: LocalSource(path).search(aoi, date(2023, 1, 1), date(2023, 12, 31))
        )
    for scene in found or ():
        _check_scene(scene)

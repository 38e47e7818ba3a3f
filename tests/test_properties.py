"""Property-based tests (hypothesis): date chunking, the chip-window maths, and every parser
of outside input, which returns a valid object or raises a RasonWatchError, never a
KeyError, TypeError, ValueError or AttributeError.

Each property runs a modest number of examples (the file takes a few seconds); the
profile is deterministic (``derandomize``) so a failure reproduces run after run.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import tempfile
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from affine import Affine
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from pipeline.claims.rules import CLAIM_ID, parse_claims
from pipeline.errors import InvalidDateRangeError, RasonWatchError
from pipeline.geo.aoi import MAX_AREA_KM2, MIN_AREA_KM2, is_aoi_id, parse_aoi
from pipeline.geo.dates import chunk_range, day_bounds, parse_date, parse_range
from pipeline.geo.projection import area_km2
from pipeline.geo.safe_paths import is_safe_name, safe_name
from pipeline.read.grid import ChipGrid, band_window, snap_grid
from pipeline.simulate import parse_scenario
from pipeline.sources.local import LocalSource
from pipeline.sources.normalise import normalise_item
from pipeline.types import Aoi, Scene

T = TypeVar("T")
#: Few examples, no deadline (the AOI parser projects with pyproj), reproducible.
FEW = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
MANY = settings(max_examples=200, deadline=None, derandomize=True)


def valid_or_refused(parse: Callable[[], T]) -> T | None:
    """``parse()``'s result, or None when it refused with a RasonWatchError (nothing else)."""
    try:
        return parse()
    except RasonWatchError as exc:
        refusal = str(exc)
    assert "\n" not in refusal.strip(), f"message is not one line: {refusal}"
    return None


# --- hostile values ---------------------------------------------------------------------------
HUGE_INT = 10**400  # finite as an int, infinite as a float
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(HUGE_INT),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
#: Anything json.loads could return (and a huge integer).
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
#: Anything tomllib could return: JSON values plus dates and datetimes.
toml_values = st.recursive(
    st.one_of(scalars, st.dates(), st.datetimes()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


# --- dates ------------------------------------------------------------------------------------
@MANY
@given(st.dates())
def test_parse_date_round_trips_iso_dates(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"  {day.isoformat()}\n") == day


@MANY
@given(st.text(max_size=20))
def test_parse_date_returns_a_date_or_refuses(text: str) -> None:
    parsed = valid_or_refused(lambda: parse_date(text))
    assert parsed is None or isinstance(parsed, date)


@MANY
@given(st.dates(), st.dates())
def test_parse_range_orders_or_refuses(first: date, last: date) -> None:
    if last < first:
        with pytest.raises(InvalidDateRangeError, match="reversed"):
            parse_range(first.isoformat(), last.isoformat())
    else:
        assert parse_range(first.isoformat(), last.isoformat()) == (first, last)


def _span(first: date, length: int) -> date:
    return date.fromordinal(min(first.toordinal() + length, date.max.toordinal()))


@MANY
@given(st.dates(), st.integers(min_value=-3, max_value=3000), st.integers(1, 400))
@example(date(9999, 12, 29), 2, 5)  # regression: stepping past date.max overflowed
@example(date.max, 0, 1)
def test_chunks_cover_the_range_exactly_in_order(first: date, length: int, days: int) -> None:
    if length < 0 and first > date.min:
        last = date.fromordinal(first.toordinal() - 1)
    else:
        last = _span(first, abs(length))
    if last < first:
        assert chunk_range(first, last, days=days) == []
        return
    chunks = chunk_range(first, last, days=days)
    assert chunks[0][0] == first
    assert chunks[-1][1] == last
    sizes = [(stop - start).days + 1 for start, stop in chunks]
    assert all(1 <= n <= days for n in sizes)
    assert all(n == days for n in sizes[:-1]), "only the last chunk may be short"
    for (_, stop), (start, _) in itertools.pairwise(chunks):
        assert start.toordinal() == stop.toordinal() + 1, "no gap, no overlap"
    assert sum(sizes) == (last - first).days + 1
    assert len(chunks) == math.ceil(sum(sizes) / days)


@given(st.integers(max_value=0))
def test_chunk_length_must_be_positive(days: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        chunk_range(date(2023, 1, 1), date(2023, 2, 1), days=days)


@MANY
@given(st.dates(), st.integers(min_value=0, max_value=800))
@example(date.max, 0)  # regression: the day after date.max overflowed
def test_day_bounds_cover_whole_utc_days(first: date, length: int) -> None:
    last = _span(first, length)
    start, end = day_bounds(first, last)
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC
    assert (start.date(), end.date()) == (first, last)
    assert start.time() == datetime.min.time()
    assert end.time() == datetime.max.time()


# --- the chip window ----------------------------------------------------------------------------
TOL = 1e-6  # metres (pipeline.read.grid.GRID_TOLERANCE_M)
eastings = st.floats(min_value=100_000, max_value=900_000, allow_nan=False)
northings = st.floats(min_value=1_000_000, max_value=9_000_000, allow_nan=False)
offsets = st.floats(min_value=-60_000, max_value=60_000, allow_nan=False)
extents = st.one_of(st.just(0.0), st.floats(min_value=0, max_value=20_000, allow_nan=False))


@st.composite
def windows(draw: st.DrawFn) -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    """AOI bounds in a UTM zone and a band's upper-left corner, sometimes exactly on a line."""
    origin = (draw(eastings), draw(northings))
    if draw(st.booleans()):  # bounds exactly on lattice lines: the edge cases of floor/ceil
        west = origin[0] + 10 * draw(st.integers(-5000, 5000))
        north = origin[1] - 10 * draw(st.integers(-5000, 5000))
        width, height = 10.0 * draw(st.integers(0, 500)), 10.0 * draw(st.integers(0, 500))
    else:
        west, north = origin[0] + draw(offsets), origin[1] + draw(offsets)
        width, height = draw(extents), draw(extents)
    return (west, north - height, west + width, north), origin


def _on_lattice(value: float, anchor: float, res: float) -> bool:
    cells = (value - anchor) / res
    return abs(cells - round(cells)) * res < TOL


@MANY
@given(windows(), st.sampled_from([10.0, 20.0, 60.0]))
def test_snapped_grid_covers_the_bounds_on_the_lattice(
    case: tuple[tuple[float, float, float, float], tuple[float, float]], res: float
) -> None:
    bounds, origin = case
    west, south, east, north = bounds
    grid = snap_grid(bounds, origin=origin, res=res)
    gw, gs, ge, gn = grid.bounds
    assert isinstance(grid.width, int)
    assert isinstance(grid.height, int)
    assert grid.width >= 1
    assert grid.height >= 1
    assert gw <= west + TOL
    assert ge >= east - TOL
    assert gs <= south + TOL
    assert gn >= north - TOL
    assert west - gw < res + TOL, "at most one cell of padding"
    assert ge - east < res + TOL
    assert north - gn > -res - TOL
    assert south - gs < res + TOL
    assert _on_lattice(gw, origin[0], res)
    assert _on_lattice(gn, origin[1], res)
    assert grid.transform.a == res
    assert grid.transform.e == -res
    assert grid.transform.b == 0
    assert grid.transform.d == 0


@MANY
@given(windows())
def test_snapping_is_idempotent_and_ignores_which_corner_anchors(
    case: tuple[tuple[float, float, float, float], tuple[float, float]],
) -> None:
    bounds, origin = case
    grid = snap_grid(bounds, origin=origin, res=10.0)
    assert snap_grid(grid.bounds, origin=origin, res=10.0).same_as(grid)
    moved = (origin[0] - 10.0 * 137, origin[1] + 10.0 * 59)  # another corner of the lattice
    assert snap_grid(bounds, origin=moved, res=10.0).same_as(grid)


@MANY
@given(windows())
def test_band_window_is_the_grid_in_the_band(
    case: tuple[tuple[float, float, float, float], tuple[float, float]],
) -> None:
    bounds, origin = case
    grid = snap_grid(bounds, origin=origin, res=10.0)
    band = Affine(10.0, 0.0, origin[0], 0.0, -10.0, origin[1])
    window = band_window(grid, band)
    assert (window.width, window.height) == (grid.width, grid.height)
    assert float(window.col_off).is_integer()
    assert float(window.row_off).is_integer()
    x, y = band @ (window.col_off, window.row_off)
    assert abs(x - grid.transform.c) < TOL
    assert abs(y - grid.transform.f) < TOL


@given(st.integers(max_value=0), st.integers(min_value=1, max_value=5))
def test_an_empty_grid_is_refused(rows: int, cols: int) -> None:
    with pytest.raises(ValueError, match="empty chip grid"):
        ChipGrid(Affine.identity(), rows, cols)


# --- the AOI parser ---------------------------------------------------------------------------
RING = [[130.30, 42.23], [130.32, 42.23], [130.32, 42.25], [130.30, 42.25], [130.30, 42.23]]


def _feature(**properties: Any) -> dict[str, Any]:
    geometry = {"type": "Polygon", "coordinates": [RING]}
    return {"type": "Feature", "properties": {"kind": "port", **properties}, "geometry": geometry}


positions = st.one_of(
    st.lists(st.floats(min_value=130.0, max_value=130.4), min_size=2, max_size=2),
    st.lists(json_values, max_size=3),
    json_values,
)


@st.composite
def geojson_like(draw: st.DrawFn) -> Any:
    """Documents shaped like AOI files, with any member replaced by junk."""
    ring = draw(st.one_of(st.just(RING), st.lists(positions, max_size=6), json_values))
    if draw(st.booleans()) and isinstance(ring, list) and ring:
        ring = [*ring, ring[0]]  # closed, so the checks further on are reached
    geometry = {
        "type": draw(st.sampled_from(["Polygon", "Point", "MultiPolygon", ""])),
        "coordinates": draw(st.one_of(st.just([ring]), st.lists(json_values, max_size=2))),
    }
    ids = st.one_of(st.sampled_from(["rajin-port", "x", "../../etc/x", "a\n", "A"]), json_values)
    props = draw(
        st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": ids,
                    "kind": st.one_of(st.sampled_from(["port", "rail", "airport"]), json_values),
                    "name": json_values,
                    "sources": json_values,
                    "zone": json_values,
                },
            ),
            json_values,
        )
    )
    feature = {"type": "Feature", "properties": props, "geometry": geometry}
    zones = draw(st.lists(st.one_of(st.just(feature), json_values), max_size=2))
    return draw(
        st.sampled_from(
            [
                feature,
                geometry,
                {"type": "FeatureCollection", "features": [feature, *zones]},
                {"type": "FeatureCollection", "features": zones},
                {**feature, "crs": {"properties": {"name": "EPSG:3857"}}},
            ]
        )
    )


def _check_aoi(aoi: Aoi | None) -> None:
    if aoi is None:
        return
    assert is_aoi_id(aoi.id)
    assert is_safe_name(aoi.id)
    assert aoi.kind in ("port", "rail")
    assert aoi.geometry.is_valid
    assert MIN_AREA_KM2 <= area_km2(aoi.geometry) <= MAX_AREA_KM2


@FEW
@given(geojson_like())
# regressions: each of these raised TypeError, KeyError, OverflowError or AttributeError,
# or was accepted with an id that is not one line
@example({"type": "Polygon", "coordinates": [RING, 5]})
@example({"type": "Polygon", "coordinates": [RING, {"a": 1, "b": 2, "c": 3, "d": 4}]})
@example({"type": "Polygon", "coordinates": [[[HUGE_INT, 42.2], *RING[1:-1], [HUGE_INT, 42.2]]]})
@example({"type": "Polygon", "coordinates": [[5, 5, 5, 5]]})
@example({"type": "FeatureCollection", "features": [_feature(), 5]})
@example(
    {"type": "FeatureCollection", "features": [_feature(), {"type": "Feature", "properties": [1]}]}
)
@example(_feature(id="rajin-port\n"))
def test_aoi_parser_builds_a_valid_aoi_or_refuses(doc: Any) -> None:
    _check_aoi(valid_or_refused(lambda: parse_aoi(doc, default_id="from-stem")))


@FEW
@given(json_values, st.sampled_from(["from-stem", "Bad Stem", "../x", "ok\n"]))
def test_aoi_parser_survives_any_json(doc: Any, stem: str) -> None:
    _check_aoi(valid_or_refused(lambda: parse_aoi(doc, default_id=stem)))


# --- the scenario parser ------------------------------------------------------------------------
SCENARIO_KEYS = ["seed", "start", "end", "revisit_days", "cloud_probability", "aoi", "a\nb"]
STEP_KEYS = ["from", "ships", "railcars", "tons"]


@st.composite
def scenario_like(draw: st.DrawFn) -> dict[str, Any]:
    """Mappings like a parsed scenario file, with plausible and hostile values."""
    dates = st.one_of(st.dates(), st.datetimes(), st.text(max_size=12), json_values)
    numbers = st.one_of(st.integers(-5, 400), st.floats(), st.just(HUGE_INT), toml_values)
    step = st.dictionaries(st.sampled_from(STEP_KEYS), st.one_of(dates, numbers), max_size=3)
    site = st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.sampled_from(["rajin-port", "tumangang-rail", "wonsan"]), scalars),
            "activity": st.one_of(st.lists(st.one_of(step, json_values), max_size=3), scalars),
        },
    )
    values = {
        "seed": numbers,
        "start": dates,
        "end": dates,
        "revisit_days": numbers,
        "cloud_probability": numbers,
        "aoi": st.one_of(st.lists(st.one_of(site, json_values), max_size=3), scalars),
        "a\nb": scalars,  # an unknown key; TOML allows any quoted key
    }
    keys = draw(st.lists(st.sampled_from(SCENARIO_KEYS[:-1]), unique=True, max_size=6))
    if draw(st.integers(0, 9)) == 0:
        keys.append("a\nb")
    return {key: draw(values[key]) for key in keys}


@FEW
@given(scenario_like())
@example({"start": date(9999, 12, 1)})  # regression: OverflowError (a year after 9999)
@example({"cloud_probability": HUGE_INT})  # regression: OverflowError (int to float)
@example({"a\nb": 1})  # regression: a two-line message
def test_scenario_parser_validates_or_refuses(doc: dict[str, Any]) -> None:
    scenario = valid_or_refused(lambda: parse_scenario(doc, where="prop.toml"))
    if scenario is None:
        return
    assert scenario.start <= scenario.end
    assert 0.0 <= scenario.cloud_probability <= 1.0
    assert scenario.revisit_days >= 1
    assert parse_scenario(scenario.to_toml()) == scenario  # what it writes, it reads back


@MANY
@given(st.text(max_size=80))
@example("seed = " + "1" * 5000)  # regression: tomllib's ValueError escaped
def test_scenario_parser_survives_any_text(text: str) -> None:
    valid_or_refused(lambda: parse_scenario(text))


VALID_CLAIM = {"quote": "q", "source": "s", "aoi": "rajin-port", "metric": "ships"}


# --- the claims parser --------------------------------------------------------------------------
CLAIM_KEYS = ["quote", "source", "aoi", "metric", "test", "direction", "baseline", "window"]
CLAIM_KEYS += ["min_clear_fraction", "min_n", "margin", "alpha", "presence_min", "col\nour"]


@st.composite
def claims_like(draw: st.DrawFn) -> dict[str, Any]:
    """Mappings like a parsed claims file: plausible members, hostile values."""
    texts = st.one_of(st.sampled_from(["q", "rajin-port", " "]), toml_values)
    choices = st.one_of(
        st.sampled_from(["ships", "railcar_equivalents", "presence", "rate-ratio", "increase"]),
        toml_values,
    )
    windows_ = st.one_of(st.lists(st.one_of(st.dates(), st.text(max_size=10)), max_size=3), scalars)
    numbers = st.one_of(st.floats(), st.integers(-3, 50), st.just(HUGE_INT), scalars)
    values = {
        "quote": texts,
        "source": texts,
        "aoi": texts,
        "metric": choices,
        "test": choices,
        "direction": choices,
        "baseline": windows_,
        "window": windows_,
        "col\nour": scalars,
    }
    body = {
        key: draw(values.get(key, numbers))
        for key in draw(st.lists(st.sampled_from(CLAIM_KEYS), unique=True, max_size=9))
    }
    ids = st.one_of(st.sampled_from(["port-spike", "Port Spike", "a\n", ""]), st.text(max_size=6))
    claims = draw(st.dictionaries(ids, st.one_of(st.just(body), toml_values), max_size=3))
    extra = draw(st.sampled_from([{}, {"title": "x"}]))
    return {"claims": claims, **extra} if draw(st.integers(0, 9)) else dict(extra)


@FEW
@given(claims_like())
@example({"claims": {"x": {**VALID_CLAIM, "margin": HUGE_INT}}})  # regression: OverflowError
@example({"claims": {"a\n": {}}})  # regression: a two-line message
def test_claims_parser_validates_or_refuses(doc: dict[str, Any]) -> None:
    claims = valid_or_refused(lambda: parse_claims(doc, where="prop.toml"))
    for claim in claims or ():
        assert CLAIM_ID.fullmatch(claim.id)
        assert claim.baseline[0] <= claim.baseline[1] < claim.window[0] <= claim.window[1]
        assert claim.metric in ("ships", "railcar_equivalents")


@MANY
@given(st.text(max_size=80))
@example("[claims.x]\nmin_n = " + "1" * 5000)  # regression: tomllib's ValueError escaped
def test_claims_parser_survives_any_text(text: str) -> None:
    valid_or_refused(lambda: parse_claims(text))


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

"""Property-based tests (hypothesis) of the AOI parser: a valid AOI or a one-line refusal."""

from __future__ import annotations

from typing import Any

from hostile_values import FEW, HUGE_INT, json_values, valid_or_refused
from hypothesis import example, given
from hypothesis import strategies as st

from pipeline.geo.aoi import MAX_AREA_KM2, MIN_AREA_KM2, is_aoi_id, parse_aoi
from pipeline.geo.projection import area_km2
from pipeline.geo.safe_paths import is_safe_name
from pipeline.types import Aoi

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

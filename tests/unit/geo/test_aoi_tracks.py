"""Track centre lines in AOI files: read when well formed, refused clearly when not."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.errors import InvalidAoiError
from pipeline.geo.aoi import parse_aoi

RING = [[130.30, 42.23], [130.32, 42.23], [130.32, 42.25], [130.30, 42.25], [130.30, 42.23]]
INSIDE = [[130.305, 42.240], [130.315, 42.241]]


def _doc(*extra: dict[str, Any], kind: str = "rail") -> dict[str, Any]:
    head = {
        "type": "Feature",
        "properties": {"role": "aoi", "id": "yard", "kind": kind},
        "geometry": {"type": "Polygon", "coordinates": [RING]},
    }
    return {"type": "FeatureCollection", "features": [head, *extra]}


def _track(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"kind": "track", **props}, "geometry": geometry}


def test_line_and_multiline_tracks_are_read_with_their_source() -> None:
    multi = {
        "type": "MultiLineString",
        "coordinates": [INSIDE, [[130.31, 42.235], [130.31, 42.245]]],
    }
    aoi = parse_aoi(
        _doc(
            _track({"type": "LineString", "coordinates": INSIDE}, source="OSM way 1", name="t1"),
            _track(multi, source="survey 2024"),
        ),
        default_id="yard",
    )
    assert [t.source for t in aoi.tracks] == ["OSM way 1", "survey 2024"]
    assert aoi.tracks[0].name == "t1"
    assert aoi.tracks[0].geometry.geom_type == "LineString"
    assert aoi.tracks[1].geometry.geom_type == "MultiLineString"
    assert aoi.zones == ()


def test_an_aoi_without_tracks_has_none() -> None:
    assert parse_aoi(_doc(), default_id="yard").tracks == ()


@pytest.mark.parametrize(
    ("feature", "needle"),
    [
        (_track({"type": "LineString", "coordinates": INSIDE}), '"source"'),
        (_track({"type": "LineString", "coordinates": INSIDE}, source="  "), '"source"'),
        (_track({"type": "LineString", "coordinates": INSIDE}, source=7), '"source"'),
        (
            _track(
                {"type": "LineString", "coordinates": [[130.31, 42.24], [130.40, 42.24]]},
                source="x",
            ),
            "not inside the AOI",
        ),
        (
            _track({"type": "Polygon", "coordinates": [RING]}, source="x"),
            "must be a GeoJSON LineString or MultiLineString, got 'Polygon'",
        ),
        (_track({"type": "Point", "coordinates": INSIDE[0]}, source="x"), "got 'Point'"),
        (_track({"type": "LineString", "coordinates": INSIDE[:1]}, source="x"), "at least 2"),
        (
            _track({"type": "LineString", "coordinates": [INSIDE[0], INSIDE[0]]}, source="x"),
            "zero length",
        ),
        (
            _track(
                {"type": "LineString", "coordinates": [[130.31, 42.24], [230.0, 42.24]]}, source="x"
            ),
            "outside WGS84",
        ),
        (_track({"type": "MultiLineString", "coordinates": []}, source="x"), "no coordinates"),
        (
            {
                "type": "Feature",
                "properties": {"role": "zone", "zone": "yard", "source": "x"},
                "geometry": {"type": "LineString", "coordinates": INSIDE},
            },
            '"kind": "track"',
        ),
    ],
)
def test_bad_track_lines_are_refused_with_the_reason(feature: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidAoiError, match="track") as caught:
        parse_aoi(_doc(feature), default_id="yard")
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_track_lines_belong_to_rail_aois() -> None:
    feature = _track({"type": "LineString", "coordinates": INSIDE}, source="x")
    with pytest.raises(InvalidAoiError, match="rail AOIs"):
        parse_aoi(_doc(feature, kind="port"), default_id="yard")

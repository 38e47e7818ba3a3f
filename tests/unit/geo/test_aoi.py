"""AOI files: the shipped ones load, and every kind of broken one is refused clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.errors import InvalidAoiError
from pipeline.geo.aoi import load_aoi, load_aois, resolve_aoi
from pipeline.geo.projection import area_km2, reproject

SQUARE = [[130.30, 42.23], [130.32, 42.23], [130.32, 42.25], [130.30, 42.25], [130.30, 42.23]]


def _write(tmp_path: Path, doc: Any, name: str = "test-aoi.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def _polygon_doc(ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_shipped_aois_cover_the_sites() -> None:
    aois = {a.id: a for a in load_aois(DEFAULT_AOI_DIR)}
    assert set(aois) == {"rajin-port", "tumangang-rail"}
    port, rail = aois["rajin-port"], aois["tumangang-rail"]
    assert port.kind == "port"
    assert rail.kind == "rail"
    # WPI Najin point and the three railhead sites (rason_sites.csv) lie inside.
    from shapely.geometry import Point

    assert port.geometry.contains(Point(130.3000, 42.2333))
    for lon, lat in [(130.6081, 42.4214), (130.641056, 42.415167), (130.644917, 42.430056)]:
        assert rail.geometry.contains(Point(lon, lat))
    assert {z.name for z in rail.zones} == {"tumangang-yard", "friendship-bridge", "khasan-yard"}
    assert 20 < area_km2(port.geometry) < 60
    assert all(s for s in port.sources)


def test_reproject_to_utm_gives_metres() -> None:
    port = resolve_aoi("rajin-port", DEFAULT_AOI_DIR)
    utm = reproject(port.geometry, dst_epsg=32652)
    west, south, east, north = utm.bounds
    assert east - west == pytest.approx(6000, abs=2)
    assert north - south == pytest.approx(6000, abs=2)


def test_resolve_by_path_and_default_id(tmp_path: Path) -> None:
    path = _write(tmp_path, _polygon_doc(SQUARE, kind="port"))
    aoi = resolve_aoi(str(path), DEFAULT_AOI_DIR)
    assert aoi.id == "test-aoi"


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ("{not json", "not valid JSON"),
        ({"type": "Point", "coordinates": [130.3, 42.2]}, "expected FeatureCollection"),
        (_polygon_doc(SQUARE[:-1]), "not closed"),
        (_polygon_doc(SQUARE[:3]), "at least 4"),
        (
            _polygon_doc(
                [
                    [130.30, 42.23],
                    [130.32, 42.25],
                    [130.32, 42.23],
                    [130.30, 42.25],
                    [130.30, 42.23],
                ]
            ),
            "not valid",
        ),
        (
            _polygon_doc(
                [[607000, 4676000], [608000, 4676000], [608000, 4677000], [607000, 4676000]]
            ),
            "WGS84",
        ),
        (
            _polygon_doc([[130.3, 42.2], [130.30001, 42.2], [130.30001, 42.20001], [130.3, 42.2]]),
            "sane range",
        ),
        (_polygon_doc([[120.0, 30.0], [135.0, 30.0], [135.0, 45.0], [120.0, 30.0]]), "sane range"),
        (_polygon_doc(SQUARE, id="../../etc"), "must match"),
        (_polygon_doc(SQUARE, kind="airport"), "kind"),
    ],
)
def test_invalid_aois_are_refused(tmp_path: Path, doc: Any, needle: str) -> None:
    with pytest.raises(InvalidAoiError, match=needle):
        load_aoi(_write(tmp_path, doc))


def test_unknown_id_lists_the_known_ones() -> None:
    with pytest.raises(InvalidAoiError, match="rajin-port"):
        resolve_aoi("wonsan-port", DEFAULT_AOI_DIR)


def test_duplicate_ids_in_a_folder_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, _polygon_doc(SQUARE, id="same"), "a.geojson")
    _write(tmp_path, _polygon_doc(SQUARE, id="same"), "b.geojson")
    with pytest.raises(InvalidAoiError, match="not unique"):
        load_aois(tmp_path)

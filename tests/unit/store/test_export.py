"""``rasonwatch export``: GeoParquet detections (WKB + ``geo`` metadata) and observations CSV."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import Point, Polygon

from pipeline.cli.app import main
from pipeline.store.export import OBSERVATION_COLUMNS, export_store
from pipeline.store.results import Store
from pipeline.types import DetectionRow, Observation

WHEN = datetime(2023, 10, 5, 2, 16, 20, 824000, tzinfo=UTC)
HULL = Polygon([(130.40, 42.24), (130.4013, 42.24), (130.4013, 42.2402), (130.40, 42.2402)])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "rw.sqlite"
    with Store(path) as store:
        ship = Observation("rajin-port", "S2A_1", WHEN, "v1", "local", clear_fraction=0.95, ships=2)
        store.write(
            ship,
            [
                DetectionRow("ship", 10, 20, 130.40065, 42.2401, 112, 18, 80, 0.9, HULL.wkt),
                DetectionRow("ship", 30, 40, 130.41, 42.25, 95, 15, 10, 0.7, None),
            ],
        )
        rail = Observation(
            "tumangang-rail",
            "S2A_1",
            WHEN,
            "v1",
            "local",
            clear_fraction=0.8,
            railcar_equivalents=12.5,
            occupied_track_m=175.0,
            railcar_low=10.0,
            railcar_high=15.0,
            simulated=True,
        )
        store.write(rail)
        store.write(
            Observation("rajin-port", "S2B_2", WHEN, "v1", "local", status="failed", error="x, y")
        )
    return path


def test_detections_are_geoparquet(db: Path, tmp_path: Path) -> None:
    summary = export_store(db, tmp_path / "out")
    assert summary.n_detections == 2
    table = pq.read_table(summary.detections)
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["version"] == "1.0.0"
    assert geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["Point", "Polygon"]
    assert "crs" not in column  # absent means OGC:CRS84 (lon/lat), as the spec says
    shapes = [shapely.from_wkb(b) for b in table.column("geometry").to_pylist()]
    assert shapes[0].equals(HULL)  # the outline when stored...
    assert shapes[1].equals(Point(130.41, 42.25))  # ...else the centroid
    west, south, east, north = column["bbox"]
    assert (west, south) == pytest.approx((130.40, 42.24))
    assert (east, north) == pytest.approx((130.41, 42.25))
    row = table.slice(0, 1).to_pylist()[0]
    assert row["datetime"] == WHEN
    assert (row["aoi"], row["scene_id"], row["kind"], row["length_m"]) == (
        "rajin-port",
        "S2A_1",
        "ship",
        112,
    )


def test_observations_csv_has_the_contract_columns_first(db: Path, tmp_path: Path) -> None:
    summary = export_store(db, tmp_path / "out")
    with summary.observations.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == OBSERVATION_COLUMNS
    assert summary.n_observations == len(rows) == 3
    by_key = {(r["aoi"], r["scene_id"]): r for r in rows}
    assert by_key[("rajin-port", "S2A_1")]["datetime"] == "2023-10-05T02:16:20.824000Z"
    assert by_key[("rajin-port", "S2B_2")]["error"] == "x, y"
    assert by_key[("tumangang-rail", "S2A_1")]["railcar_equivalents"] == "12.5"
    assert by_key[("tumangang-rail", "S2A_1")]["simulated"] == "1"
    assert by_key[("rajin-port", "S2A_1")]["railcar_equivalents"] == ""


def test_export_command(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exported"
    assert main(["export", "--db", str(db), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_detections"] == 2
    assert Path(result["detections"]).is_file()
    assert Path(result["observations"]).is_file()


def test_export_of_a_missing_store_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", "--db", str(tmp_path / "none.sqlite"), "--out", str(out)]) == 2
    assert "no results store" in capsys.readouterr().err
    assert not out.exists()
    assert not (tmp_path / "none.sqlite").exists()

"""The results store: contract columns, idempotent upserts, migrations, newer-schema refusal."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.errors import StoreError, StoreVersionError
from pipeline.store import results as store_module
from pipeline.store.results import SCHEMA_VERSION, Store
from pipeline.store.schema import MIGRATIONS
from pipeline.types import DetectionRow, Observation

#: README.md: the ``observations`` table's contract columns, in order, then ``reference_id``
#: (schema 2: the reference each row was measured against).
CONTRACT = [
    "aoi",
    "scene_id",
    "datetime",
    "clear_fraction",
    "ships",
    "railcar_equivalents",
    "occupied_track_m",
    "detector_version",
    "source",
    "status",
    "error",
    "reference_id",  # schema 2: added after the contract's columns
    "product_level",  # schema 6 (issue 17)
]
WHEN = datetime(2023, 10, 5, 2, 16, 20, tzinfo=UTC)


def _obs(scene: str = "S2A_1", **changes: object) -> Observation:
    base = Observation(
        aoi="rajin-port",
        scene_id=scene,
        datetime=WHEN,
        detector_version="v1",
        source="local",
        clear_fraction=0.9,
        ships=3,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _ship(n: int) -> DetectionRow:
    return DetectionRow("ship", 10.0 + n, 20.0, 130.5, 42.2, 110.0, 18.0, 45.0, 0.9, None)


def test_observations_table_is_the_contract(tmp_path: Path) -> None:
    with Store(tmp_path / "rw.sqlite") as store:
        assert store.schema_version == SCHEMA_VERSION
    con = sqlite3.connect(tmp_path / "rw.sqlite")
    columns = [r[1] for r in con.execute("PRAGMA table_info(observations)")]
    pk = [r[1] for r in sorted(con.execute("PRAGMA table_info(observations)"), key=lambda r: r[5])]
    assert columns == CONTRACT
    assert [c for c in pk if c in ("aoi", "scene_id", "detector_version")] == [
        "aoi",
        "scene_id",
        "detector_version",
    ]
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_same_key_twice_is_one_row_with_the_latest_values(tmp_path: Path) -> None:
    with Store(tmp_path / "rw.sqlite") as store:
        assert store.write(_obs(ships=3), [_ship(0), _ship(1), _ship(2)])
        assert store.write(_obs(ships=1), [_ship(0)])
        assert store.write(_obs(detector_version="v2", ships=5))
        rows = store.observations()
        assert [(o.detector_version, o.ships) for o in rows] == [("v1", 1), ("v2", 5)]
        assert len(store.detection_rows(detector_version="v1")) == 1
        assert rows[0].datetime == WHEN


def test_failed_never_replaces_ok_but_ok_replaces_failed(tmp_path: Path) -> None:
    failed = _obs(status="failed", error="cannot read B04.tif", ships=None, clear_fraction=None)
    with Store(tmp_path / "rw.sqlite") as store:
        assert store.write(failed)
        assert store.done_scene_ids("rajin-port", "v1") == set()  # failed: to be retried
        assert store.write(_obs())
        assert not store.write(failed)
        (row,) = store.observations()
        assert (row.status, row.ships, row.error) == ("ok", 3, None)
        assert store.done_scene_ids("rajin-port", "v1") == {"S2A_1"}


def test_last_datetime_is_the_newest_ok_scene(tmp_path: Path) -> None:
    with Store(tmp_path / "rw.sqlite") as store:
        assert store.last_datetime("rajin-port", "v1") is None
        store.write(_obs("a"))
        store.write(_obs("b", datetime=WHEN + timedelta(days=5)))
        store.write(
            _obs("c", datetime=WHEN + timedelta(days=9), status="failed", error="x", ships=None)
        )
        store.write(_obs("d", datetime=WHEN + timedelta(days=20), detector_version="v0"))
        assert store.last_datetime("rajin-port", "v1") == WHEN + timedelta(days=5)


def test_detector_versions_most_recently_processed_last(tmp_path: Path) -> None:
    with Store(tmp_path / "rw.sqlite") as store:
        assert store.detector_versions() == []
        store.write(_obs("a", detector_version="v2"))
        store.write(_obs("a", detector_version="v1"))
        assert store.detector_versions()[-1] in ("v1", "v2")  # same second: either order
        assert sorted(store.detector_versions()) == ["v1", "v2"]


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreVersionError, match="newer"):
        Store(path)


def test_not_a_database_and_missing_folder_are_store_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"junk\.sqlite"):
        Store(junk)
    with pytest.raises(StoreError, match="folder does not exist"):
        Store(tmp_path / "nowhere" / "rw.sqlite")


def test_older_files_are_migrated_step_by_step_keeping_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rw.sqlite"
    with Store(path) as store:
        store.write(_obs(), [_ship(0)])
    step = "ALTER TABLE runs ADD COLUMN note TEXT; CREATE INDEX runs_by_start ON runs (started_at)"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, step))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION + 1
        assert [o.scene_id for o in store.observations()] == ["S2A_1"]
        assert len(store.detection_rows()) == 1
    con = sqlite3.connect(path)
    assert "note" in [r[1] for r in con.execute("PRAGMA table_info(runs)")]


def test_an_empty_file_is_created_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()  # version 0, no tables
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.observations() == []


def test_writers_in_parallel_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rw.sqlite"
    Store(path).close()
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            with Store(path) as store:
                for i in range(offset, offset + 60):
                    store.write(_obs(f"S{i:03d}", ships=i), [_ship(0)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 30,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(path) as store:
        assert {o.scene_id for o in store.observations()} == {f"S{i:03d}" for i in range(120)}
        assert len(store.detection_rows()) == 120


def test_runs_record_their_provenance(tmp_path: Path) -> None:
    with Store(tmp_path / "rw.sqlite") as store:
        run_id = store.start_run("backfill", {"aois": ["rajin-port"]}, "v1")
        store.finish_run(run_id, n_ok=3, n_failed=1, n_skipped=2)
    con = sqlite3.connect(tmp_path / "rw.sqlite")
    row = con.execute(
        "SELECT command, parameters_json, detector_version, n_ok, n_failed, n_skipped, "
        "finished_at IS NOT NULL FROM runs"
    ).fetchone()
    assert row == ("backfill", '{"aois": ["rajin-port"]}', "v1", 3, 1, 2, 1)


def test_the_shift_and_low_confidence_round_trip(tmp_path: Path) -> None:
    """Schema 3: a row keeps its co-registration shift and why it is low confidence."""
    with Store(tmp_path / "rw.sqlite") as store:
        store.write(_obs("S2A_1", shift_x_px=0.42, shift_y_px=-1.3))
        store.write(_obs("S2A_2", low_confidence="co-registration: halves disagree by 0.9 px"))
        first, second = store.observations()
    assert (first.shift_x_px, first.shift_y_px, first.low_confidence) == (0.42, -1.3, None)
    assert second.shift_x_px is None
    assert second.low_confidence == "co-registration: halves disagree by 0.9 px"


def _old_file(path: Path, version: int) -> Path:
    """A store file written at schema ``version``, holding one Rajin observation."""
    con = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        con.executescript(script)
    con.execute(f"PRAGMA user_version = {version}")
    con.execute(
        "INSERT INTO observations VALUES ('rajin-port', 'S2A_0', ?, 0.9, 2, NULL, NULL, 'v1', "
        "'local', 'ok', NULL, 'ref1')",
        (WHEN.isoformat(),),
    )
    con.commit()
    con.close()
    return path


def test_a_schema_2_file_gains_the_shift_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = _old_file(tmp_path / "rw.sqlite", 2)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 3
        (row,) = store.observations()
    assert (row.ships, row.reference_id, row.shift_x_px, row.low_confidence) == (
        2,
        "ref1",
        None,
        None,
    )


def test_zone_rows_round_trip_with_their_aoi_row(tmp_path: Path) -> None:
    """Schema 4: railcars per yard zone, written and replaced with the AOI's row."""
    total = _obs(aoi="tumangang-rail", ships=None, railcar_equivalents=52.0, clear_fraction=0.95)
    zones = [
        replace(total, zone="tumangang-yard", railcar_equivalents=12.0, clear_fraction=0.9),
        replace(total, zone="khasan-yard", railcar_equivalents=40.0, clear_fraction=1.0),
    ]
    with Store(tmp_path / "rw.sqlite") as store:
        store.write(replace(total, low_confidence="co-registration: x"), zones=zones)
        got = {z.zone: z for z in store.zone_observations()}
        assert (got["tumangang-yard"].railcar_equivalents, got["khasan-yard"].clear_fraction) == (
            12.0,
            1.0,
        )
        assert got["khasan-yard"].low_confidence == "co-registration: x"  # the AOI row's flags
        assert got["khasan-yard"].datetime == WHEN
        assert [o.zone for o in store.observations()] == [None]  # the total stays apart
        store.write(total, zones=zones[:1])  # processed again: the rows are replaced
        assert [z.zone for z in store.zone_observations()] == ["tumangang-yard"]


def test_each_detection_keeps_the_way_it_was_found(tmp_path: Path) -> None:
    """Issue 14: a ship counted at a usually occupied berth says so (schema 5)."""
    with Store(tmp_path / "rw.sqlite") as store:
        at_berth = replace(_ship(1), method="berth")
        store.write(_obs("S2A_1"), [_ship(0), at_berth])
        methods = [r["method"] for r in store.detection_rows(detector_version="v1")]
    assert methods == [None, "berth"]


def test_each_observation_keeps_its_product_level(tmp_path: Path) -> None:
    """Issue 17: Level-2A or Level-1C, a column of observations (schema 6)."""
    with Store(tmp_path / "rw.sqlite") as store:
        store.write(replace(_obs("S2A_1"), product_level="L1C"))
        store.write(_obs("S2A_2"))
        levels = [o.product_level for o in store.observations()]
        assert store.schema_version == SCHEMA_VERSION >= 6
    assert levels == ["L1C", None]
    con = sqlite3.connect(tmp_path / "rw.sqlite")
    (column,) = con.execute("SELECT product_level FROM observations WHERE scene_id = 'S2A_1'")
    con.close()
    assert column == ("L1C",)


def test_a_schema_5_file_records_its_rows_as_level_2a(tmp_path: Path) -> None:
    path = _old_file(tmp_path / "rw.sqlite", 5)
    with Store(path) as store:
        assert store.schema_version == 6
        (row,) = store.observations()
    assert (row.ships, row.reference_id, row.product_level) == (2, "ref1", "L2A")

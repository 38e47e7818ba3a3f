"""The backfill flow, inline: every scene once, resume/re-run, failures, artifacts, bad input."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Baseline
from flow_helpers import AOIS, END, START, observations, processed_at, rows

from pipeline.cli.app import main
from pipeline.config import Settings
from pipeline.flows import backfill_flow
from pipeline.read.chip_cache import ChipCache
from pipeline.sources import open_source
from pipeline.store.references import saved_references
from pipeline.store.results import SCHEMA_VERSION, Store
from pipeline.types import Scene

pytestmark = pytest.mark.slow


def _scenes(archive: Path, aoi: str) -> list[Scene]:
    from pipeline.geo.aoi import resolve_aoi

    settings = Settings()
    return open_source(str(archive), settings).search(
        resolve_aoi(aoi, settings.aoi_dir), START, END
    )


def test_backfill_stores_every_scene_once(baseline: Baseline, small_archive: Path) -> None:
    expected = {(aoi, s.id) for aoi in AOIS for s in _scenes(small_archive, aoi)}
    stored = rows(baseline.db, "SELECT aoi, scene_id, status, error FROM observations")
    assert {(a, s) for a, s, _, _ in stored} == expected
    assert len(stored) == len(expected)
    assert [r for r in stored if r[2] != "ok"] == []
    assert baseline.summary["ok"] == len(expected)
    assert baseline.summary["failed"] == 0
    assert baseline.summary["simulated"] is True
    (run,) = rows(
        baseline.db, "SELECT command, finished_at, n_ok, n_failed, parameters_json FROM runs"
    )
    assert run[0] == "backfill"
    assert run[1] is not None
    assert run[2:4] == (len(expected), 0)
    parameters = json.loads(run[4])
    assert parameters["aois"] == {aoi: [START.isoformat(), END.isoformat()] for aoi in AOIS}
    assert len(parameters["prefect_flow_run_id"]) == 36  # a UUID: the run is traceable in Prefect


def test_the_rail_yards_each_get_their_own_rows(baseline: Baseline) -> None:
    """Every rail scene stored ok has one row per yard zone, with the AOI row's reference."""
    with Store(baseline.db) as store:
        total = {o.scene_id: o for o in store.observations() if o.aoi == "tumangang-rail"}
        zones = store.zone_observations()
    by_scene: dict[str, set[str | None]] = {}
    for z in zones:
        assert z.aoi == "tumangang-rail"
        assert z.reference_id == total[z.scene_id].reference_id
        assert z.railcar_equivalents is not None
        assert z.railcar_equivalents >= 0
        by_scene.setdefault(z.scene_id, set()).add(z.zone)
    assert set(by_scene) == set(total)
    assert all(found == {"tumangang-yard", "khasan-yard"} for found in by_scene.values())


def test_backfill_saves_references_and_caches_chips(
    baseline: Baseline, small_archive: Path
) -> None:
    for aoi in AOIS:
        (stored,) = saved_references(baseline.data_dir / "references", aoi)
        assert stored.provenance.available == len(_scenes(small_archive, aoi))
        assert len(stored.reference.scene_ids) >= 5
    stats = ChipCache(baseline.data_dir / "chips").stats()
    assert stats.files == baseline.summary["ok"]
    assert set(stats.per_aoi) == set(AOIS)


def test_backfill_publishes_table_and_markdown_artifacts(baseline: Baseline) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["rasonwatch-backfill", "rasonwatch-backfill-summary"])
            )
        )
    # Other tests' backfills publish under the same keys: take the baseline's flow run.
    (summary,) = [
        a
        for a in found
        if a.key == "rasonwatch-backfill-summary" and baseline.summary["run_id"] in str(a.data)
    ]
    (table,) = [
        a for a in found if a.key == "rasonwatch-backfill" and a.flow_run_id == summary.flow_run_id
    ]
    assert table.type == "table"
    assert summary.type == "markdown"
    assert "SIMULATED" in str(summary.data)
    assert "tumangang-rail" in str(table.data)


def _copy_store(baseline: Baseline, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy2(baseline.db, data / baseline.db.name)
    shutil.copytree(baseline.data_dir / "references", data / "references")
    return data


def test_rerun_of_a_finished_range_writes_nothing_new(
    baseline: Baseline, small_archive: Path, tmp_path: Path
) -> None:
    data = _copy_store(baseline, tmp_path)
    db = data / baseline.db.name
    before, written = observations(db), processed_at(db)
    references = {p.name: p.stat().st_mtime_ns for p in (data / "references").iterdir()}
    summary = backfill_flow(start=START, end=END, source=str(small_archive), data_dir=str(data))
    assert summary["ok"] == summary["failed"] == 0
    assert summary["skipped"] == len(before)
    assert observations(db) == before
    assert processed_at(db) == written  # not even rewritten with the same values
    assert {p.name: p.stat().st_mtime_ns for p in (data / "references").iterdir()} == references
    assert not (data / "chips").exists()  # nothing read at all


def _archive_with_links(archive: Path, out: Path) -> Path:
    """A copy of ``archive`` whose JSON is copied and whose COGs are symlinks."""

    def link_or_copy(src: str, dst: str) -> None:
        if src.endswith(".tif"):
            os.symlink(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(archive, out, copy_function=link_or_copy)
    return out


def test_missing_cog_is_stored_failed_and_retried_later(
    prefect_api: str, small_archive: Path, tmp_path: Path
) -> None:
    archive = _archive_with_links(small_archive, tmp_path / "archive")
    scenes = _scenes(archive, "rajin-port")
    broken = scenes[len(scenes) // 2]
    red = archive / "sentinel-2-c1-l2a" / broken.id / "B04.tif"
    target = red.readlink()
    red.unlink()
    data = tmp_path / "data"

    def backfill() -> dict[str, Any]:
        return backfill_flow(
            start=START,
            end=END,
            source=str(archive),
            data_dir=str(data),
            aois=["rajin-port"],
            use_cache=False,
            batch_size=4,
        )

    summary = backfill()
    db = data / "rasonwatch.sqlite"
    stored = {r[0]: r[1:] for r in rows(db, "SELECT scene_id, status, error FROM observations")}
    assert stored[broken.id][0] == "failed"
    assert "B04.tif" in stored[broken.id][1]
    assert "\n" not in stored[broken.id][1]
    assert all(status == "ok" for sid, (status, _) in stored.items() if sid != broken.id)
    assert len(stored) == len(scenes)
    assert (summary["ok"], summary["failed"]) == (len(scenes) - 1, 1)
    assert summary["failures"][0]["scene_id"] == broken.id
    assert not (data / "chips").exists()  # --no-cache

    red.symlink_to(target)
    again = backfill()
    assert (again["ok"], again["failed"], again["skipped"]) == (1, 0, len(scenes) - 1)
    status = rows(db, "SELECT status, error FROM observations WHERE scene_id = ?", [broken.id])
    assert status == [("ok", None)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2022-06-30", "--end", "2022-05-01"], "reversed"),
        (["--start", "2022-05-01", "--end", "2022-06-30", "--aoi", "atlantis"], "unknown AOI"),
        (["--start", "2022-05-01", "--end", "2022-06-30", "--concurrency", "0"], "concurrency"),
    ],
)
def test_backfill_bad_input_exits_2_and_writes_nothing(
    small_archive: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    data = tmp_path / "data"
    code = main(["backfill", *args, "--source", str(small_archive), "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not data.exists()


def test_backfill_refuses_a_newer_store_before_running(
    small_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "future.sqlite"
    Store(db).close()
    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    source = ["--source", str(small_archive), "--data-dir", str(tmp_path / "data"), "--json"]
    code = main(
        ["backfill", "--start", "2022-05-01", "--end", "2022-05-10", "--db", str(db), *source]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "newer" in captured.err
    assert captured.out == ""
    assert not (tmp_path / "data").exists()


def test_run_json_with_nothing_new(
    baseline: Baseline, small_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _copy_store(baseline, tmp_path)
    before = observations(data / baseline.db.name)
    where = ["--source", str(small_archive), "--data-dir", str(data), "--json"]
    code = main(["run", "--until", END.isoformat(), *where])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)  # stdout holds the JSON alone
    assert summary["command"] == "run"
    assert summary["ok"] == summary["failed"] == 0
    assert summary["skipped"] > 0
    assert observations(data / baseline.db.name) == before

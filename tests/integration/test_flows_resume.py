"""Backfills as separate processes: killed and resumed, and two at once on one store."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import Baseline
from flow_helpers import (
    END,
    START,
    count,
    detections,
    duplicates,
    observations,
    rows,
    run_cli,
    start_cli,
)

pytestmark = pytest.mark.slow

#: A subprocess backfill of the small archive takes well under this on 2 busy cores.
TIMEOUT_S = 300


def _args(archive: Path, data: Path, start: str, end: str, *extra: str) -> list[str]:
    return [
        "backfill",
        "--start",
        start,
        "--end",
        end,
        "--source",
        str(archive),
        "--data-dir",
        str(data),
        *extra,
    ]


def _wait_for_rows(db: Path, n: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while count(db) < n:
        assert proc.poll() is None, f"backfill ended early:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "backfill wrote nothing in time"
        time.sleep(0.02)


def test_kill_9_midway_then_resume_matches_an_uninterrupted_run(
    baseline: Baseline, small_archive: Path, prefect_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    db = data / "rasonwatch.sqlite"
    total = len(observations(baseline.db))
    # One scene per task, one task at a time: rows arrive one by one, so the kill lands
    # between (or in the middle of) the writes of the first AOI.
    one_by_one = ("--batch-size", "1", "--concurrency", "1")
    args = _args(small_archive, data, START.isoformat(), END.isoformat(), *one_by_one)
    log = tmp_path / "killed.log"
    proc = start_cli(args, prefect_env, log)
    try:
        _wait_for_rows(db, 3, proc, log)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(TIMEOUT_S)
    assert proc.returncode == -signal.SIGKILL
    at_kill = count(db)
    assert 0 < at_kill < total, "the kill did not land midway"

    run_cli(args, prefect_env, timeout=TIMEOUT_S)
    assert duplicates(db) == 0
    assert observations(db) == observations(baseline.db)
    assert detections(db) == detections(baseline.db)
    resumed = rows(db, "SELECT n_skipped FROM runs WHERE finished_at IS NOT NULL")
    assert resumed == [(at_kill,)]  # the resume skipped exactly what was stored before the kill


def test_two_overlapping_backfills_at_once(
    baseline: Baseline, small_archive: Path, prefect_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    db = data / "rasonwatch.sqlite"
    first = _args(small_archive, data, "2022-05-01", "2022-06-10", "--batch-size", "2")
    second = _args(small_archive, data, "2022-05-20", "2022-06-30", "--batch-size", "2")
    procs = [
        start_cli(first, prefect_env, tmp_path / "first.log"),
        start_cli(second, prefect_env, tmp_path / "second.log"),
    ]
    for proc, name in zip(procs, ("first", "second"), strict=True):
        code = proc.wait(TIMEOUT_S)
        assert code == 0, (tmp_path / f"{name}.log").read_text()[-3000:]

    assert duplicates(db) == 0
    stored = rows(db, "SELECT aoi, scene_id, status FROM observations ORDER BY 1, 2")
    expected = rows(baseline.db, "SELECT aoi, scene_id, status FROM observations ORDER BY 1, 2")
    assert stored == expected  # every scene of the union, once, ok: none lost
    # Both ranges are short, so both references cover the whole (small) archive: the same
    # reference as the baseline's, hence the same numbers.
    assert observations(db) == observations(baseline.db)
    runs = rows(db, "SELECT n_ok + n_skipped, finished_at FROM runs ORDER BY started_at")
    assert len(runs) == 2
    assert all(finished is not None for _, finished in runs)

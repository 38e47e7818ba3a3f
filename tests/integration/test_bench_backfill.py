"""``rasonwatch bench backfill``: the shape and sanity of its figures, never their values.

One benchmark runs on the small SIMULATED archive over three weeks, its measurement
subprocesses talking to the session's Prefect server (no temporary server each).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Final

import pytest

from pipeline.bench.backfill import (
    MEASUREMENTS,
    STAGES,
    print_backfill_bench,
    run_backfill_bench,
    years_label,
)
from pipeline.cli.app import main

pytestmark = pytest.mark.slow

#: Three weeks of the small archive: four scenes over each of its two AOIs.
SPAN: Final = (date(2022, 5, 1), date(2022, 5, 21))


@pytest.fixture(scope="module")
def bench(small_archive: Path, prefect_env: dict[str, str]) -> dict[str, Any]:
    """The benchmark's result on :data:`SPAN`."""
    return run_backfill_bench(small_archive, span=SPAN, concurrency=2, env=prefect_env)


def test_the_result_is_labelled_simulated_and_counts_agree(bench: dict[str, Any]) -> None:
    assert bench["data"] == "SIMULATED"
    assert bench["range"] == "2022-05-01..2022-05-21"
    assert bench["scenes"] == bench["ok"] + bench["failed"] == bench["plain_scenes"] > 0
    assert bench["failed"] == 0
    assert bench["rerun_skipped"] == bench["scenes"]  # the re-run finds everything stored
    label = years_label(*SPAN)
    assert bench["scenes_by_range"] == {label: bench["scenes"]}  # no year fits in 3 weeks
    assert bench["measured"] == list(MEASUREMENTS)
    assert set(bench["machine"]) == {"cpus", "python", "platform", "prefect"}
    json.dumps(bench)  # JSON-ready as it is


def test_times_are_positive_and_shares_are_fractions(bench: dict[str, Any]) -> None:
    for key in ("backfill_s", "rerun_s", "prefect_run_s", "plain_run_s", "prefect_import_s"):
        assert bench[key] > 0, key
    # PREFECT_API_URL names the session's running server: one request to it, no start-up
    assert 0 <= bench["prefect_server_s"] < 5
    assert bench["backfill_s"] >= bench["prefect_run_s"]
    assert 0.0 <= bench["orchestration_share"] <= 1.0
    assert 0.0 <= bench["orchestration_cpu_share"] <= 1.0
    assert bench["prefect_run_cpu_s"] > 0
    assert bench["plain_run_cpu_s"] > 0
    assert bench["prefect_server_cpu_s"] == 0  # the session's server is no child
    assert all(mb > 0 for mb in bench["rss_mb_by_range"].values())


def test_every_stage_is_timed_per_scene(bench: dict[str, Any]) -> None:
    assert list(bench["stage_ms_per_scene"]) == list(STAGES)
    assert all(ms > 0 for ms in bench["stage_ms_per_scene"].values())
    calls = bench["stage_calls"]
    assert calls["detect"] == calls["store"] == bench["scenes"]  # one each per scene-AOI
    assert calls["read"] >= bench["scenes"]  # the survey reads too (no chip cache)
    assert calls["search"] >= 2  # one per AOI at least


def test_the_report_says_simulated(
    bench: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    print_backfill_bench(bench)
    text = capsys.readouterr().out
    assert "SIMULATED" in text
    assert "orchestration" in text
    print_backfill_bench(bench, as_json=True)
    assert json.loads(capsys.readouterr().out) == bench


def test_only_some_measurements_run_and_the_others_are_null(
    small_archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_backfill_bench(small_archive, span=SPAN, concurrency=2, only=("plain",))
    assert result["measured"] == ["plain"]
    assert result["plain_scenes"] == result["scenes"] > 0
    assert result["plain_run_cpu_s"] > 0
    for key in ("backfill_s", "rerun_s", "prefect_run_s", "orchestration_share"):
        assert result[key] is None, key
    assert result["rss_mb_by_range"] == {}
    print_backfill_bench(result)
    text = capsys.readouterr().out
    assert "without Prefect" in text
    assert "through Prefect" not in text


def test_an_unknown_measurement_exits_2_with_one_line(
    small_archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["bench", "backfill", "--archive", str(small_archive), "--only", "fast"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "prefect" in captured.err

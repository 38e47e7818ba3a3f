"""``rasonwatch demo --scenario FILE --data-dir DIR`` end to end, on a small scenario."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL_SCENARIO
from flow_helpers import count, run_cli

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end_on_a_small_scenario(
    prefect_env: dict[str, str], tmp_path: Path
) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL_SCENARIO)
    data = tmp_path / "data"
    out = run_cli(["demo", "--scenario", str(scenario), "--data-dir", str(data)], prefect_env)
    assert "SIMULATED report:" in out
    assert "port-spike-2023" in out  # the verdict table
    archives = [p for p in data.iterdir() if p.name.endswith("-archive")]
    assert [p.name.split("-")[0] for p in archives] == ["small"]  # not the packaged demo's
    assert (archives[0] / "truth.csv").is_file()
    assert count(data / "rasonwatch.sqlite") == 2 * 13  # both AOIs, every scene
    report = data / "report" / "index.html"
    assert "SIMULATED" in report.read_text()
    assert (data / "quicklooks" / "rajin-port.png").is_file()
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "demo",
            "--scenario",
            str(scenario),
            "--data-dir",
            str(data),
        ],
        env=prefect_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Using the SIMULATED archive already at" in again.stderr
    assert count(data / "rasonwatch.sqlite") == 2 * 13  # nothing new, nothing duplicated


def test_demo_help_says_what_it_does() -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["demo", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for words in ("--scenario", "--data-dir", "backfill", "report", "SIMULATED"):
        assert words in result.output


def test_demo_with_a_missing_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "demo",
            "--scenario",
            str(tmp_path / "none.toml"),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()

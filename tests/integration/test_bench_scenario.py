"""``rasonwatch bench sim --scenario FILE --json``: issue 14's figures, as a JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCENARIO = """\
seed = 7
start = "2022-06-02"
end = "2022-08-01"
revisit_days = 5
cloud_probability = 0.1
misregistration_px = 0.5
[[aoi]]
id = "rajin-port"
activity = [ { from = "2021-01-01", ships = 2.0, dwell_days = 6 } ]
[[aoi.berth]]
occupancy = 0.9
dwell_days = 30
length_m = 110
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2021-01-01", railcars = 30, dwell_days = 3, zone = "tumangang-yard" },
             { from = "2021-01-01", railcars = 0, zone = "khasan-yard" } ]
"""


def _bench(scenario: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "bench",
            "sim",
            "--scenario",
            str(scenario),
            "--data-dir",
            str(data),
            "--json",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bench-scenario")
    scenario = folder / "berth.toml"
    scenario.write_text(SCENARIO)
    done = _bench(scenario, folder / "data")
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def test_the_json_has_the_contract_keys(figures: dict[str, Any]) -> None:
    assert figures["scenario"] == "berth.toml"
    assert figures["simulated"] is True
    assert set(figures["ships"]) == {
        "mae",
        "berth_bias",
        "misregistration_false_per_scene",
        "clear_scenes",
    }
    assert set(figures["rail"]) == {
        "median_rel_err",
        "empty_yard_max",
        "season_bias",
        "clear_scenes",
    }


def test_the_figures_are_computed_where_the_scenario_allows(figures: dict[str, Any]) -> None:
    ships, rail = figures["ships"], figures["rail"]
    assert ships["clear_scenes"] > 0
    assert ships["mae"] >= 0
    assert ships["berth_bias"] is not None  # a berth occupied 90 % of the time
    assert ships["misregistration_false_per_scene"] is not None  # 0.5 px misregistration
    assert rail["clear_scenes"] > 0
    assert set(rail["median_rel_err"]) <= {"tumangang-yard", "khasan-yard"}
    assert rail["empty_yard_max"] is not None  # the Khasan yard is always empty
    assert rail["season_bias"] is None  # June-July only: no August-November to compare
    # Two references of the same period need 5 clear looks each: too few in two months.
    assert figures["ships_rebuild_step"] is None


def test_exactly_one_of_archive_and_scenario(tmp_path: Path) -> None:
    from pipeline.cli.app import main

    assert main(["bench", "sim"]) == 2
    assert main(["bench", "sim", "--archive", str(tmp_path), "--scenario", "x.toml"]) == 2

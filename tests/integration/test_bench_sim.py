"""``rasonwatch bench sim`` on the small SIMULATED archive: the figures add up by season."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.bench.seasons import SEASONS
from pipeline.bench.simulated import print_sim_bench, run_sim_bench
from pipeline.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(small_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("bench-sim"))
    return run_sim_bench(small_archive, settings)


def test_seasons_split_the_scored_scenes(bench: dict[str, Any]) -> None:
    """May-June: every scored scene is in spring or summer, none in winter or autumn."""
    assert bench["simulated"] is True
    port, rail = bench["aois"]["rajin-port"], bench["aois"]["tumangang-rail"]
    assert port["clear_scenes"] > 0
    for key, total in (
        ("by_season", port["clear_scenes"]),
        ("by_season_single_date", port["clear_scenes"]),
    ):
        seasons = port[key]
        assert list(seasons) == list(SEASONS)
        assert sum(s["n"] for s in seasons.values()) == total
        assert seasons["DJF"]["n"] == seasons["SON"]["n"] == 0
    assert sum(s["n"] for s in rail["by_season"].values()) == rail["scenes_with_20_cars"]


def test_bias_is_signed_and_no_larger_than_the_error(bench: dict[str, Any]) -> None:
    port = bench["aois"]["rajin-port"]
    assert abs(port["ship_bias"]) <= port["ship_mae"]
    for season in port["by_season"].values():
        if season["n"]:
            assert abs(season["bias"]) <= season["mae"]


def test_print_shows_a_season_table_per_breakdown(
    bench: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    print_sim_bench(bench)
    out = capsys.readouterr().out
    assert "SIMULATED" in out
    assert out.count("DJF") == 3  # one row in each of the three season tables
    for season in SEASONS:
        assert season in out

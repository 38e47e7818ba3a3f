"""``rasonwatch bench verdicts``: SIMULATED series from the count model, the JSON contract."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import numpy as np
import pytest

from pipeline.bench.verdict_series import CLAIM, Condition, demo_sampling, draw_series
from pipeline.bench.verdicts import (
    AMPLITUDES,
    DWELLS,
    POWER_TARGET,
    RATIO_GRID,
    RATIOS,
    SEARCH_GRID,
    print_verdict_bench,
)
from pipeline.cli.app import main


@pytest.fixture(scope="module")
def bench_json() -> dict[str, Any]:
    """One tiny run through the CLI (2 series per condition); stdout is the JSON alone."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["bench", "verdicts", "--seeds", "2", "--json"]) == 0
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_series_follow_the_count_model() -> None:
    """No change: about the demo's 1.5 ships per scene; clouds take their share; a x3 rise
    triples the window's mean; 30-day stays make neighbouring looks alike."""
    sampling = demo_sampling()
    assert sampling.revisit_days == 5
    assert sampling.base_ships == 1.5
    means, window, shares, lag1 = [], [], [], []
    for seed in range(6):
        null = draw_series(Condition(30.0, 0.0, 1.0), seed)
        rise = draw_series(Condition(0.0, 0.0, 3.0), seed)
        means.append(null.values.mean())
        window.append(rise.values[rise.between(*CLAIM.window)].mean())
        shares.append(null.n_cloudy / (null.n_cloudy + len(null.dates)))
        lag1.append(np.corrcoef(null.values[:-1], null.values[1:])[0, 1])
        assert null.simulated
    assert np.mean(means) == pytest.approx(1.5, rel=0.2)
    assert np.mean(window) == pytest.approx(4.5, rel=0.2)
    assert np.mean(shares) == pytest.approx(np.mean(sampling.clouds_by_month), abs=0.05)
    assert np.mean(lag1) > 0.5


def test_seasonal_clouds_follow_the_months() -> None:
    s = draw_series(Condition(0.0, 0.4, 1.0), 1)
    months = np.array([d.month for d in s.dates])
    assert np.count_nonzero(months == 7) < np.count_nonzero(months == 1)  # monsoon vs winter


def test_json_contract(bench_json: dict[str, Any]) -> None:
    assert {"seeds", "alpha", "null", "power"} <= set(bench_json)
    assert bench_json["seeds"] == 2
    assert bench_json["alpha"] == 0.05
    assert bench_json["simulated"] is True
    null = bench_json["null"]
    assert [(r["dwell_days"], r["seasonal_amplitude"]) for r in null] == [
        (d, a) for d in DWELLS for a in AMPLITUDES
    ]
    for row in null:
        assert set(row) == {"dwell_days", "seasonal_amplitude", "false_supported"}
        assert isinstance(row["dwell_days"], int)  # as the issue writes it: "dwell_days": 12
        assert 0 <= row["false_supported"] <= 1
    power = bench_json["power"]
    assert [(r["ratio"], r["dwell_days"], r["seasonal_amplitude"]) for r in power] == [
        (r, d, a) for r in RATIOS for d in DWELLS for a in AMPLITUDES
    ]
    for row in power:
        assert set(row) == {"dwell_days", "seasonal_amplitude", "ratio", "supported"}
    old = bench_json["old_rule"]
    assert len(old["null"]) == len(null)
    assert len(old["power"]) == len(power)
    smallest = bench_json["min_detectable_ratio"]
    assert [g["ratio"] for g in smallest["grid"]] == list(RATIO_GRID)
    assert smallest["new"] is None or smallest["new"] in RATIO_GRID


def test_smallest_detectable_ratio_for_every_condition(bench_json: dict[str, Any]) -> None:
    """Extras beside the contract: each condition's grid runs upwards and stops at the first
    rise both rules support 80 % of the time; the smallest is the first the rule reaches."""
    rows = bench_json["min_detectable_ratio_by_condition"]
    assert [(r["dwell_days"], r["seasonal_amplitude"]) for r in rows] == [
        (d, a) for d in DWELLS for a in AMPLITUDES
    ]
    for row in rows:
        ratios = [g["ratio"] for g in row["grid"]]
        assert ratios == list(SEARCH_GRID[: len(ratios)])
        reached = [min(g["old"], g["new"]) >= POWER_TARGET for g in row["grid"]]
        assert not any(reached[:-1])
        assert reached[-1] or len(ratios) == len(SEARCH_GRID)
        for rule in ("old", "new"):
            first = next((g["ratio"] for g in row["grid"] if g[rule] >= POWER_TARGET), None)
            assert row[rule] == first


def test_coverage_of_each_rule_interval(bench_json: dict[str, Any]) -> None:
    rows = bench_json["coverage"]
    assert [(r["ratio"], r["dwell_days"], r["seasonal_amplitude"]) for r in rows] == [
        (r, d, a) for r in (1.0, *RATIOS) for d in DWELLS for a in AMPLITUDES
    ]
    for row in rows:
        assert 0 <= row["old"] <= 1
        assert 0 <= row["new"] <= 1


def test_table_shows_old_and_new_side_by_side(
    bench_json: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    print_verdict_bench(bench_json)
    out = capsys.readouterr().out
    assert "SIMULATED" in out
    assert "old rule" in out
    assert "new rule" in out
    assert out.count("no change") == len(DWELLS) * len(AMPLITUDES)
    assert "smallest rise supported 80 %" in out
    assert "coverage with no rise" in out


def test_seeds_below_one_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "verdicts", "--seeds", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--seeds" in err[0]

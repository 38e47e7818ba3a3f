"""Bad input of every kind exits 2 with one line on stderr, no traceback, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main

NOT_CLOSED = {
    "type": "Feature",
    "properties": {"kind": "port"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[130.30, 42.23], [130.32, 42.23], [130.32, 42.25], [130.30, 42.25]]],
    },
}


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def _assert_refused(argv: list[str], capsys: pytest.CaptureFixture[str], needle: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert needle in lines[0]
    return lines[0]


@pytest.fixture
def empty_catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("start", "end", "needle"),
    [
        ("2023-11-29", "2023-08-01", "reversed"),
        ("2023-02-30", "2023-08-01", "not a valid date"),
        ("yesterday", "2023-08-01", "not a valid date"),
    ],
)
def test_bad_dates(
    start: str, end: str, needle: str, empty_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scenes", "--aoi", "rajin-port", "--start", start, "--end", end]
    _assert_refused([*argv, "--source", str(empty_catalog)], capsys, needle)


def test_unknown_aoi_id(empty_catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["scenes", "--aoi", "wonsan", "--start", "2023-01-01", "--end", "2023-02-01"]
    _assert_refused([*argv, "--source", str(empty_catalog)], capsys, "unknown AOI id")


def test_invalid_aoi_file(
    tmp_path: Path, empty_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "open.geojson"
    bad.write_text(json.dumps(NOT_CLOSED))
    argv = ["scenes", "--aoi", str(bad), "--start", "2023-01-01", "--end", "2023-02-01"]
    _assert_refused([*argv, "--source", str(empty_catalog)], capsys, "not closed")


def test_missing_source_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["scenes", "--aoi", "rajin-port", "--start", "2023-01-01", "--end", "2023-02-01"]
    _assert_refused([*argv, "--source", str(tmp_path / "nowhere")], capsys, "nowhere")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('seed = 1\nstart = "2021-01-01"\nend = "2021-02-01"\nwind = 3\n', "wind"),
        ('seed = 1\nstart = "2021-03-01"\nend = "2021-02-01"\n', "2021"),
        ("seed = [unclosed\n", "scenario"),
    ],
)
def test_bad_scenario_writes_nothing(
    tmp_path: Path, text: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(text)
    out = tmp_path / "archive"
    _assert_refused(["simulate", "--scenario", str(scenario), "--out", str(out)], capsys, needle)
    assert not out.exists()
    assert _tree(tmp_path) == ["bad.toml"]


def test_missing_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "archive"
    argv = ["simulate", "--scenario", str(tmp_path / "none.toml"), "--out", str(out)]
    _assert_refused(argv, capsys, "none.toml")
    assert not out.exists()


def test_console_script_exits_2_without_traceback(tmp_path: Path) -> None:
    """The installed entry point behaves like main(): exit 2, one line, no traceback."""
    argv = ["scenes", "--aoi", "nowhere-port", "--start", "2023-01-01", "--end", "2022-01-01"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import run; run()", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "reversed" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_works() -> None:
    assert main(["--help"]) == 0
    assert main(["scenes", "--help"]) == 0

"""Bad input of every kind exits 2 with one line on stderr, no traceback, nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli.app import main
from pipeline.store.results import SCHEMA_VERSION, Store

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


@pytest.mark.slow
def test_console_script_exits_2_without_traceback(tmp_path: Path) -> None:
    """The installed entry point behaves like main(): exit 2, one line, no traceback."""
    argv = ["scenes", "--aoi", "nowhere-port", "--start", "2023-01-01", "--end", "2022-01-01"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli.app import run; run()", *argv],
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


# --- the whole matrix: every command that takes the input, nothing written ------------------
# Each case runs in its own empty working folder (so the default ``data/`` would land there),
# holding an empty catalog, a regular file, stores of every kind and the bad input files.
# Paths are relative to that folder.
RANGE = ["--start", "2023-01-01", "--end", "2023-02-01"]
RING = [[130.30, 42.23], [130.32, 42.23], [130.32, 42.25], [130.30, 42.25], [130.30, 42.23]]
BOWTIE = [[130.30, 42.23], [130.32, 42.25], [130.32, 42.23], [130.30, 42.25], [130.30, 42.23]]
HUGE_NUMBER = "1" * 5000  # more digits than Python converts: a ValueError, not a decode error


def _polygon(ring: list[list[float]], **properties: object) -> str:
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return json.dumps({"type": "Feature", "properties": properties, "geometry": geometry})


#: AOI file name -> (content, what the one line must say).
BAD_AOI_FILES: dict[str, tuple[str, str]] = {
    "not-json.geojson": ("{not json", "not valid JSON"),
    "huge-number.geojson": ('{"type": "Polygon", "coordinates": ' + HUGE_NUMBER + "}", "JSON"),
    "point.geojson": (
        json.dumps({"type": "Point", "coordinates": [130.3, 42.2]}),
        "got 'Point'",
    ),
    "unclosed.geojson": (json.dumps(NOT_CLOSED), "not closed"),
    "bowtie.geojson": (_polygon(BOWTIE, kind="port"), "self-intersecting"),
    "airport.geojson": (_polygon(RING, kind="airport"), "kind 'airport'"),
    "escape.geojson": (_polygon(RING, id="../../etc/x", kind="port"), "must match"),
    "Rajin Port.geojson": (_polygon(RING, kind="port"), "must match"),  # id from the stem
    "no-features.geojson": (json.dumps({"type": "FeatureCollection", "features": []}), "no feat"),
    "tiny.geojson": (
        _polygon([[130.3, 42.2], [130.3001, 42.2], [130.3, 42.2001], [130.3, 42.2]]),
        "km²",
    ),
}
#: Claims file name -> (content, what the one line must say).
CLAIM = 'quote = "q"\nsource = "s"\naoi = "rajin-port"\n'
BAD_CLAIMS_FILES: dict[str, tuple[str, str]] = {
    "not-toml.toml": ("[claims.x\n", "not valid TOML"),
    "huge-integer.toml": (f"[claims.x]\n{CLAIM}metric = 'ships'\nmin_n = {HUGE_NUMBER}\n", "TOML"),
    "no-claims.toml": ("", "no [claims.<id>] tables"),
    "unknown-metric.toml": (f"[claims.x]\n{CLAIM}metric = 'planes'\n", "'planes'"),
    "missing-metric.toml": (f"[claims.x]\n{CLAIM}", "missing key 'metric'"),
    "unknown-key.toml": (f"[claims.x]\n{CLAIM}metric = 'ships'\nwind = 3\n", "unknown key 'wind'"),
    "bad-id.toml": (f"[claims.Port_Spike]\n{CLAIM}metric = 'ships'\n", "id must match"),
    "reversed-window.toml": (
        f"[claims.x]\n{CLAIM}metric = 'ships'\nwindow = [2023-11-29, 2023-08-01]\n",
        "ends before it starts",
    ),
}
GOOD_SCENARIO = 'seed = 1\nstart = "2021-01-01"\nend = "2021-01-10"\n'
#: Scenario file name -> (content, what the one line must say).
BAD_SCENARIO_FILES: dict[str, tuple[str, str]] = {
    "huge-seed.toml": (f"seed = {HUGE_NUMBER}\n", "not valid TOML"),
    "unknown-aoi.toml": ('[[aoi]]\nid = "wonsan"\n', "unknown AOI id 'wonsan'"),
    "cloudy.toml": ("cloud_probability = 2\n", "cloud_probability"),
    "before-s2.toml": ('start = "2010-01-01"\n', "before Sentinel-2"),
    "months.toml": ("cloud_probability_by_month = [0.5]\n", "cloud_probability_by_month"),
    "snow.toml": (f"snow_probability_by_month = {[2] * 12}\n", "snow_probability_by_month[0]"),
    "ice.toml": ("sea_ice_months = [0]\n", "sea_ice_months[0]"),
    "shift.toml": ("misregistration_px = -0.5\n", "misregistration_px"),
    "haze.toml": ('haze = "thick"\n', "haze"),
    "shadows.toml": ("shadows = 1\n", "shadows"),
    "season.toml": ('[[aoi]]\nid = "rajin-port"\nseasonal_amplitude = 1.5\n', "seasonal_amplitude"),
    "peak.toml": ('[[aoi]]\nid = "rajin-port"\nseasonal_peak_day = 400\n', "seasonal_peak_day"),
    "berth.toml": (
        '[[aoi]]\nid = "rajin-port"\n[[aoi.berth]]\noccupancy = 2\ndwell_days = 9\nlength_m = 90\n',
        "berth[0].occupancy",
    ),
    "structure.toml": (
        '[[aoi]]\nid = "rajin-port"\n[[aoi.structure]]\nkind = "pier"\n',
        "structure[0].from",
    ),
    "light.toml": ('[[aoi]]\nid = "tumangang-rail"\nlight_car_share = -1\n', "light_car_share"),
    "dwell.toml": (
        '[[aoi]]\nid = "rajin-port"\n'
        'activity = [{ from = "2021-01-01", ships = 1, dwell_days = "x" }]\n',
        "dwell_days",
    ),
    "zone.toml": (
        '[[aoi]]\nid = "rajin-port"\nactivity = [{ from = "2021-01-01", ships = 1, zone = "x" }]\n',
        "unknown zone",
    ),
    "length.toml": (
        '[[aoi]]\nid = "rajin-port"\n'
        'activity = [{ from = "2021-01-01", ships = 1, length_m = 5 }]\n',
        "length_m",
    ),
}


def _sqlite(path: Path, *pragmas_and_sql: str) -> None:
    con = sqlite3.connect(path)
    for statement in pragmas_and_sql:
        con.execute(statement)
    con.commit()
    con.close()


#: Store file name -> (how to make it, what the one line must say).
BAD_STORES: dict[str, tuple[tuple[str, ...], str]] = {
    "newer.sqlite": (
        ("CREATE TABLE observations (x)", f"PRAGMA user_version = {SCHEMA_VERSION + 1}"),
        "newer than this rason-watch",
    ),
    "newer-wal.sqlite": (
        ("PRAGMA journal_mode = WAL", "CREATE TABLE t (x)", "PRAGMA user_version = 99"),
        "newer than this rason-watch",
    ),
    "foreign.sqlite": (("CREATE TABLE notes (body TEXT)",), "not a rason-watch store"),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with every bad input in it; the current directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "catalog").mkdir()
    (tmp_path / "afile").write_text("a regular file\n")
    (tmp_path / "not-a-db.sqlite").write_text("not a database\n")
    (tmp_path / "good.toml").write_text(GOOD_SCENARIO)
    Store(tmp_path / "current.sqlite").close()
    for name, (statements, _) in BAD_STORES.items():
        _sqlite(tmp_path / name, *statements)
    for table in (BAD_AOI_FILES, BAD_CLAIMS_FILES, BAD_SCENARIO_FILES):
        for name, (text, _) in table.items():
            (tmp_path / name).write_text(text)
    return tmp_path


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash (folders as ``dir``)."""
    return {
        str(p.relative_to(root)): "dir"
        if p.is_dir()
        else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


def _refused_writing_nothing(
    argv: list[str], root: Path, capsys: pytest.CaptureFixture[str], needle: str
) -> None:
    """Exit 2, one line on stderr naming ``needle``, nothing on stdout, ``root`` unchanged."""
    before = _snapshot(root)
    capsys.readouterr()
    line = _assert_refused(argv, capsys, needle)
    assert line.startswith("rasonwatch: error: "), line
    assert _snapshot(root) == before, f"{argv} wrote or changed files"


def _aoi_argv(command: str, aoi: str) -> list[str]:
    if command == "run":
        return ["run", "--aoi", aoi, "--source", "catalog"]
    return [command, "--aoi", aoi, *RANGE, "--source", "catalog"]


@pytest.mark.parametrize("command", ["scenes", "backfill", "run"])
@pytest.mark.parametrize("name", sorted(BAD_AOI_FILES))
def test_bad_aoi_file_matrix(
    command: str, name: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused_writing_nothing(_aoi_argv(command, name), workdir, capsys, BAD_AOI_FILES[name][1])


@pytest.mark.parametrize("command", ["scenes", "backfill", "run"])
@pytest.mark.parametrize(
    ("aoi", "needle"),
    [
        ("wonsan", "unknown AOI id 'wonsan'"),
        ("missing.geojson", "does not exist"),
        ("../aoi/rajin-port", "does not exist"),
    ],
)
def test_unknown_aoi_matrix(
    command: str, aoi: str, needle: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused_writing_nothing(_aoi_argv(command, aoi), workdir, capsys, needle)


@pytest.mark.parametrize("command", ["scenes", "backfill"])
@pytest.mark.parametrize(
    ("start", "end", "needle"),
    [
        ("2023-11-29", "2023-08-01", "reversed"),
        ("2023-02-30", "2023-08-01", "not a valid date"),
        ("2023-01-01", "2023-13-01", "not a valid date"),
        ("yesterday", "2023-08-01", "not a valid date"),
        ("", "2023-08-01", "not a valid date"),
    ],
)
def test_bad_dates_matrix(
    command: str,
    start: str,
    end: str,
    needle: str,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [command, "--aoi", "rajin-port", "--start", start, "--end", end, "--source", "catalog"]
    _refused_writing_nothing(argv, workdir, capsys, needle)


def test_bad_until_date(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--until", "2023-13-01", "--source", "catalog"]
    _refused_writing_nothing(argv, workdir, capsys, "not a valid date")


@pytest.mark.parametrize(
    "argv",
    [
        ["scenes", "--aoi", "rajin-port", *RANGE],
        ["backfill", *RANGE],
        ["run"],
        ["serve"],
    ],
    ids=["scenes", "backfill", "run", "serve"],
)
def test_missing_source_matrix(
    argv: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused_writing_nothing([*argv, "--source", "nowhere"], workdir, capsys, "'nowhere'")


@pytest.mark.parametrize("command", ["evaluate", "report"])
@pytest.mark.parametrize("name", [*sorted(BAD_CLAIMS_FILES), "missing.toml"])
def test_bad_claims_matrix(
    command: str, name: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    needle = BAD_CLAIMS_FILES[name][1] if name in BAD_CLAIMS_FILES else "cannot read claims"
    argv = [command, "--claims", name, "--db", "current.sqlite"]
    if command == "report":
        argv += ["--out", "report"]
    _refused_writing_nothing(argv, workdir, capsys, needle)


@pytest.mark.parametrize("name", sorted(BAD_SCENARIO_FILES))
def test_bad_scenario_matrix(name: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--scenario", name, "--out", "archive"]
    _refused_writing_nothing(argv, workdir, capsys, BAD_SCENARIO_FILES[name][1])


def _store_argv(command: str, db: str) -> list[str]:
    """``command`` reading or writing the store ``db`` (every other input good)."""
    return {
        "backfill": ["backfill", *RANGE, "--source", "catalog", "--db", db],
        "run": ["run", "--source", "catalog", "--db", db],
        "serve": ["serve", "--source", "catalog", "--db", db],
        "export": ["export", "--db", db, "--out", "export"],
        "evaluate": ["evaluate", "--db", db],
        "report": ["report", "--db", db, "--out", "report"],
    }[command]


STORE_COMMANDS = ["backfill", "run", "serve", "export", "evaluate", "report"]


@pytest.mark.parametrize("command", STORE_COMMANDS)
@pytest.mark.parametrize(
    ("db", "needle"),
    [
        *((name, needle) for name, (_, needle) in sorted(BAD_STORES.items())),
        ("not-a-db.sqlite", "not a database"),
        ("catalog", "catalog"),  # a folder
    ],
)
def test_unusable_store_matrix(
    command: str, db: str, needle: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store from a newer rason-watch, of another program, or no database: byte-identical."""
    _refused_writing_nothing(_store_argv(command, db), workdir, capsys, needle)


@pytest.mark.parametrize("command", ["export", "evaluate", "report"])
def test_missing_store_is_not_created(
    command: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused_writing_nothing(_store_argv(command, "none.sqlite"), workdir, capsys, "none.sqlite")


@pytest.mark.parametrize("command", ["backfill", "run", "serve"])
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--db", "afile/rasonwatch.sqlite"),  # under a regular file
        ("--db", "nofolder/rasonwatch.sqlite"),  # in a folder that does not exist
        ("--data-dir", "afile"),  # a regular file
        ("--data-dir", "afile/data"),  # under a regular file
    ],
)
def test_unwritable_store_or_data_dir(
    command: str, option: str, value: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*_store_argv(command, "current.sqlite"), option, value]
    _refused_writing_nothing(argv, workdir, capsys, value.split("/")[0])


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--db", "current.sqlite", "--out", "afile"],
        ["export", "--db", "current.sqlite", "--out", "afile/export"],
        ["report", "--db", "current.sqlite", "--out", "afile/report"],
        ["simulate", "--scenario", "good.toml", "--out", "afile"],
    ],
    ids=["export-to-file", "export-under-file", "report-under-file", "simulate-to-file"],
)
def test_unwritable_out(argv: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused_writing_nothing(argv, workdir, capsys, "afile")


def test_simulate_under_a_file_writes_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--scenario", "good.toml", "--out", "afile/archive"]
    _refused_writing_nothing(argv, workdir, capsys, "afile")


@pytest.fixture
def read_only(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``workdir/ro``, mode 555. Root ignores modes, so for root ``os.access`` says so too."""
    folder = workdir / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real_access = os.access

        def access(path: Any, mode: int, **kwargs: Any) -> bool:
            inside = Path(path).resolve().is_relative_to(folder.resolve())
            return False if inside and mode & os.W_OK else real_access(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize(
    "argv",
    [
        ["backfill", *RANGE, "--source", "catalog", "--db", "ro/rasonwatch.sqlite"],
        ["backfill", *RANGE, "--source", "catalog", "--data-dir", "ro/data"],
        ["backfill", *RANGE, "--source", "catalog", "--data-dir", "ro"],
        ["run", "--source", "catalog", "--db", "ro/rasonwatch.sqlite"],
        ["serve", "--source", "catalog", "--data-dir", "ro/data"],
        ["export", "--db", "current.sqlite", "--out", "ro/export"],
        ["report", "--db", "current.sqlite", "--out", "ro/report"],
        ["simulate", "--scenario", "good.toml", "--out", "ro/archive"],
    ],
    ids=[
        "backfill-db",
        "backfill-data-dir",
        "backfill-data-dir-itself",
        "run-db",
        "serve-data-dir",
        "export",
        "report",
        "simulate",
    ],
)
def test_read_only_folder(
    argv: list[str], read_only: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused_writing_nothing(argv, workdir, capsys, "read-only")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["scenes"], "Missing option '--aoi'"),
        (["scenes", "--bogus"], "No such option: --bogus"),
        (["export", "--db"], "requires an argument"),
        (["nosuch"], "No such command 'nosuch'"),
        (["cache", "--max-mb", "lots"], "'--max-mb'"),
        (["backfill", *RANGE, "--concurrency", "two"], "'--concurrency'"),
    ],
)
def test_usage_errors_are_one_line_too(
    argv: list[str], needle: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Click's own errors (typer vendors click) exit 2 with one line, not a traceback."""
    _refused_writing_nothing(argv, workdir, capsys, needle)


@pytest.mark.parametrize("command", ["scenes", "backfill", "run"])
@pytest.mark.parametrize(
    ("name", "value"),
    [("RASONWATCH_HTTP_TIMEOUT_S", "soon"), ("RASONWATCH_READ_RETRIES", "0")],
)
def test_bad_environment_setting(
    command: str,
    name: str,
    value: str,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    _refused_writing_nothing(_aoi_argv(command, "rajin-port"), workdir, capsys, name)


@pytest.mark.parametrize("command", ["scenes", "backfill", "run"])
def test_empty_catalog_writes_nothing(
    command: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused_writing_nothing(_aoi_argv(command, "rajin-port"), workdir, capsys, "no STAC items")

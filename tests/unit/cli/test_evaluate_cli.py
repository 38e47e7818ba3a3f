"""``rasonwatch evaluate`` and ``report`` at the command line: output contract and bad input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from claims_fixtures import demo_like, fill_store

from pipeline.claims.verdict import CONTRACT_FIELDS
from pipeline.cli.app import main

SEED_IDS = ["port-spike-2023", "rail-spike-2023", "port-first-ships-since-2018"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store filled with demo-shaped observations of both AOIs."""
    folder = tmp_path_factory.mktemp("store")
    return fill_store(folder / "rasonwatch.sqlite", demo_like())


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert needle in lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_evaluate_json_contract(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--db", str(store), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["claim"] for o in out] == SEED_IDS
    for item in out:
        assert set(CONTRACT_FIELDS) <= set(item)
        assert tuple(item)[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS
        assert item["verdict"] in ("supported", "contradicted", "inconclusive")
        assert item["simulated"] is True
    port = out[0]
    assert port["verdict"] == "supported"
    assert port["onset"] is not None
    onset = date.fromisoformat(port["onset"])
    assert abs((onset - date(2023, 8, 1)).days) <= 30


def test_evaluate_table(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--db", str(store)]) == 0
    out = capsys.readouterr().out
    for claim in SEED_IDS:
        assert claim in out
    assert "SUPPORTED" in out
    assert "SIMULATED" in out


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "[claims.x]\nquote = 'q'\nsource = 's'\naoi = 'rajin-port'\n"
            "metric = 'ships'\nfoo = 1\n",
            "unknown key 'foo'",
        ),
        ("[claims\n", "not valid TOML"),
    ],
)
def test_evaluate_bad_claims_file_writes_nothing(
    tmp_path: Path, text: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_text(text)
    db = tmp_path / "new.sqlite"
    _one_line_error(capsys, ["evaluate", "--claims", str(claims), "--db", str(db)], needle)
    assert _tree(tmp_path) == ["claims.toml"]


def test_evaluate_missing_claims_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evaluate", "--claims", str(tmp_path / "none.toml"), "--db", str(tmp_path / "x.db")]
    _one_line_error(capsys, argv, "none.toml")
    assert _tree(tmp_path) == []


def test_evaluate_missing_store_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _one_line_error(capsys, ["evaluate", "--db", str(tmp_path / "none.sqlite")], "no results store")
    assert _tree(tmp_path) == []


def test_report_bad_claims_writes_nothing(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_text("[claims.x]\nquote = 'q'\n")
    out = tmp_path / "report"
    argv = ["report", "--db", str(store), "--out", str(out), "--claims", str(claims)]
    _one_line_error(capsys, argv, "missing key")
    assert not out.exists()


def test_report_writes_index(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert main(["report", "--db", str(store), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "index.html")
    assert _tree(out) == ["index.html"]


def test_help() -> None:
    assert main(["evaluate", "--help"]) == 0
    assert main(["report", "--help"]) == 0

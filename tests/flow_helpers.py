"""Helpers for the flow tests: run the CLI in a subprocess, snapshot a store's tables."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

#: The small archive's range (see ``SMALL_SCENARIO`` in conftest).
START: Final = date(2022, 5, 1)
END: Final = date(2022, 6, 30)
AOIS: Final = ("rajin-port", "tumangang-rail")


def cli_command(*args: str) -> list[str]:
    """``python -m pipeline ARGS`` with this interpreter."""
    return [sys.executable, "-m", "pipeline", *args]


def start_cli(args: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``rasonwatch ARGS`` in the background, stdout and stderr into ``log``."""
    handle = log.open("wb")
    return subprocess.Popen(cli_command(*args), env=dict(env), stdout=handle, stderr=handle)


def run_cli(args: Sequence[str], env: Mapping[str, str], *, timeout: float = 300) -> str:
    """Run ``rasonwatch ARGS`` to completion; fail with its output unless it exits 0."""
    done = subprocess.run(
        cli_command(*args), env=dict(env), capture_output=True, timeout=timeout, check=False
    )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output[-4000:]
    return done.stdout.decode()


def rows(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query on ``db``, read-only."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return list(con.execute(sql, params))


def observations(db: Path) -> list[tuple[Any, ...]]:
    """The whole ``observations`` table, in key order."""
    return rows(db, "SELECT * FROM observations ORDER BY aoi, scene_id, detector_version")


def detections(db: Path) -> list[tuple[Any, ...]]:
    """The whole ``detections`` table, in key order."""
    return rows(db, "SELECT * FROM detections ORDER BY aoi, scene_id, detector_version, n")


def processed_at(db: Path) -> list[tuple[Any, ...]]:
    """When each observation was last written (changes on every upsert)."""
    return rows(
        db, "SELECT aoi, scene_id, processed_at, run_id FROM observation_extras ORDER BY 1, 2"
    )


def duplicates(db: Path) -> int:
    """Observations sharing an ``(aoi, scene_id, detector_version)`` key (must be 0)."""
    found = rows(
        db,
        "SELECT COUNT(*) - COUNT(DISTINCT aoi || '|' || scene_id || '|' || detector_version) "
        "FROM observations",
    )
    return int(found[0][0])


def count(db: Path) -> int:
    """Rows in ``observations`` (0 when the file or table does not exist yet)."""
    if not db.exists():
        return 0
    try:
        return int(rows(db, "SELECT COUNT(*) FROM observations")[0][0])
    except sqlite3.OperationalError:
        return 0

"""Read-only queries of the results store for the report: scene provenance and runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import StoreError


@contextmanager
def _readonly(db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection, closed on exit (``with sqlite3.connect()`` only commits)."""
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield con
    finally:
        con.close()


def scene_json_rows(db: Path, version: str) -> list[tuple[str, str, str, str | None, str | None]]:
    """``(aoi, scene_id, processed_at, run_id, scene_json)`` of every row of ``version``.

    Raises:
        StoreError: the store cannot be read.
    """
    try:
        with _readonly(db) as con:
            return con.execute(
                "SELECT aoi, scene_id, processed_at, run_id, scene_json FROM observation_extras "
                "WHERE detector_version = ?",
                (version,),
            ).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read store {str(db)!r}: {exc}") from None


def run_rows(db: Path) -> tuple[dict[str, Any], ...]:
    """The ``runs`` table as dicts, newest first.

    Raises:
        StoreError: the store cannot be read.
    """
    try:
        with _readonly(db) as con:
            cursor = con.execute("SELECT * FROM runs ORDER BY started_at DESC")
            names = [c[0] for c in cursor.description]
            return tuple(dict(zip(names, r, strict=True)) for r in cursor.fetchall())
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read store {str(db)!r}: {exc}") from None

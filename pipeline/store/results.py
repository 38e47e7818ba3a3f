"""The results store: one SQLite file in WAL mode, idempotent upserts, versioned schema.

The ``observations`` table is a contract (README.md): other tools read it directly, so its
name and columns never change. Everything else (extras, detections, runs) is ours.
The schema version lives in ``PRAGMA user_version``; :data:`MIGRATIONS` upgrades older
files step by step, and a file from a newer version is refused.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from pipeline import __version__
from pipeline.errors import StoreError, StoreVersionError
from pipeline.store.rows import (
    DETECTION_COLUMNS,
    EXTRAS_COLUMNS,
    OBSERVATION_COLUMNS,
    OBSERVATION_SELECT,
    ZONE_COLUMNS,
    ZONE_SELECT,
    detection_values,
    extras_values,
    insert_sql,
    key_of,
    observation_from_row,
    observation_values,
    where,
    zone_from_row,
    zone_values,
)
from pipeline.store.schema import MIGRATIONS
from pipeline.types import DetectionRow, Observation

#: How long a writer waits for another process's transaction before giving up (ms):
#: two backfills may overlap, and one scene's write takes milliseconds.
BUSY_TIMEOUT_MS: Final = 60_000

SCHEMA_VERSION: Final = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check_creatable(path: Path) -> None:
    """Refuse to create a store in a folder that is missing or not writable.

    Raises:
        StoreError: the folder does not exist, is not a folder, or is read-only.
    """
    parent = path.parent
    if not parent.is_dir():
        raise StoreError(f"cannot create store {str(path)!r}: folder does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create store {str(path)!r}: folder {str(parent)!r} is read-only")


class Store:
    """The SQLite results store. One connection per instance; safe across processes."""

    def __init__(self, path: Path | str) -> None:
        """Open (creating and migrating as needed) the store at ``path``.

        Raises:
            StoreError: the file or its folder cannot be created (missing, read-only), or the
                file is not a database, or is another program's SQLite database.
            StoreVersionError: the file was written by a newer rason-watch (left untouched).
        """
        self.path = Path(path)
        if not self.path.exists():
            _check_creatable(self.path)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use store {str(self.path)!r}: {exc}") from None
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(f"cannot use store {str(self.path)!r}: {exc}") from None
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        """Check the schema version *before* anything that writes, then set up and migrate.

        ``journal_mode = WAL`` rewrites the file header, so a store from a newer
        rason-watch (or a file that is not a store) must be refused first to stay untouched.
        """
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = self._check_version()
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._migrate(version)

    def _check_version(self) -> int:
        """The file's schema version, refusing newer ones and foreign databases.

        Raises:
            StoreVersionError: the file was written by a newer rason-watch.
            StoreError: the file is a SQLite database of something else (tables, version 0).
        """
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"store {str(self.path)!r} has schema version {version}, newer than this "
                f"rason-watch ({__version__}, schema {SCHEMA_VERSION}); upgrade rason-watch"
            )
        if version == 0:
            tables = self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(
                    f"{str(self.path)!r} is a SQLite database but not a rason-watch store "
                    "(it has tables and no schema version); pass another --db"
                )
        return version

    def _migrate(self, version: int) -> None:
        """Upgrade a file at ``version`` to :data:`SCHEMA_VERSION`, step by step."""
        if version == SCHEMA_VERSION:
            return
        with self._transaction():
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The file's schema version."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def done_scene_ids(
        self, aoi: str, detector_version: str, *, reference_id: str | None = None
    ) -> set[str]:
        """Scenes already stored with status ``ok`` for this AOI and detector version
        (and, when given, measured against ``reference_id``)."""
        sql = (
            "SELECT scene_id FROM observations WHERE aoi = ? AND detector_version = ? "
            "AND status = 'ok'"
        )
        params: tuple[str, ...] = (aoi, detector_version)
        if reference_id is not None:
            sql, params = sql + " AND reference_id IS ?", (*params, reference_id)
        return {r[0] for r in self._db.execute(sql, params)}

    def measured_against_others(
        self, aoi: str, detector_version: str, reference_id: str
    ) -> list[tuple[str, datetime]]:
        """``(scene id, time)`` of the rows stored ``ok`` for this AOI and detector version
        against another reference than ``reference_id`` (or an unknown one), oldest first."""
        rows = self._db.execute(
            "SELECT scene_id, datetime FROM observations WHERE aoi = ? AND detector_version = ? "
            "AND status = 'ok' AND reference_id IS NOT ? ORDER BY datetime, scene_id",
            (aoi, detector_version, reference_id),
        )
        return [(r[0], datetime.fromisoformat(r[1])) for r in rows]

    def last_datetime(self, aoi: str, detector_version: str) -> datetime | None:
        """Acquisition time of the newest scene stored ``ok`` for this AOI and version."""
        row = self._db.execute(
            "SELECT MAX(datetime) FROM observations WHERE aoi = ? AND detector_version = ? "
            "AND status = 'ok'",
            (aoi, detector_version),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def detection_rows(self, *, detector_version: str | None = None) -> list[dict[str, object]]:
        """Every stored detection with its observation's time and source, oldest first."""
        sql = (
            "SELECT d.aoi, d.scene_id, o.datetime, d.detector_version, o.source, d.n, d.kind, "
            "d.row, d.col, d.lon, d.lat, d.length_m, d.width_m, d.heading_deg, d.score, "
            "d.geometry_wkt, d.method, COALESCE(x.simulated, 0) AS simulated FROM detections d "
            "JOIN observations o USING (aoi, scene_id, detector_version) "
            "LEFT JOIN observation_extras x USING (aoi, scene_id, detector_version)"
        )
        filters, params = where({"d.detector_version": detector_version})
        cursor = self._db.execute(
            sql + filters + " ORDER BY o.datetime, d.aoi, d.scene_id, d.n", params
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor]

    def detector_versions(self) -> list[str]:
        """Detector versions present in ``observations``, most recently processed last."""
        rows = self._db.execute(
            "SELECT o.detector_version FROM observations o LEFT JOIN observation_extras x "
            "USING (aoi, scene_id, detector_version) GROUP BY o.detector_version "
            "ORDER BY MAX(COALESCE(x.processed_at, '')), o.detector_version"
        )
        return [r[0] for r in rows]

    def write(
        self,
        observation: Observation,
        detections: Sequence[DetectionRow] = (),
        *,
        run_id: str | None = None,
        scene_json: str | None = None,
        zones: Sequence[Observation] = (),
    ) -> bool:
        """Upsert one observation with its detections and zone rows, atomically; return whether
        it was written.

        Keyed by ``(aoi, scene_id, detector_version)``: writing the same key again replaces
        the row and its detections, so a retried or resumed scene never duplicates. A
        ``failed`` observation never replaces an ``ok`` one (two runs at once, one of which
        could not read a scene, lose nothing); it is then not written and False is returned.
        """
        o = observation
        key = key_of(o)
        with self._transaction() as db:
            if o.status == "failed":
                existing = db.execute(
                    "SELECT status FROM observations "
                    "WHERE aoi = ? AND scene_id = ? AND detector_version = ?",
                    key,
                ).fetchone()
                if existing is not None and existing[0] == "ok":
                    return False
            db.execute(
                insert_sql("observations", OBSERVATION_COLUMNS, or_replace=True),
                observation_values(o),
            )
            db.execute(
                insert_sql("observation_extras", EXTRAS_COLUMNS, or_replace=True),
                extras_values(o, run_id=run_id, processed_at=_now(), scene_json=scene_json),
            )
            for table in ("detections", "zone_observations"):
                db.execute(
                    f"DELETE FROM {table} WHERE aoi = ? AND scene_id = ? AND detector_version = ?",
                    key,
                )
            db.executemany(
                insert_sql("zone_observations", ZONE_COLUMNS),
                [zone_values(key, z) for z in zones],
            )
            db.executemany(
                insert_sql("detections", DETECTION_COLUMNS),
                [detection_values(key, n, d) for n, d in enumerate(detections)],
            )
        return True

    def observations(
        self, *, aoi: str | None = None, detector_version: str | None = None
    ) -> list[Observation]:
        """Stored observations, oldest first, optionally for one AOI and detector version."""
        filters, params = where({"o.aoi": aoi, "o.detector_version": detector_version})
        rows = self._db.execute(
            f"SELECT {OBSERVATION_SELECT} FROM observations o "
            "LEFT JOIN observation_extras x USING (aoi, scene_id, detector_version)"
            + filters
            + " ORDER BY o.datetime, o.aoi, o.scene_id",
            params,
        )
        return [observation_from_row(r) for r in rows]

    def zone_observations(self, *, detector_version: str | None = None) -> list[Observation]:
        """Stored zone rows as observations (``zone`` set), oldest first.

        Each carries its AOI row's time, source, status, reference and flags, with the zone's
        own railcar figures and measured fraction.
        """
        filters, params = where({"z.detector_version": detector_version})
        rows = self._db.execute(
            f"SELECT {OBSERVATION_SELECT}, {ZONE_SELECT} FROM zone_observations z "
            "JOIN observations o USING (aoi, scene_id, detector_version) "
            "LEFT JOIN observation_extras x USING (aoi, scene_id, detector_version)"
            + filters
            + " ORDER BY o.datetime, o.aoi, z.zone, o.scene_id",
            params,
        )
        return [zone_from_row(r) for r in rows]

    def start_run(self, command: str, parameters: dict[str, object], detector_version: str) -> str:
        """Record the start of a run and return its id."""
        run_id = uuid.uuid4().hex
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (run_id, started_at, command, parameters_json, "
                "detector_version, package_version, host) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    _now(),
                    command,
                    json.dumps(parameters, default=str),
                    detector_version,
                    __version__,
                    socket.gethostname(),
                ),
            )
        return run_id

    def finish_run(self, run_id: str, *, n_ok: int, n_failed: int, n_skipped: int) -> None:
        """Record the end of a run with its counts."""
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, n_ok = ?, n_failed = ?, n_skipped = ? "
                "WHERE run_id = ?",
                (_now(), n_ok, n_failed, n_skipped, run_id),
            )

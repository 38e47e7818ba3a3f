"""Checks made before a run starts, so that bad input exits 2 with one line and writes
nothing (no store, no Prefect run); and the run's logging set-up."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import RasonWatchWarning, StoreError
from pipeline.geo.aoi import resolve_aois
from pipeline.geo.safe_paths import check_output_dir
from pipeline.run.options import DB_NAME
from pipeline.sources import open_source
from pipeline.sources.local import LocalSource
from pipeline.store.results import Store


def quiet_logs(*, progress: bool) -> None:
    """Route warnings into logging (one formatted line each) and keep task chatter down.

    With progress bars on, Prefect's per-task "Finished in state Completed()" lines would
    bury the bars; the flow logs its own readable progress instead. Call it after prefect
    is imported (importing it configures logging).
    """
    logging.captureWarnings(True)
    warnings.simplefilter("default", RasonWatchWarning)
    if progress:
        logging.getLogger("prefect.task_runs").setLevel(logging.WARNING)


def check_inputs(source: str, aois: list[str], db: Path | None, data_dir: Path) -> None:
    """Fail fast on a bad source, AOI, store or data folder (nothing written).

    Raises:
        SourceError: the source is unknown or its path does not exist.
        InvalidAoiError: an AOI is unknown or invalid.
        StoreError: the store's folder is missing, or it is not a usable store.
        StoreVersionError: the store is from a newer rason-watch.
        OutputPathError: the data folder or the store's folder cannot be written.
    """
    settings = Settings(data_dir=data_dir)
    opened = open_source(source, settings)
    resolve_aois(aois, settings.aoi_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"--data-dir {str(data_dir)!r} is not a folder")
    check_output_dir(data_dir, what="--data-dir")
    if db is not None:
        check_output_dir(db.parent, what=f"the folder of --db {str(db)!r},")
    target = default_db(db, data_dir)
    if target.exists():
        Store(target).close()  # refuses a newer schema before anything runs
    elif db is not None and not db.parent.is_dir():
        raise StoreError(f"cannot create store {str(db)!r}: folder does not exist")
    if isinstance(opened, LocalSource):
        opened.items()  # an empty or unreadable catalog fails here, not after a store exists


def default_db(db: Path | None, data_dir: Path) -> Path:
    """``--db``, or ``<data-dir>/rasonwatch.sqlite``."""
    return db if db is not None else data_dir / DB_NAME

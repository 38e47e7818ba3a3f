"""What ``rasonwatch backfill | run | serve | cache | export`` do, behind the typer layer.

Inputs are validated here, before any flow starts, so that bad input exits 2 with one line
and writes nothing (no store, no Prefect run). Logs and progress go to stderr; the caller
prints the returned summary (as JSON with ``--json``).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import RasonWatchError, RasonWatchWarning, StoreError
from pipeline.geo.aoi import resolve_aois
from pipeline.geo.dates import parse_date, parse_period, parse_range
from pipeline.geo.safe_paths import check_output_dir
from pipeline.sources import open_source
from pipeline.sources.local import LocalSource
from pipeline.store.results import Store

log = logging.getLogger(__name__)


class InvalidOptionError(RasonWatchError, ValueError):
    """A command-line option has a value that cannot work (a cron string, a size...)."""


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


def _check_inputs(source: str, aois: list[str], db: Path | None, data_dir: Path) -> None:
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


def _warn_if_dask_without_server(dask_address: str | None) -> None:
    """Dask workers report task runs to ``PREFECT_API_URL``; without one, each starts its own."""
    from prefect.settings import PREFECT_API_URL

    if dask_address and not PREFECT_API_URL.value():
        log.warning(
            "--dask-address without PREFECT_API_URL: each Dask worker will start a temporary "
            "Prefect server of its own and its task runs will not show in this run; set "
            "PREFECT_API_URL to a Prefect server the workers can reach (docs/OPERATIONS.md)"
        )


def _flow_options(concurrency: int, batch_size: int) -> None:
    if concurrency < 1 or batch_size < 1:
        raise InvalidOptionError("--concurrency and --batch-size must be at least 1")


def _ready_flow(
    name: str,
    source: str,
    aois: list[str],
    db: Path | None,
    data_dir: Path,
    dask_address: str | None,
    concurrency: int,
    batch_size: int,
    progress: bool,
) -> Any:
    """Check the inputs shared by every flow command, then the flow on its task runner.

    Raises:
        RasonWatchError: bad input (see :func:`_check_inputs`).
    """
    _flow_options(concurrency, batch_size)
    _check_inputs(source, aois, db, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    from pipeline import flows  # imports prefect: only once the input is known to be good

    quiet_logs(progress=progress)
    _warn_if_dask_without_server(dask_address)
    chosen = getattr(flows, name)
    if dask_address:
        return flows.on_dask(chosen, dask_address)
    return flows.with_threads(chosen, concurrency)


def backfill(
    *,
    start: str,
    end: str,
    aois: list[str],
    source: str,
    db: Path | None,
    data_dir: Path,
    dask_address: str | None,
    use_cache: bool,
    concurrency: int,
    batch_size: int,
    progress: bool,
    reference_period: str | None = None,
) -> dict[str, Any]:
    """Validate, then run the backfill flow (inline threads or on a Dask cluster).

    Raises:
        RasonWatchError: bad input (see :func:`_check_inputs`), or the store failed.
    """
    first, last = parse_range(start, end)
    period = parse_period(reference_period) if reference_period else None
    chosen = _ready_flow(
        "backfill_flow", source, aois, db, data_dir, dask_address, concurrency, batch_size, progress
    )
    result: dict[str, Any] = chosen(
        start=first,
        end=last,
        aois=aois or None,
        source=source,
        db=str(db) if db else None,
        data_dir=str(data_dir),
        use_cache=use_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        show_progress=progress,
        reference_period=period,
    )
    return result


def nightly(
    *,
    aois: list[str],
    source: str,
    db: Path | None,
    data_dir: Path,
    until: str | None,
    overlap_days: int,
    dask_address: str | None,
    use_cache: bool,
    concurrency: int,
    batch_size: int,
    progress: bool,
    reference_period: str | None = None,
) -> dict[str, Any]:
    """Validate, then run the nightly flow once, now.

    Raises:
        RasonWatchError: bad input, or the store failed.
    """
    last = parse_date(until, what="--until") if until else None
    period = parse_period(reference_period) if reference_period else None
    if overlap_days < 0:
        raise InvalidOptionError("--overlap-days must not be negative")
    chosen = _ready_flow(
        "nightly_flow", source, aois, db, data_dir, dask_address, concurrency, batch_size, progress
    )
    result: dict[str, Any] = chosen(
        source=source,
        db=str(db) if db else None,
        data_dir=str(data_dir),
        aois=aois or None,
        until=last,
        overlap_days=overlap_days,
        use_cache=use_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        show_progress=progress,
        reference_period=period,
    )
    return result


def check_cron(cron: str) -> str:
    """The cron string, validated the way Prefect will read it.

    Raises:
        InvalidOptionError: not a valid 5-field cron expression.
    """
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron, timezone="UTC")
    except ValueError as exc:
        reason = " ".join(str(exc).split())
        raise InvalidOptionError(
            f"--cron {cron!r} is not a cron expression ({reason}); e.g. '0 3 * * *'"
        ) from None
    return cron


def serve(
    *,
    cron: str,
    aois: list[str],
    source: str,
    db: Path | None,
    data_dir: Path,
    overlap_days: int,
    name: str,
    reference_period: str | None = None,
) -> None:
    """Validate, then serve the nightly deployment until interrupted.

    Raises:
        RasonWatchError: bad input.
    """
    check_cron(cron)
    period = parse_period(reference_period) if reference_period else None
    _check_inputs(source, aois, db, data_dir)
    from pipeline import flows

    quiet_logs(progress=False)
    parameters: dict[str, Any] = {
        "source": source,
        "db": str(db.resolve()) if db else None,
        "data_dir": str(data_dir.resolve()),
        "aois": aois or None,
        "overlap_days": overlap_days,
        "reference_period": period,
    }
    flows.serve_nightly(cron=cron, parameters=parameters, name=name)


def cache(
    *, data_dir: Path, prune: bool, older_than_days: float | None, max_mb: float | None
) -> dict[str, Any]:
    """Report the chip cache's size, pruning it first when asked.

    Raises:
        InvalidOptionError: a limit without ``--prune``, or a negative limit.
    """
    from pipeline.read.chip_cache import ChipCache

    if not prune and (older_than_days is not None or max_mb is not None):
        raise InvalidOptionError("--older-than and --max-mb only apply with --prune")
    if (older_than_days or 0) < 0 or (max_mb or 0) < 0:
        raise InvalidOptionError("--older-than and --max-mb must not be negative")
    chips = ChipCache(data_dir / "chips")
    report: dict[str, Any] = {}
    if prune:
        files, freed = chips.prune(
            older_than_s=None if older_than_days is None else older_than_days * 86400,
            max_bytes=None if max_mb is None else int(max_mb * 1e6),
        )
        report["pruned"] = {"files": files, "bytes": freed}
    report.update(chips.stats().as_dict())
    return report


def export(*, db: Path, out: Path, detector_version: str | None) -> dict[str, object]:
    """Export the store (see :func:`pipeline.store.export.export_store`).

    Raises:
        StoreError: the store does not exist or cannot be read.
    """
    from pipeline.store.export import export_store

    return export_store(db, out, detector_version=detector_version).as_dict()


def default_db(db: Path | None, data_dir: Path) -> Path:
    """``--db``, or ``<data-dir>/rasonwatch.sqlite``."""
    from pipeline.run.runner import DB_NAME

    return db if db is not None else data_dir / DB_NAME

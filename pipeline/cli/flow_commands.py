"""What ``rasonwatch backfill | run | serve | cache | export`` do, behind the typer layer.

Inputs are validated here, before any flow starts, so that bad input exits 2 with one line
and writes nothing (no store, no Prefect run). Logs and progress go to stderr; the caller
prints the returned summary (as JSON with ``--json``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.errors import InvalidOptionError
from pipeline.geo.dates import parse_date, parse_range
from pipeline.run.checks import check_inputs, quiet_logs
from pipeline.run.options import RunOptions

log = logging.getLogger(__name__)


def _ready_flow(name: str, options: RunOptions, dask_address: str | None, *, progress: bool) -> Any:
    """Check the inputs shared by every flow command, then the flow on its task runner.

    Raises:
        RasonWatchError: bad input (see :func:`_check_inputs`).
    """
    if options.concurrency < 1 or options.batch_size < 1:
        raise InvalidOptionError("--concurrency and --batch-size must be at least 1")
    data_dir = Path(options.data_dir)
    check_inputs(options.source, list(options.aois), _db(options), data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    from pipeline import flows  # imports prefect: only once the input is known to be good

    quiet_logs(progress=progress)
    flows.warn_if_dask_without_server(dask_address)
    chosen = getattr(flows, name)
    if dask_address:
        return flows.on_dask(chosen, dask_address)
    return flows.with_threads(chosen, options.concurrency)


def _db(options: RunOptions) -> Path | None:
    return Path(options.db) if options.db else None


def backfill(
    *, start: str, end: str, options: RunOptions, dask_address: str | None = None
) -> dict[str, Any]:
    """Validate, then run the backfill flow (inline threads or on a Dask cluster).

    Raises:
        RasonWatchError: bad input (see :func:`_check_inputs`), or the store failed.
    """
    first, last = parse_range(start, end)
    chosen = _ready_flow("backfill_flow", options, dask_address, progress=options.show_progress)
    result: dict[str, Any] = chosen(start=first, end=last, **options.as_parameters())
    return result


def nightly(
    *,
    options: RunOptions,
    until: str | None,
    overlap_days: int,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Validate, then run the nightly flow once, now.

    Raises:
        RasonWatchError: bad input, or the store failed.
    """
    last = parse_date(until, what="--until") if until else None
    if overlap_days < 0:
        raise InvalidOptionError("--overlap-days must not be negative")
    chosen = _ready_flow("nightly_flow", options, dask_address, progress=options.show_progress)
    result: dict[str, Any] = chosen(
        until=last, overlap_days=overlap_days, **options.as_parameters()
    )
    return result


def serve(*, cron: str, options: RunOptions, overlap_days: int, name: str) -> None:
    """Validate, then serve the nightly deployment until interrupted.

    Raises:
        RasonWatchError: bad input.
    """
    check_inputs(options.source, list(options.aois), _db(options), Path(options.data_dir))
    from pipeline import flows

    flows.check_cron(cron)
    quiet_logs(progress=False)
    parameters = {
        **options.as_parameters(),
        "db": str(Path(options.db).resolve()) if options.db else None,
        "data_dir": str(Path(options.data_dir).resolve()),
        "overlap_days": overlap_days,
    }
    for key in ("show_progress", "concurrency", "batch_size", "use_cache"):
        parameters.pop(key)  # the deployment runs with the flow's defaults
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

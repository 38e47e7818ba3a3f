"""The Prefect flows: the backfill and the nightly run.

Each flow builds the run's :class:`~pipeline.run.job.Job` once from its parameters (plain
values, so that a deployment can carry them as JSON), runs
:func:`pipeline.run.runner.run_all` with the Prefect tasks as its steps
(:func:`pipeline.flows.tasks.prefect_steps`), then publishes the summary and the verdicts as
artifacts. The flow itself writes the store (tasks return results), so there is a single
writer whatever runs the tasks: threads by default, or an existing Dask cluster through
prefect-dask's ``DaskTaskRunner``.

No ``from __future__ import annotations`` here: Prefect validates flow parameters against
the annotations, and a served flow reaches its run process by value (cloudpickle), where
string annotations such as ``date | None`` could no longer be resolved.
"""

from datetime import date
from typing import Any, ParamSpec, TypeVar, cast

from prefect import Flow, flow
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from pipeline.flows import tasks
from pipeline.flows.artifacts import publish_summary, publish_verdicts
from pipeline.run.job import Job, nightly_window, utc_today
from pipeline.run.options import BATCH_SIZE, CONCURRENCY, LOOKBACK_DAYS, OVERLAP_DAYS, RunOptions
from pipeline.run.runner import run_all
from pipeline.run.summary import summarise
from pipeline.sources import DEFAULT_SOURCE
from pipeline.store.results import Store

P = ParamSpec("P")
R = TypeVar("R")
_DEFAULT_DATA_DIR = RunOptions.data_dir


def _threads(concurrency: int) -> TaskRunner[PrefectFuture[Any]]:
    """One thread per batch in progress (the flow keeps one more batch queued)."""
    return cast(TaskRunner[PrefectFuture[Any]], ThreadPoolTaskRunner(max_workers=concurrency))


def _run(job: Job, command: str, windows: dict[str, tuple[date, date]]) -> dict[str, Any]:
    """Run every AOI over its window, then publish the summary and verdict artifacts."""
    job.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(job.db) as store:
        parameters = {**job.parameters(windows), "prefect_flow_run_id": str(flow_run.id)}
        run_id, tallies = run_all(job, tasks.prefect_steps(), store, command, windows, parameters)
    summary = summarise(
        command, tallies, run_id=run_id, detector_version=job.detector_version, db=str(job.db)
    )
    publish_summary(command, summary)
    publish_verdicts(job.db, command)
    return summary


@flow(
    name="rasonwatch-backfill",
    flow_run_name="backfill {start}..{end}",
    task_runner=_threads(CONCURRENCY),
)
def backfill_flow(
    start: date,
    end: date,
    aois: list[str] | None = None,
    source: str = DEFAULT_SOURCE,
    db: str | None = None,
    data_dir: str = _DEFAULT_DATA_DIR,
    use_cache: bool = True,
    concurrency: int = CONCURRENCY,
    batch_size: int = BATCH_SIZE,
    show_progress: bool = False,
    reference_period: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """Process every scene over the AOIs on ``start..end`` not already stored ``ok``
    against the AOI's reference (parameters: :class:`~pipeline.run.job.RunOptions`).

    Raises:
        InvalidAoiError: an AOI is unknown or invalid.
        StoreError: the store cannot be opened or is from a newer version.
    """
    job = Job.create(RunOptions.from_parameters(locals()))
    return _run(job, "backfill", {aoi.id: (start, end) for aoi in job.aois})


@flow(name="rasonwatch-nightly", task_runner=_threads(CONCURRENCY))
def nightly_flow(
    source: str = DEFAULT_SOURCE,
    db: str | None = None,
    data_dir: str = _DEFAULT_DATA_DIR,
    aois: list[str] | None = None,
    until: date | None = None,
    overlap_days: int = OVERLAP_DAYS,
    lookback_days: int = LOOKBACK_DAYS,
    use_cache: bool = True,
    concurrency: int = CONCURRENCY,
    batch_size: int = BATCH_SIZE,
    show_progress: bool = False,
    reference_period: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """Process what is new since the last processed scene of each AOI, with an overlap
    (``until``: last day, default today UTC; ``overlap_days`` re-searched before the last
    processed scene; ``lookback_days`` for an AOI with nothing processed yet; the others:
    :class:`~pipeline.run.job.RunOptions`).

    Raises:
        InvalidAoiError: an AOI is unknown or invalid.
        StoreError: the store cannot be opened or is from a newer version.
    """
    job = Job.create(RunOptions.from_parameters(locals()))
    last_day = until or utc_today()
    job.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(job.db) as store:
        windows = {
            aoi.id: nightly_window(
                store.last_datetime(aoi.id, job.detector_version),
                last_day,
                overlap_days=overlap_days,
                lookback_days=lookback_days,
            )
            for aoi in job.aois
        }
    return _run(job, "run", windows)


def on_dask(chosen: Flow[P, R], address: str) -> Flow[P, R]:
    """``chosen`` with its tasks sent to the Dask scheduler at ``address``."""
    from prefect_dask.task_runners import DaskTaskRunner

    runner = cast(TaskRunner[PrefectFuture[Any]], DaskTaskRunner(address=address))
    return chosen.with_options(task_runner=runner)


def with_threads(chosen: Flow[P, R], concurrency: int) -> Flow[P, R]:
    """``chosen`` with a thread pool sized for ``concurrency`` batches (read + analyse)."""
    return chosen.with_options(task_runner=_threads(concurrency))

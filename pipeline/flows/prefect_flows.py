"""Prefect flows: the backfill, the nightly run, and their deployment. The only prefect import.

Thin by design: each task wraps a call into :mod:`pipeline.run.scene_work` (survey, build a
reference, process scenes) or a source search, and only failures of the network step are
retried. The run itself (for each AOI: search, reference, plan, process, record) is
:func:`pipeline.run.runner.run_all`, plain Python over :class:`PrefectSteps`, which makes
each step one of these tasks; the flows add the summary artifacts. The flow itself writes
the store (tasks return results), so there is a single writer whatever runs the tasks:
threads by default, or an existing Dask cluster through prefect-dask's ``DaskTaskRunner``.

Scenes go to tasks in batches (:data:`pipeline.run.runner.BATCH_SIZE`): a Prefect task
costs ~15 ms of orchestration on 2 cores, a scene ~0.1-0.2 s of work. A batch is read and
analysed in one task (``process-scenes``): its read raises for a retry before anything is
analysed, so the analysis is never retried, and the chips never leave the task. As two
tasks, every chip would ride in a Prefect future, and those sit in a reference cycle
(future <-> done-callback) that only a full garbage collection frees (~0.2 s each), so
memory grew with the range; on Dask, each batch's chips (~60 MB) would also cross workers.

No ``from __future__ import annotations`` here: Prefect validates flow parameters against
the annotations, and a served flow reaches its run process by value (cloudpickle), where
string annotations such as ``date | None`` could no longer be resolved.
"""

from datetime import date
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar, cast

from prefect import Flow, Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.schedules import Cron
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.types.entrypoint import EntrypointType

from pipeline.detect.reference import Reference
from pipeline.errors import (
    InvalidDateRangeError,
    RasonWatchError,
    SceneMetadataError,
    SourceError,
)
from pipeline.run import runner, scene_work
from pipeline.run.runner import Job
from pipeline.run.scene_work import ReadSpec, SceneOutcome, Survey
from pipeline.run.summary import markdown, summarise
from pipeline.sources import DEFAULT_SOURCE
from pipeline.store.results import Store
from pipeline.types import Aoi, Scene

#: Name of the nightly deployment ``rasonwatch serve`` creates.
DEPLOYMENT_NAME: Final = "nightly"
#: 03:00 UTC every day.
DEFAULT_CRON: Final = "0 3 * * *"
#: Seconds before the retries of a read task (the reader itself already retried each band).
READ_RETRY_DELAYS: Final[list[float]] = [10.0, 60.0]
#: Seconds before the retries of a search.
SEARCH_RETRY_DELAYS: Final[list[float]] = [5.0, 30.0]
_DEFAULT_DATA_DIR: Final = "data"
P = ParamSpec("P")
R = TypeVar("R")


def _threads(concurrency: int) -> TaskRunner[PrefectFuture[Any]]:
    """One thread per batch in progress (the flow keeps one more batch queued)."""
    return cast(TaskRunner[PrefectFuture[Any]], ThreadPoolTaskRunner(max_workers=concurrency))


def _final_attempt() -> bool:
    """Whether the running task has no retry left."""
    context = TaskRunContext.get()
    if context is None:
        return True
    return context.task_run.run_count > (context.task.retries or 0)


def _retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a read task only when it failed for a reason that may pass."""
    try:
        state.result()
    except Exception as exc:
        return scene_work.is_transient(exc)
    return False


def _retry_search(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a search when the source failed (unreachable...), not when the request is wrong."""
    try:
        state.result()
    except Exception as exc:
        wrong = isinstance(exc, InvalidDateRangeError | SceneMetadataError)
        return isinstance(exc, SourceError) and not wrong
    return False


@task(
    name="search-scenes",
    task_run_name="search {aoi.id} {start}..{end}",
    retries=2,
    retry_delay_seconds=SEARCH_RETRY_DELAYS,
    retry_condition_fn=_retry_search,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def search_scenes(source: str, aoi: Aoi, start: date, end: date) -> list[Scene]:
    """Scenes over ``aoi`` on ``start..end`` (network)."""
    return scene_work.search(source, aoi, start, end)


@task(name="survey-chips", cache_policy=NO_CACHE, persist_result=False)
def survey_chips(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> Survey:
    """Read (and cache) chips, return their clear fractions and failures (network).

    Not retried as a task: the flow surveys again only the scenes that failed for now
    (:func:`pipeline.run.runner.survey_window`), instead of re-reading a whole batch.
    """
    return scene_work.survey_batch(scenes, aoi, spec)


@task(
    name="build-reference",
    retries=1,
    retry_delay_seconds=READ_RETRY_DELAYS[:1],
    retry_condition_fn=_retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def build_reference(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> Reference | None:
    """Read the chosen chips (cached by the survey) and composite the reference."""
    return scene_work.build_reference(scenes, aoi, spec)


@task(name="share-reference", cache_policy=NO_CACHE, persist_result=False)
def share_reference(reference: Reference | None) -> Reference | None:
    """Hand the reference to the task runner once: Dask workers then fetch it from each
    other, instead of receiving it again with every batch."""
    return reference


@task(
    name="process-scenes",
    retries=2,
    retry_delay_seconds=READ_RETRY_DELAYS,
    retry_condition_fn=_retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def process_scenes(
    scenes: list[Scene],
    aoi: Aoi,
    spec: ReadSpec,
    reference: Reference | None,
    reference_note: str | None,
) -> list[SceneOutcome]:
    """Read a batch of chips (network), then analyse them (pure).

    Only the read can trigger a retry: it raises before anything is analysed, so the
    analysis never runs twice. The chips stay inside the task, so neither Prefect's
    futures nor Dask carry them: only the small outcomes come back.
    """
    return scene_work.process_batch(
        scenes, aoi, spec, reference, reference_note, final=_final_attempt()
    )


class PrefectSteps:
    """The steps of :func:`pipeline.run.runner.run_all` as this module's Prefect tasks.

    The tasks are looked up when called, so a test may swap one for a variant.
    """

    def __init__(self, job: Job) -> None:
        self.source = job.source
        self.spec = job.read_spec

    @property
    def log(self) -> runner.Logger:
        """The flow run's logger (shows in the Prefect UI)."""
        return get_run_logger()

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """One ``search-scenes`` task, waited for."""
        return search_scenes(self.source, aoi, start, end)

    def survey(self, scenes: list[Scene], aoi: Aoi) -> PrefectFuture[Survey]:
        """One ``survey-chips`` task, submitted."""
        return survey_chips.submit(scenes, aoi, self.spec)

    def build_reference(self, scenes: list[Scene], aoi: Aoi) -> Reference | None:
        """One ``build-reference`` task, waited for."""
        return build_reference(scenes, aoi, self.spec)

    def share(self, reference: Reference | None) -> object:
        """One ``share-reference`` task, submitted: its future goes to every batch."""
        return share_reference.submit(reference)

    def process(
        self, scenes: list[Scene], aoi: Aoi, shared: object, note: str
    ) -> PrefectFuture[list[SceneOutcome]]:
        """One ``process-scenes`` task, submitted (Prefect resolves ``shared`` first)."""
        future: PrefectFuture[list[SceneOutcome]]
        future = process_scenes.submit(scenes, aoi, self.spec, shared, note)  # type: ignore[call-overload]
        return future


def _run(job: Job, command: str, windows: dict[str, tuple[date, date]]) -> dict[str, Any]:
    """Run every AOI over its window, then publish the summary artifacts."""
    job.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(job.db) as store:
        parameters = {**job.parameters(windows), "prefect_flow_run_id": str(flow_run.id)}
        run_id, tallies = runner.run_all(
            job, PrefectSteps(job), store, command, windows, parameters
        )
    summary = summarise(
        command, tallies, run_id=run_id, detector_version=job.detector_version, db=str(job.db)
    )
    create_table_artifact(
        table=summary["aois"],
        key=f"rasonwatch-{command}",
        description=f"rasonwatch {command}: scenes per AOI" + _simulated(summary),
    )
    create_markdown_artifact(
        markdown=markdown(summary),
        key=f"rasonwatch-{command}-summary",
        description=f"rasonwatch {command} summary" + _simulated(summary),
    )
    _publish_verdicts(job.db, command)
    return summary


def _publish_verdicts(db: Path, command: str) -> None:
    """Evaluate the seed claims on the store and publish the verdicts as artifacts.

    The claims are a reading of the store, not part of processing: a claims file that
    cannot be evaluated is logged and the run still succeeds.
    """
    from pipeline.claims.evaluate import evaluate_store
    from pipeline.claims.table import verdict_markdown, verdict_rows

    try:
        evaluation = evaluate_store(db)
    except RasonWatchError as exc:
        get_run_logger().warning("claims not evaluated: %s", exc)
        return
    simulated = " (SIMULATED)" if any(v.simulated for v in evaluation.verdicts) else ""
    create_table_artifact(
        table=verdict_rows(evaluation.verdicts),
        key="rasonwatch-verdicts",
        description=f"rasonwatch {command}: claim verdicts" + simulated,
    )
    create_markdown_artifact(
        markdown=verdict_markdown(evaluation.verdicts),
        key="rasonwatch-verdicts-summary",
        description=f"rasonwatch {command}: verdicts summary" + simulated,
    )


def _simulated(summary: dict[str, Any]) -> str:
    return " (SIMULATED)" if summary["simulated"] else ""


@flow(
    name="rasonwatch-backfill",
    flow_run_name="backfill {start}..{end}",
    task_runner=_threads(runner.CONCURRENCY),
)
def backfill_flow(
    start: date,
    end: date,
    aois: list[str] | None = None,
    source: str = DEFAULT_SOURCE,
    db: str | None = None,
    data_dir: str = _DEFAULT_DATA_DIR,
    use_cache: bool = True,
    concurrency: int = runner.CONCURRENCY,
    batch_size: int = runner.BATCH_SIZE,
    show_progress: bool = False,
    reference_period: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """Process every scene over the AOIs on ``start..end`` not already stored ``ok``
    against the AOI's reference.

    Args:
        start: first day (UTC).
        end: last day (UTC, inclusive).
        aois: AOI ids or GeoJSON paths; every AOI in ``aoi/`` when empty.
        source: the ``--source`` value.
        db: the results store (default ``<data_dir>/rasonwatch.sqlite``).
        data_dir: output folder (chip cache, references).
        use_cache: use the chip cache.
        concurrency: batches in flight at once.
        batch_size: scenes per task.
        show_progress: draw progress bars on stderr.
        reference_period: the scenes each AOI's reference is built from (default
            :data:`pipeline.run.runner.DEFAULT_REFERENCE_PERIOD`).

    Raises:
        InvalidAoiError: an AOI is unknown or invalid.
        StoreError: the store cannot be opened or is from a newer version.
    """
    job = Job.create(
        source=source,
        db=db,
        data_dir=data_dir,
        aois=aois,
        use_cache=use_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        show_progress=show_progress,
        reference_period=reference_period,
    )
    return _run(job, "backfill", {aoi.id: (start, end) for aoi in job.aois})


@flow(
    name="rasonwatch-nightly",
    task_runner=_threads(runner.CONCURRENCY),
)
def nightly_flow(
    source: str = DEFAULT_SOURCE,
    db: str | None = None,
    data_dir: str = _DEFAULT_DATA_DIR,
    aois: list[str] | None = None,
    until: date | None = None,
    overlap_days: int = runner.OVERLAP_DAYS,
    lookback_days: int = runner.LOOKBACK_DAYS,
    use_cache: bool = True,
    concurrency: int = runner.CONCURRENCY,
    batch_size: int = runner.BATCH_SIZE,
    show_progress: bool = False,
    reference_period: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """Process what is new since the last processed scene of each AOI, with an overlap.

    Args:
        source: the ``--source`` value.
        db: the results store (default ``<data_dir>/rasonwatch.sqlite``).
        data_dir: output folder.
        aois: AOI ids or paths; every AOI in ``aoi/`` when empty.
        until: last day to process (default: today, UTC).
        overlap_days: days re-searched before the last processed scene (late arrivals).
        lookback_days: days searched for an AOI with nothing processed yet.
        use_cache: use the chip cache.
        concurrency: batches in flight at once.
        batch_size: scenes per task.
        show_progress: draw progress bars on stderr.
        reference_period: the scenes each AOI's reference is built from (default
            :data:`pipeline.run.runner.DEFAULT_REFERENCE_PERIOD`).

    Raises:
        InvalidAoiError: an AOI is unknown or invalid.
        StoreError: the store cannot be opened or is from a newer version.
    """
    job = Job.create(
        source=source,
        db=db,
        data_dir=data_dir,
        aois=aois,
        use_cache=use_cache,
        concurrency=concurrency,
        batch_size=batch_size,
        show_progress=show_progress,
        reference_period=reference_period,
    )
    last_day = until or runner.utc_today()
    job.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(job.db) as store:
        windows = {
            aoi.id: runner.nightly_window(
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


def serve_nightly(*, cron: str, parameters: dict[str, Any], name: str = DEPLOYMENT_NAME) -> None:
    """Serve :func:`nightly_flow` as a deployment on ``cron`` (UTC) until interrupted.

    Paths in ``parameters`` should be absolute: the runs start from the runner's folder.
    """
    for key in ("db", "data_dir"):
        if parameters.get(key):
            parameters[key] = str(Path(parameters[key]).resolve())
    nightly_flow.serve(
        name=name,
        schedule=Cron(cron, timezone="UTC"),
        parameters=parameters,
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="rason-watch nightly: new Sentinel-2 scenes over every AOI (UTC cron).",
        tags=["rasonwatch"],
    )

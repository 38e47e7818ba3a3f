"""The run's steps as Prefect tasks: :func:`prefect_steps` hands them to the run.

Each task is one call into :mod:`pipeline.run` (search, survey, build a reference, process a
batch of scenes); only failures of the network step are retried. The run itself
(:func:`pipeline.run.runner.run_all`) decides when to call them, through
:class:`~pipeline.run.steps.Steps`, which holds the tasks themselves: no forwarding layer.

Scenes go to tasks in batches (:data:`pipeline.run.job.BATCH_SIZE`): a Prefect task costs
~15 ms of orchestration on 2 cores, a scene ~0.1-0.2 s of work. A batch is read and analysed
in one task (``process-scenes``): its read raises for a retry before anything is analysed,
so the analysis is never retried, and the chips never leave the task. As two tasks, every
chip would ride in a Prefect future, and those sit in a reference cycle (future <->
done-callback) that only a full garbage collection frees (~0.2 s each), so memory grew with
the range; on Dask, each batch's chips (~60 MB) would also cross workers.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext

from pipeline.detect.reference import Reference
from pipeline.errors import InvalidDateRangeError, SceneMetadataError, SourceError
from pipeline.run import analysis, scene_work
from pipeline.run.analysis import Instrument, SceneOutcome, SceneTask
from pipeline.run.scene_work import ReadSpec, Survey
from pipeline.run.steps import Steps
from pipeline.types import Aoi, Scene

#: Seconds before the retries of a read task (the reader itself already retried each band).
READ_RETRY_DELAYS: Final[list[float]] = [10.0, 60.0]
#: Seconds before the retries of a search.
SEARCH_RETRY_DELAYS: Final[list[float]] = [5.0, 30.0]


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
def search_scenes(spec: ReadSpec, aoi: Aoi, start: date, end: date) -> list[Scene]:
    """Scenes over ``aoi`` on ``start..end`` (network)."""
    return scene_work.search(spec, aoi, start, end)


@task(name="survey-chips", cache_policy=NO_CACHE, persist_result=False)
def survey_chips(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> Survey:
    """Read (and cache) chips, return their clear fractions and failures (network).

    Not retried as a task: the run surveys again only the scenes that failed for now
    (:func:`pipeline.run.reference_choice.survey_window`), instead of re-reading a batch.
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


@task(name="share-references", cache_policy=NO_CACHE, persist_result=False)
def share_instruments(instruments: Mapping[str, Instrument]) -> Mapping[str, Instrument]:
    """Hand the AOIs' references to the task runner once: Dask workers then fetch them from
    each other, instead of receiving them again with every batch."""
    return instruments


@task(
    name="process-scenes",
    retries=2,
    retry_delay_seconds=READ_RETRY_DELAYS,
    retry_condition_fn=_retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def process_scenes(
    tasks: list[SceneTask], spec: ReadSpec, instruments: Mapping[str, Instrument]
) -> list[SceneOutcome]:
    """Read a batch of scenes for all their AOIs (network), then analyse them (pure).

    Only the read can trigger a retry: it raises before anything is analysed, so the
    analysis never runs twice. The chips stay inside the task, so neither Prefect's
    futures nor Dask carry them: only the small outcomes come back.
    """
    return analysis.process_scenes(tasks, spec, instruments, final=_final_attempt())


def prefect_steps() -> Steps:
    """The run's steps as this module's tasks (looked up now, so a test may swap one)."""
    return Steps(
        search=search_scenes,
        survey=survey_chips.submit,
        build_reference=build_reference,
        share=share_instruments.submit,
        process=process_scenes.submit,
        logger=get_run_logger,
    )

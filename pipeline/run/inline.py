"""The run's steps as plain calls on a thread pool: no Prefect at all.

The same :mod:`pipeline.run.scene_work` and :mod:`pipeline.run.analysis` functions the
Prefect tasks call, on a pool as large as the flow's, without retries (a local archive has
nothing transient). ``rasonwatch bench backfill`` runs a backfill this way to measure what
Prefect costs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from typing import Any

from pipeline.run import analysis, scene_work
from pipeline.run.analysis import Instrument, SceneOutcome, SceneTask
from pipeline.run.scene_work import ReadSpec, Survey
from pipeline.run.steps import Steps
from pipeline.types import Aoi, Scene

log = logging.getLogger(__name__)


def inline_steps(pool: Executor) -> Steps:
    """:class:`~pipeline.run.steps.Steps` whose work runs on ``pool``."""

    def survey(scenes: list[Scene], aoi: Aoi, spec: ReadSpec) -> Future[Survey]:
        return pool.submit(scene_work.survey_batch, scenes, aoi, spec)

    def share(instruments: Mapping[str, Instrument]) -> object:
        return instruments  # threads share memory

    def process(tasks: list[SceneTask], spec: ReadSpec, shared: Any) -> Future[list[SceneOutcome]]:
        return pool.submit(analysis.process_scenes, tasks, spec, shared)

    return Steps(
        search=scene_work.search,
        survey=survey,
        build_reference=scene_work.build_reference,
        share=share,
        process=process,
        logger=lambda: log,
    )

"""From read chips to what the run writes: one :class:`SceneOutcome` per scene and AOI.

Scenes are processed *scene-major*: a :class:`SceneTask` is one scene with every AOI it is
processed for, read in one pass (:func:`pipeline.run.scene_work.read_scene`: each band
file's header is fetched once per scene), then analysed AOI by AOI against that AOI's
:class:`Instrument` (its temporal reference). Analysis is pure and never raises for one bad
scene: every scene and AOI comes back ``ok`` or ``failed`` with a one-line reason.

A read that fails in a way that may pass (a timeout, HTTP 5xx, after the reader's own
retries) is kept aside while the rest of the batch is read and cached; then
:class:`~pipeline.run.scene_work.TransientReadError` is raised so that the task is retried,
and the retry finds the good chips in the cache. On the last attempt (``final=True``) such
scenes come back as failures instead, to be retried by a later run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pipeline.config import BANDS
from pipeline.detect.analyse import analyse_chip, detector_version
from pipeline.detect.reference import Reference
from pipeline.read.pixel_origin import scene_origin
from pipeline.run.scene_work import ChipRead, ReadSpec, TransientReadError, one_line, read_scene
from pipeline.run.stage_timer import stage
from pipeline.sources.summary import scene_summary
from pipeline.types import Aoi, DetectionRow, Observation, Scene


@dataclass(frozen=True, eq=False)
class SceneOutcome:
    """What the run writes for one scene over one AOI."""

    observation: Observation
    """The ``observations`` row (``ok`` or ``failed``)."""
    detections: tuple[DetectionRow, ...] = ()
    """Detections behind it."""
    scene_json: str | None = None
    """Provenance: the scene's metadata, the reference used and the pixels' origin, as JSON."""
    zones: tuple[Observation, ...] = ()
    """Rows per yard zone (rail AOIs), for the ``zone_observations`` table."""


@dataclass(frozen=True, eq=False)
class SceneTask:
    """One scene and the AOIs it is processed for (read together)."""

    scene: Scene
    """The scene."""
    aois: tuple[Aoi, ...]
    """The AOIs, in the run's order."""


@dataclass(frozen=True, eq=False)
class Instrument:
    """What an AOI's numbers are measured with in this run."""

    reference: Reference | None
    """The AOI's temporal reference (None: none could be had; its scenes fail)."""
    note: str
    """How the reference was made, kept with every row's provenance."""


def failed(scene: Scene, aoi: Aoi, reason: str) -> SceneOutcome:
    """A ``failed`` outcome for ``scene`` over ``aoi``."""
    observation = Observation(
        aoi=aoi.id,
        scene_id=scene.id,
        datetime=scene.datetime,
        detector_version=detector_version(),
        source=scene.source,
        status="failed",
        error=" ".join(reason.split())[:500],
        simulated=scene.simulated,
        product_level=scene.level,
    )
    return SceneOutcome(observation, (), _provenance(scene, None))


def _provenance(scene: Scene, reference: str | None, origin: str | None = None) -> str:
    """The scene's metadata, how its reference was made, and the identity of its pixels
    (``origin`` when the read already knows it)."""
    doc = {
        "scene": scene_summary(scene),
        "reference": reference,
        "pixels": origin or scene_origin(scene, BANDS),
    }
    return json.dumps(doc, default=str)


def analyse_read(read: ChipRead, scene: Scene, aoi: Aoi, instrument: Instrument) -> SceneOutcome:
    """Analyse one read chip; a read failure or an analysis error becomes a failed outcome.

    Timed as the ``detect`` stage.
    """
    if read.chip is None:
        return failed(scene, aoi, read.error or "chip was not read")
    reference = instrument.reference
    try:
        with stage("detect"):
            result = analyse_chip(read.chip, scene, aoi, reference=reference)
    except Exception as exc:  # a bug or a pathological chip: record it, carry on
        return failed(scene, aoi, f"analysis failed: {one_line(exc)}")
    observation = replace(result.observation, product_level=scene.level)
    if observation.error is not None:
        observation = replace(observation, error=" ".join(observation.error.split()))
    if observation.status == "ok" and reference is not None:
        observation = replace(observation, reference_id=reference.reference_id)
    provenance = _provenance(scene, instrument.note, read.origin)
    zones = tuple(
        replace(z, reference_id=observation.reference_id, error=observation.error)
        for z in result.zones
    )
    return SceneOutcome(observation, result.detections, provenance, zones)


def process_scenes(
    tasks: Sequence[SceneTask],
    spec: ReadSpec,
    instruments: Mapping[str, Instrument],
    *,
    final: bool = True,
) -> list[SceneOutcome]:
    """Read each task's scene for all its AOIs, then analyse: the outcome of every pair.

    Only the reads can raise, before anything is analysed, so a retry never analyses twice.

    Raises:
        TransientReadError: some reads may pass later and this is not the ``final`` attempt.
    """
    reads = [read_scene(task.scene, task.aois, spec) for task in tasks]
    transient = [
        f"{task.scene.id} over {aoi.id}: {read.error}"
        for task, row in zip(tasks, reads, strict=True)
        for aoi, read in zip(task.aois, row, strict=True)
        if read.transient
    ]
    if transient and not final:
        raise TransientReadError(
            f"{len(transient)} chips of {len(tasks)} scenes failed for now; first: {transient[0]}"
        )
    return [
        analyse_read(read, task.scene, aoi, instruments[aoi.id])
        for task, row in zip(tasks, reads, strict=True)
        for aoi, read in zip(task.aois, row, strict=True)
    ]

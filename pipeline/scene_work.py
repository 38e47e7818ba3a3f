"""The work done per batch of scenes, wherever it runs (a thread, a Dask worker).

Plain Python: :mod:`pipeline.flows` wraps each function in one Prefect task. Reading
(:func:`read_batch`, :func:`survey_batch`) touches the network and may be retried; analysis
(:func:`analyse_batch`) is pure and never raises for one bad scene: every scene comes back
as a :class:`SceneOutcome`, ``ok`` or ``failed`` with a one-line reason.

A read that fails in a way that may pass (a timeout, HTTP 5xx, after the reader's own
retries) is kept aside while the rest of the batch is read and cached; then
:class:`TransientReadError` is raised so that the task is retried, and the retry finds the
good chips in the cache. On the last attempt (``final=True``) such scenes come back as
failures instead, to be retried by a later run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pipeline.analyse import (
    SceneAnalysis,
    analyse_chip,
    clear_pixels,
    detector_version,
    reference_from_chips,
)
from pipeline.chip_cache import ChipCache
from pipeline.cog import classify, read_chip
from pipeline.config import Settings
from pipeline.errors import AoiOutsideSceneError, ReadError
from pipeline.masks import clear_fraction
from pipeline.reference import Reference
from pipeline.scene_table import scene_summary
from pipeline.sources import open_source
from pipeline.store import DetectionRow
from pipeline.types import Aoi, Chip, Observation, Scene


class TransientReadError(ReadError):
    """Some chips of a batch could not be read for now (timeouts, 5xx); retry the batch."""


@dataclass(frozen=True)
class ReadSpec:
    """How a worker reads chips: from which source, with which settings, cached where."""

    source: str
    """The ``--source`` value (its ``sign`` is applied just before each read)."""
    settings: Settings
    """Run-wide settings (GDAL options, reader retries)."""
    cache_dir: Path | None
    """Chip cache folder, or None with ``--no-cache``."""


@dataclass(frozen=True, eq=False)
class ChipRead:
    """One scene's chip, or why it could not be read."""

    scene_id: str
    """The scene."""
    chip: Chip | None
    """The pixels, when read."""
    error: str | None = None
    """One-line reason, when not."""


@dataclass(frozen=True, eq=False)
class SceneOutcome:
    """What the flow writes for one scene over one AOI."""

    observation: Observation
    """The ``observations`` row (``ok`` or ``failed``)."""
    detections: tuple[DetectionRow, ...] = ()
    """Detections behind it."""
    scene_json: str | None = None
    """Provenance: the scene's metadata and the reference used, as JSON."""


@lru_cache(maxsize=8)
def _signer(source: str) -> Callable[[str], str]:
    return open_source(source, Settings()).sign


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, for the ``error`` column."""
    text = " ".join(str(exc).split()) or "no message"
    return text if isinstance(exc, ReadError) else f"{type(exc).__name__}: {text}"


def is_transient(exc: BaseException) -> bool:
    """Whether a failed chip read may succeed if tried again later."""
    if isinstance(exc, TransientReadError):
        return True
    if not isinstance(exc, ReadError) or isinstance(exc, AoiOutsideSceneError):
        return False
    transient, _ = classify(exc)
    return transient and "has no asset" not in str(exc) and "another grid" not in str(exc)


def read_one(scene: Scene, aoi: Aoi, spec: ReadSpec) -> Chip:
    """The chip of ``scene`` over ``aoi``: from the cache, else from the source (then cached).

    Raises:
        ReadError: the source cannot be read (see :func:`pipeline.cog.read_chip`).
    """
    cache = ChipCache(spec.cache_dir) if spec.cache_dir is not None else None
    if cache is not None:
        cached = cache.get(scene.id, aoi)
        if cached is not None:
            return cached
    chip = read_chip(scene, aoi, settings=spec.settings, sign=_signer(spec.source))
    if cache is not None:
        cache.put(chip, aoi)
    return chip


def read_batch(
    scenes: Sequence[Scene], aoi: Aoi, spec: ReadSpec, *, final: bool = True
) -> list[ChipRead]:
    """Read every scene's chip; failures come back as :class:`ChipRead` with a reason.

    Raises:
        TransientReadError: some reads may pass later and this is not the ``final`` attempt.
    """
    reads: list[ChipRead] = []
    transient: list[str] = []
    for scene in scenes:
        try:
            reads.append(ChipRead(scene.id, read_one(scene, aoi, spec)))
        except Exception as exc:
            if is_transient(exc) and not final:
                transient.append(f"{scene.id}: {one_line(exc)}")
            reads.append(ChipRead(scene.id, None, one_line(exc)))
    if transient:
        raise TransientReadError(
            f"{len(transient)} of {len(scenes)} chips over {aoi.id} failed for now; "
            f"first: {transient[0]}"
        )
    return reads


def survey_batch(
    scenes: Sequence[Scene], aoi: Aoi, spec: ReadSpec, *, final: bool = True
) -> list[tuple[str, float]]:
    """``(scene id, clear fraction)`` of each readable scene (chips land in the cache).

    Raises:
        TransientReadError: as :func:`read_batch`.
    """
    out = []
    for read in read_batch(scenes, aoi, spec, final=final):
        if read.chip is not None:
            out.append((read.scene_id, clear_fraction(clear_pixels(read.chip), read.chip.valid)))
    return out


def build_reference(scenes: Sequence[Scene], aoi: Aoi, spec: ReadSpec) -> Reference | None:
    """Read the chosen scenes' chips (unreadable ones are left out) and composite them.

    Returns None when too few of them are clear (see
    :func:`pipeline.analyse.reference_from_chips`).
    """
    chips = [r.chip for r in read_batch(scenes, aoi, spec) if r.chip is not None]
    return reference_from_chips(chips) if chips else None


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
    )
    return SceneOutcome(observation, (), _provenance(scene, None))


def _provenance(scene: Scene, reference: str | None) -> str:
    return json.dumps({"scene": scene_summary(scene), "reference": reference}, default=str)


def analyse_batch(
    reads: Sequence[ChipRead],
    scenes: Sequence[Scene],
    aoi: Aoi,
    *,
    reference: Reference | None,
    reference_note: str | None = None,
) -> list[SceneOutcome]:
    """Analyse each read chip; a read failure or an analysis error becomes a failed outcome.

    Args:
        reads: :func:`read_batch` output, in the order of ``scenes``.
        scenes: the scenes.
        aoi: the AOI.
        reference: the AOI's temporal reference, if any.
        reference_note: how the reference was made, kept with each row's provenance.
    """
    by_id = {r.scene_id: r for r in reads}
    outcomes = []
    for scene in scenes:
        read = by_id.get(scene.id)
        if read is None or read.chip is None:
            reason = read.error if read is not None and read.error else "chip was not read"
            outcomes.append(failed(scene, aoi, reason))
            continue
        try:
            result: SceneAnalysis = analyse_chip(read.chip, scene, aoi, reference=reference)
        except Exception as exc:  # a bug or a pathological chip: record it, carry on
            outcomes.append(failed(scene, aoi, f"analysis failed: {one_line(exc)}"))
            continue
        observation = result.observation
        if observation.error is not None:
            observation = replace(observation, error=" ".join(observation.error.split()))
        outcomes.append(
            SceneOutcome(observation, result.detections, _provenance(scene, reference_note))
        )
    return outcomes

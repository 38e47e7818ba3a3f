"""Each AOI's temporal reference for a run: the saved one for the run's key, or a new one.

A reference is built from the scenes of the reference period that lie in no claim's test
window (:meth:`pipeline.store.references.ReferenceKey.admits`): they are surveyed (read and
their clear fraction measured), the clearest are composited, and the result is saved with
its provenance.

The survey tolerates scenes that cannot be read at all (a corrupt or truncated file, a
missing asset, an AOI outside the raster): they are left out of the reference and stored
``failed`` with the reason, so one bad scene never blocks its AOI. Scenes that failed *for
now* (timeouts, 5xx) are surveyed again, alone, after :data:`SURVEY_RETRY_DELAYS`; if some
still fail, no reference is built this run (one built from whichever scenes happened to be
readable would differ from run to run) and the AOI's scenes are stored ``failed``, for the
next run to retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

from pipeline.config import BANDS
from pipeline.detect.reference import Reference
from pipeline.detect.reference_looks import reference_candidates
from pipeline.read.pixel_origin import scene_origin
from pipeline.run.job import Job
from pipeline.run.scene_work import Survey, one_line
from pipeline.run.steps import Handle, Steps, batches, bounded, progress
from pipeline.store.references import (
    Provenance,
    ReferenceKey,
    format_period,
    load_reference,
    reference_path,
    save_reference,
    stale_reason,
)
from pipeline.types import Aoi, Scene

#: Seconds before each new survey of the scenes that failed for now (timeouts, 5xx, an
#: expired signature): up to four more rounds, each reading only those scenes.
SURVEY_RETRY_DELAYS: Final[list[float]] = [5.0, 15.0, 30.0, 60.0]


def save_built_reference(
    job: Job,
    key: ReferenceKey,
    reference: Reference,
    picked: Sequence[Scene],
    origins: Mapping[str, str],
    available: int,
) -> Provenance:
    """Save a freshly built reference with its provenance; return the provenance.

    Raises:
        OSError: the references folder cannot be written.
    """
    provenance = Provenance(
        key=key,
        reference_id=reference.reference_id,
        available=available,
        newest=max(s.datetime.date() for s in picked),
        built_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        scene_ids=reference.scene_ids,
        scene_origins={s: origins[s] for s in reference.scene_ids if s in origins},
        usual=reference.usual_note,
    )
    save_reference(reference_path(job.references_dir, key), reference, provenance)
    return provenance


@dataclass(frozen=True, eq=False)
class ReferenceChoice:
    """An AOI's reference for this run, and what its survey found unreadable."""

    reference: Reference | None
    """The reference; None when none could be had (the AOI's scenes are then failed)."""
    label: str
    """How it was obtained, for the summary table."""
    note: str
    """One-line provenance kept with every observation."""
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Scene id -> reason, for scenes the survey found unreadable (stored failed as such)."""

    @property
    def reference_id(self) -> str | None:
        """The reference's content hash, kept with every observation measured against it."""
        return self.reference.reference_id if self.reference is not None else None


def _survey_round(
    job: Job, steps: Steps, aoi: Aoi, scenes: Sequence[Scene], tick: Callable[[int], None]
) -> Survey:
    """Survey ``scenes`` batch by batch; a batch whose task failed is failed for now."""
    survey = Survey()

    def submit(part: list[Scene]) -> tuple[list[Scene], Handle[Survey]]:
        return part, steps.survey(part, aoi, job.read_spec)

    done = 0
    for part, handle in bounded(
        batches(scenes, job.options.batch_size), submit, window=job.options.concurrency + 1
    ):
        try:
            survey = survey.plus(handle.result())
        except Exception as exc:  # the task itself failed (a worker died...): survey again
            reason = f"survey task failed: {one_line(exc)}"
            steps.log.warning("%s: %s", aoi.id, reason)
            survey = survey.plus(Survey(for_now={s.id: reason for s in part}))
        done += len(part)
        tick(done)
    return survey


def survey_window(job: Job, steps: Steps, aoi: Aoi, window: Sequence[Scene]) -> Survey:
    """Survey every scene of ``window``, then again those that failed for now.

    Each new round reads only the scenes still failed for now, after the next of
    :data:`SURVEY_RETRY_DELAYS`.
    """
    with progress(f"{aoi.id}: reference", len(window), enabled=job.options.show_progress) as tick:
        survey = _survey_round(job, steps, aoi, window, tick)
    for delay in SURVEY_RETRY_DELAYS:
        if not survey.for_now:
            break
        steps.log.warning(
            "%s: %d scenes failed for now; surveying them again in %g s",
            aoi.id,
            len(survey.for_now),
            delay,
        )
        time.sleep(delay)
        again = [s for s in window if s.id in survey.for_now]
        survey = survey.then(_survey_round(job, steps, aoi, again, lambda done: None))
    return survey


def _clear_fractions(window: Sequence[Scene], survey: Survey) -> list[tuple[str, float]]:
    """The survey's clear fractions in the window's (time) order."""
    order = {scene.id: n for n, scene in enumerate(window)}
    return sorted(survey.fractions, key=lambda pair: order[pair[0]])


def _build(
    job: Job,
    steps: Steps,
    aoi: Aoi,
    key: ReferenceKey,
    window: Sequence[Scene],
    origins: Mapping[str, str],
) -> ReferenceChoice:
    """Survey the window, pick the clearest scenes, build the reference and save it."""
    log = steps.log
    survey = survey_window(job, steps, aoi, window)
    if survey.for_now:
        log.warning(
            "%s: %d scenes could not be surveyed for now; no reference this run",
            aoi.id,
            len(survey.for_now),
        )
        label = f"none ({len(survey.for_now)} scenes unreadable for now)"
        return ReferenceChoice(None, label, "none", survey.unreadable)
    for scene_id, reason in survey.unreadable.items():
        log.warning("%s: %s left out of the reference: %s", aoi.id, scene_id, reason)
    chosen = set(reference_candidates(_clear_fractions(window, survey), survey.snowy))
    picked = [s for s in window if s.id in chosen]
    try:
        reference = steps.build_reference(picked, aoi, job.read_spec) if picked else None
    except Exception as exc:
        log.warning("%s: no reference this run: %s", aoi.id, one_line(exc))
        return ReferenceChoice(None, "none (chips unreadable for now)", "none", survey.unreadable)
    if reference is None:
        log.warning(
            "%s: too few clear scenes for a reference in %s (%d qualify); the AOI's scenes "
            "are stored failed until one can be built (see --reference-period)",
            aoi.id,
            format_period(key.period),
            len(picked),
        )
        label = "none (too few clear scenes in the reference period)"
        return ReferenceChoice(None, label, "none", survey.unreadable)
    provenance = save_built_reference(job, key, reference, picked, origins, len(window))
    log.info("%s: reference saved, %s", aoi.id, provenance.summary())
    label = f"built ({len(reference.scene_ids)} scenes, {reference.reference_id})"
    return ReferenceChoice(reference, label, f"built, {provenance.summary()}", survey.unreadable)


def choose_reference(
    job: Job, steps: Steps, aoi: Aoi, scenes: list[Scene], start: date, end: date
) -> ReferenceChoice:
    """The AOI's saved reference for this run's key, or a new one when it is missing or
    stale (then saved).

    The reference is built from the scenes of the reference period that lie in no
    excluded window (:meth:`pipeline.store.references.ReferenceKey.admits`).
    """
    key = job.reference_key(aoi)
    listed = scenes if key.period == (start, end) else steps.search(job.read_spec, aoi, *key.period)
    # Surface reflectance only: a Level-1C scene is compared with the reference after its
    # calibration (pipeline.detect.toa_calibrate), never composited into it.
    window = [s for s in listed if s.level == "L2A" and key.admits(s.datetime.date())]
    origins = {s.id: scene_origin(s, BANDS) for s in window}
    stored = load_reference(reference_path(job.references_dir, key))
    reason = stale_reason(stored, key, available=len(window), origins=origins)
    if stored is not None and reason is None:
        steps.log.info("%s: using the saved %s", aoi.id, stored.provenance.summary())
        label = f"saved ({len(stored.reference.scene_ids)} scenes, {stored.reference.reference_id})"
        return ReferenceChoice(stored.reference, label, f"saved, {stored.provenance.summary()}")
    if not window:
        steps.log.warning(
            "%s: no scenes in the reference period %s; the AOI's scenes are stored failed "
            "until a reference can be built (see --reference-period)",
            aoi.id,
            format_period(key.period),
        )
        return ReferenceChoice(None, "none (no scenes in the reference period)", "none")
    steps.log.info("%s: building the reference (%s) from %d scenes", aoi.id, reason, len(window))
    return _build(job, steps, aoi, key, window, origins)

"""A run in plain Python: every AOI's scenes and reference, then every scene read once for
all its AOIs, analysed, and recorded.

:func:`run_all` is the one way through, for the Prefect flows (:mod:`pipeline.flows`) and the
inline runner (:mod:`pipeline.run.inline`) alike; they differ only in the :class:`Steps`
they pass. For each AOI (:func:`plan_aoi`): search the range, choose the reference
(:mod:`pipeline.run.reference_choice`), skip the scenes already stored ``ok`` against that
reference, and add earlier rows measured against another one. Then scene-major: the AOIs'
scenes are merged by scene (:func:`scene_tasks`), so each band file's header is fetched once
per scene for all its AOIs; batches of scenes go to :attr:`Steps.process`, a bounded number
in flight; the flow is the single writer of the store (:func:`record`).

One series, one instrument
    A series is one AOI seen through one source by one detector version. Its numbers are
    measured against one temporal reference, built from the scenes of the *reference
    period* (:data:`pipeline.run.job.DEFAULT_REFERENCE_PERIOD` unless
    ``--reference-period`` says otherwise) with every claim's test window left out, so the
    instrument is never built from the data under test. Every observation keeps the
    ``reference_id`` it was measured against. When the series' reference changes (another
    period, its scenes reprocessed at the source, scenes published late), the rows measured
    against the old one are processed again against the new one in the same run, so a
    series never silently mixes references; ``rasonwatch evaluate`` refuses to pool rows
    that still do.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from pipeline.run.analysis import Instrument, SceneOutcome, SceneTask, failed
from pipeline.run.job import Job
from pipeline.run.reference_choice import ReferenceChoice, choose_reference
from pipeline.run.scene_work import one_line
from pipeline.run.stage_timer import stage
from pipeline.run.steps import Handle, Logger, Steps, batches, bounded, progress
from pipeline.store.results import Store
from pipeline.types import Aoi, Scene

#: Failed scenes listed by name in the summary.
MAX_LISTED_FAILURES = 10


def todo(scenes: Sequence[Scene], done: set[str]) -> list[Scene]:
    """The scenes not yet stored ``ok`` (failed ones are tried again), oldest first."""
    return sorted((s for s in scenes if s.id not in done), key=lambda s: (s.datetime, s.id))


@dataclass
class AoiTally:
    """What a run did for one AOI."""

    aoi: str
    """AOI id."""
    start: date
    """First day of the range."""
    end: date
    """Last day of the range."""
    scenes: int = 0
    """Scenes found in the range."""
    skipped: int = 0
    """Already stored ``ok`` at this detector version."""
    ok: int = 0
    """Processed ``ok`` now."""
    failed: int = 0
    """Stored ``failed`` now."""
    reference: str = ""
    """How the reference was obtained (one line)."""
    seconds: float = 0.0
    """Wall time."""
    simulated: bool = False
    """Any scene came from the simulator."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    """``(scene id, reason)`` of the first failures."""
    started: float = field(default_factory=time.monotonic, repr=False)

    def done(self) -> None:
        """Stop the clock."""
        self.seconds = time.monotonic() - self.started

    def row(self) -> dict[str, object]:
        """One row of the summary table."""
        return {
            "aoi": self.aoi + (" (SIMULATED)" if self.simulated else ""),
            "range": f"{self.start}..{self.end}",
            "scenes": self.scenes,
            "skipped": self.skipped,
            "ok": self.ok,
            "failed": self.failed,
            "seconds": round(self.seconds, 1),
            "reference": self.reference,
        }


def record(store: Store, outcomes: Sequence[SceneOutcome], tally: AoiTally, run_id: str) -> None:
    """Write each outcome (the flow is the single writer) and count it.

    A failure is not written over a scene another run has stored ``ok`` meanwhile; it then
    counts as skipped. Each write is timed as the ``store`` stage.
    """
    for outcome in outcomes:
        o = outcome.observation
        with stage("store"):
            written = store.write(
                o,
                outcome.detections,
                run_id=run_id,
                scene_json=outcome.scene_json,
                zones=outcome.zones,
            )
        tally.simulated = tally.simulated or o.simulated
        if not written:  # failed here, but stored ok meanwhile by another run
            tally.skipped += 1
        elif o.status == "ok":
            tally.ok += 1
        else:
            tally.failed += 1
            if len(tally.failures) < MAX_LISTED_FAILURES:
                tally.failures.append((o.scene_id, o.error or ""))


@dataclass(frozen=True, eq=False)
class AoiPlan:
    """What a run does for one AOI: its reference, and the scenes to process against it."""

    aoi: Aoi
    """The AOI."""
    tally: AoiTally
    """What the run did for it (filled as outcomes are recorded)."""
    choice: ReferenceChoice
    """Its reference for this run."""
    scenes: list[Scene] = field(default_factory=list)
    """Scenes to process, oldest first."""


def measured_elsewhere(
    steps: Steps, store: Store, aoi: Aoi, job: Job, choice: ReferenceChoice, listed: set[str]
) -> list[Scene]:
    """Scenes outside this run's range whose rows were measured against another reference.

    They are searched for again over the span of those rows, to be processed against this
    run's reference (one series, one instrument). Rows the source no longer lists are left
    as they are, and ``evaluate`` will not pool them.
    """
    if choice.reference_id is None:
        return []
    stale = [
        (scene_id, when)
        for scene_id, when in store.measured_against_others(
            aoi.id, job.detector_version, choice.reference_id
        )
        if scene_id not in listed
    ]
    if not stale:
        return []
    wanted = {scene_id for scene_id, _ in stale}
    span = (stale[0][1].date(), stale[-1][1].date())
    found = [s for s in steps.search(job.read_spec, aoi, *span) if s.id in wanted]
    steps.log.info(
        "%s: %d earlier rows were measured against another reference; processing %d of "
        "them again against %s",
        aoi.id,
        len(wanted),
        len(found),
        choice.reference_id,
    )
    if len(found) < len(wanted):
        steps.log.warning(
            "%s: %d rows measured against another reference are not listed by the source "
            "any more; evaluate will not pool them with the others",
            aoi.id,
            len(wanted) - len(found),
        )
    return found


def plan_aoi(job: Job, steps: Steps, store: Store, aoi: Aoi, span: tuple[date, date]) -> AoiPlan:
    """Search ``aoi``'s range, choose its reference, and list the scenes still to process:
    those not stored ``ok`` against that reference, and earlier rows measured against
    another one."""
    start, end = span
    tally = AoiTally(aoi.id, start, end)
    scenes = steps.search(job.read_spec, aoi, start, end)
    tally.scenes = len(scenes)
    tally.simulated = any(s.simulated for s in scenes)
    choice = choose_reference(job, steps, aoi, scenes, start, end)
    tally.reference = choice.label
    done = store.done_scene_ids(aoi.id, job.detector_version, reference_id=choice.reference_id)
    remaining = todo(scenes, done)
    tally.skipped = len(scenes) - len(remaining)
    again = measured_elsewhere(steps, store, aoi, job, choice, {s.id for s in scenes})
    steps.log.info(
        "%s: %d scenes in %s..%s, %d already done, %d to process, %d earlier ones again",
        aoi.id,
        len(scenes),
        start,
        end,
        tally.skipped,
        len(remaining),
        len(again),
    )
    return AoiPlan(aoi, tally, choice, todo([*remaining, *again], set()))


def scene_tasks(plans: Sequence[AoiPlan]) -> tuple[list[SceneTask], list[SceneOutcome]]:
    """The plans' scenes merged by scene (each with every AOI it is processed for), oldest
    first; and the outcomes already known: scenes the survey found unreadable (not read
    again)."""
    known: list[SceneOutcome] = []
    merged: dict[str, tuple[Scene, list[Aoi]]] = {}
    for plan in plans:
        for scene in plan.scenes:
            reason = plan.choice.unreadable.get(scene.id)
            if reason is not None:
                known.append(failed(scene, plan.aoi, reason))
                continue
            merged.setdefault(scene.id, (scene, []))[1].append(plan.aoi)
    ordered = sorted(merged.values(), key=lambda pair: (pair[0].datetime, pair[0].id))
    return [SceneTask(scene, tuple(aois)) for scene, aois in ordered], known


def outcomes_of(
    handle: Handle[list[SceneOutcome]], batch: Sequence[SceneTask]
) -> list[SceneOutcome]:
    """The batch's outcomes; if its task failed, every scene and AOI is failed with the
    reason."""
    try:
        return handle.result()
    except Exception as exc:
        reason = f"task failed: {one_line(exc)}"
        return [failed(task.scene, aoi, reason) for task in batch for aoi in task.aois]


def _record_all(
    store: Store, outcomes: Sequence[SceneOutcome], tallies: Mapping[str, AoiTally], run_id: str
) -> None:
    for aoi_id, tally in tallies.items():
        mine = [o for o in outcomes if o.observation.aoi == aoi_id]
        if mine:
            record(store, mine, tally, run_id)


def _log_tally(log: Logger, tally: AoiTally) -> None:
    for scene_id, error in tally.failures:
        log.warning("%s %s failed: %s", tally.aoi, scene_id, error)
    log.info(
        "%s: %d ok, %d failed, %d skipped in %.1f s",
        tally.aoi,
        tally.ok,
        tally.failed,
        tally.skipped,
        tally.seconds,
    )


def run_all(
    job: Job,
    steps: Steps,
    store: Store,
    command: str,
    windows: Mapping[str, tuple[date, date]],
    parameters: dict[str, object],
) -> tuple[str, list[AoiTally]]:
    """Run every AOI of ``job`` over its window, as one run in ``store``, scene-major.

    Returns:
        The run id and one tally per AOI, in the job's order.
    """
    run_id = store.start_run(command, parameters, job.detector_version)
    plans = [plan_aoi(job, steps, store, aoi, windows[aoi.id]) for aoi in job.aois]
    tallies = {plan.aoi.id: plan.tally for plan in plans}
    tasks, known = scene_tasks(plans)
    _record_all(store, known, tallies, run_id)
    shared = steps.share(
        {plan.aoi.id: Instrument(plan.choice.reference, plan.choice.note) for plan in plans}
    )
    spec = job.read_spec

    def submit(batch: list[SceneTask]) -> tuple[list[SceneTask], Handle[list[SceneOutcome]]]:
        return batch, steps.process(batch, spec, shared)

    total = sum(len(task.aois) for task in tasks)
    with progress("scenes", total, enabled=job.options.show_progress) as tick:
        done = 0
        window = job.options.concurrency + 1
        for batch, handle in bounded(batches(tasks, job.options.batch_size), submit, window=window):
            _record_all(store, outcomes_of(handle, batch), tallies, run_id)
            done += sum(len(task.aois) for task in batch)
            tick(done)
    for tally in tallies.values():
        tally.done()
        _log_tally(steps.log, tally)
    store.finish_run(
        run_id,
        n_ok=sum(t.ok for t in tallies.values()),
        n_failed=sum(t.failed for t in tallies.values()),
        n_skipped=sum(t.skipped for t in tallies.values()),
    )
    return run_id, list(tallies.values())

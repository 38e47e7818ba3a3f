"""A run's orchestration in plain Python; :mod:`pipeline.flows.prefect_flows` runs it on Prefect tasks.

What a run is (:class:`Job`), which dates it covers (:func:`nightly_window`), which
scenes still need work (:func:`todo`, :func:`batches`), how many are in flight at once
(:func:`bounded`), and how results are written and counted (:func:`record`,
:class:`AoiTally`). Nothing here imports prefect.

One series, one instrument
    A series is one AOI seen through one source by one detector version. Its numbers are
    measured against one temporal reference, built from the scenes of the *reference
    period* (:data:`DEFAULT_REFERENCE_PERIOD` unless ``--reference-period`` says
    otherwise) with every claim's test window left out, so the instrument is never built
    from the data under test. Every observation keeps the ``reference_id`` it was
    measured against. When the series' reference changes (another period, its scenes
    reprocessed at the source, scenes published late), the rows measured against the old
    one are processed again against the new one in the same run, so a series never
    silently mixes references; ``rasonwatch evaluate`` refuses to pool rows that still do.

The run itself, :func:`run_all` (for each AOI: search, reference, skip what is done,
process, record), is written once against :class:`Steps`, the few calls that do the work:
:mod:`pipeline.flows.prefect_flows` implements them as Prefect tasks, ``rasonwatch bench backfill`` as
plain calls on a thread pool, to measure what Prefect costs.

The reference survey tolerates scenes that cannot be read at all (a corrupt or truncated
file, a missing asset, an AOI outside the raster): they are left out of the reference and
stored ``failed`` with the reason, so one bad scene never blocks its AOI. Scenes that
failed *for now* (timeouts, 5xx) are surveyed again, alone, after
:data:`SURVEY_RETRY_DELAYS`; if some still fail, no reference is built this run (one built
from whichever scenes happened to be readable would differ from run to run) and the AOI's
scenes are stored ``failed``, for the next run to retry.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from pipeline.claims.rules import DEFAULT_BASELINE, Claim, load_claims
from pipeline.config import BANDS, PROJECT_ROOT, Settings
from pipeline.detect.analyse import detector_version, reference_candidates
from pipeline.detect.reference import Reference
from pipeline.geo.aoi import resolve_aois
from pipeline.read.chip_cache import aoi_key
from pipeline.read.pixel_origin import scene_origin, source_identity
from pipeline.run.progress import progress_callback
from pipeline.run.scene_work import ReadSpec, SceneOutcome, Survey, failed, one_line
from pipeline.run.stage_timer import stage
from pipeline.store.references import (
    Period,
    Provenance,
    ReferenceKey,
    format_period,
    load_reference,
    reference_path,
    save_reference,
    stale_reason,
)
from pipeline.store.results import Store
from pipeline.types import Aoi, Scene

#: The results store, under the data folder.
DB_NAME: Final = "rasonwatch.sqlite"
#: The scenes each AOI's reference is built from, unless ``--reference-period`` says
#: otherwise: the claims' default baseline, before any claimed change. Every claim's test
#: window (:data:`CLAIMS_FILE`) is left out of whichever period is used.
DEFAULT_REFERENCE_PERIOD: Final[Period] = DEFAULT_BASELINE
#: The claims whose test windows no reference is built from.
CLAIMS_FILE: Final = PROJECT_ROOT / "seeds" / "claims.toml"
#: ``rasonwatch run`` looks this far back before the last processed scene, for scenes that
#: the provider published late (reprocessing, ingestion delays).
OVERLAP_DAYS: Final = 10
#: With nothing processed yet for an AOI, ``rasonwatch run`` looks this far back.
LOOKBACK_DAYS: Final = 30
#: Scenes per task: big enough that Prefect's per-task cost (~15 ms on 2 cores) is a small
#: share of the work (~0.2 s per scene), small enough to spread over the workers.
BATCH_SIZE: Final = 8
#: Batches run at once by default (one per core of the machine this was tuned on).
CONCURRENCY: Final = 2
#: Failed scenes listed by name in the summary.
MAX_LISTED_FAILURES: Final = 10
#: Seconds before each new survey of the scenes that failed for now (timeouts, 5xx, an
#: expired signature): up to four more rounds, each reading only those scenes.
SURVEY_RETRY_DELAYS: Final[list[float]] = [5.0, 15.0, 30.0, 60.0]

T = TypeVar("T")
F = TypeVar("F")
T_co = TypeVar("T_co", covariant=True)
#: What :attr:`Steps.log` is: a logger, or Prefect's run logger (an adapter).
Logger = logging.Logger | logging.LoggerAdapter[Any]


@dataclass(frozen=True)
class Job:
    """What one backfill or nightly run works on, built from the flow's parameters."""

    source: str
    """The ``--source`` value."""
    db: Path
    """The results store."""
    data_dir: Path
    """Output folder: chip cache and references live under it."""
    aois: tuple[Aoi, ...]
    """The AOIs, in order."""
    use_cache: bool = True
    """Read and write the chip cache (``--no-cache`` turns it off)."""
    concurrency: int = CONCURRENCY
    """Batches in flight at once."""
    batch_size: int = BATCH_SIZE
    """Scenes per task."""
    show_progress: bool = False
    """Draw progress bars on stderr (when run from the CLI)."""
    settings: Settings = field(default_factory=Settings)
    """Run-wide settings."""
    reference_period: Period = DEFAULT_REFERENCE_PERIOD
    """The scenes each AOI's reference may be built from (inclusive)."""
    excluded: tuple[Period, ...] = ()
    """Windows left out of the reference period: the claims' test windows within it."""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1:
            raise ValueError("concurrency and batch size must be at least 1")
        first, last = self.reference_period
        if last < first:
            raise ValueError(f"reference period ends before it starts: {first}..{last}")

    @classmethod
    def create(
        cls,
        *,
        source: str,
        db: str | Path | None,
        data_dir: str | Path,
        aois: Sequence[str] | None,
        reference_period: Period | None = None,
        **options: Any,
    ) -> Job:
        """Resolve AOIs and paths (absolute, so that deployments run from anywhere), and the
        reference period with the claims' test windows left out.

        Raises:
            InvalidAoiError: an AOI id or file is unknown or invalid.
            InvalidClaimsError: the claims file is invalid.
        """
        settings = Settings(data_dir=Path(data_dir).resolve())
        period = reference_period or DEFAULT_REFERENCE_PERIOD
        claims = load_claims(CLAIMS_FILE) if CLAIMS_FILE.is_file() else ()
        return cls(
            source=source,
            db=Path(db).resolve() if db else settings.data_dir / DB_NAME,
            data_dir=settings.data_dir,
            aois=tuple(resolve_aois(aois or (), settings.aoi_dir)),
            settings=settings,
            reference_period=period,
            excluded=claim_windows_within(claims, period),
            **options,
        )

    @property
    def references_dir(self) -> Path:
        """``<data>/references``."""
        return self.data_dir / "references"

    @property
    def chips_dir(self) -> Path:
        """``<data>/chips``."""
        return self.data_dir / "chips"

    @property
    def read_spec(self) -> ReadSpec:
        """What a worker needs to read chips."""
        return ReadSpec(self.source, self.settings, self.chips_dir if self.use_cache else None)

    @property
    def detector_version(self) -> str:
        """The current detector version."""
        return detector_version()

    def reference_key(self, aoi: Aoi) -> ReferenceKey:
        """What ``aoi``'s reference is the instrument of in this run."""
        return ReferenceKey(
            aoi_id=aoi.id,
            aoi_key=aoi_key(aoi),
            source=source_identity(self.source),
            period=self.reference_period,
            excluded=self.excluded,
            detector_version=self.detector_version,
        )

    def parameters(self, windows: dict[str, tuple[date, date]]) -> dict[str, object]:
        """What the ``runs`` table keeps about this run."""
        return {
            "source": self.source,
            "db": str(self.db),
            "data_dir": str(self.data_dir),
            "aois": {a: [s.isoformat(), e.isoformat()] for a, (s, e) in windows.items()},
            "use_cache": self.use_cache,
            "reference_period": [d.isoformat() for d in self.reference_period],
            "reference_excluded": [[d.isoformat() for d in w] for w in self.excluded],
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
        }


def utc_today() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()


def claim_windows_within(claims: Sequence[Claim], period: Period) -> tuple[Period, ...]:
    """The claims' test windows that overlap ``period``, merged and in order."""
    first, last = period
    windows = sorted({c.window for c in claims if c.window[0] <= last and c.window[1] >= first})
    merged: list[Period] = []
    for start, end in windows:
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def nightly_window(
    last: datetime | None,
    until: date,
    *,
    overlap_days: int = OVERLAP_DAYS,
    lookback_days: int = LOOKBACK_DAYS,
) -> tuple[date, date]:
    """``rasonwatch run``'s range for one AOI: from the last processed scene minus the overlap.

    Args:
        last: acquisition time of the newest scene stored ``ok`` (None: nothing yet).
        until: last day to process (today).
        overlap_days: how far to look back before ``last``.
        lookback_days: how far to look back when nothing is stored yet.
    """
    if last is None:
        return until - timedelta(days=lookback_days), until
    return min(last.date() - timedelta(days=overlap_days), until), until


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
    )
    save_reference(reference_path(job.references_dir, key), reference, provenance)
    return provenance


def todo(scenes: Sequence[Scene], done: set[str]) -> list[Scene]:
    """The scenes not yet stored ``ok`` (failed ones are tried again), oldest first."""
    return sorted((s for s in scenes if s.id not in done), key=lambda s: (s.datetime, s.id))


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size``."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def bounded(items: Iterable[T], submit: Callable[[T], F], *, window: int) -> Iterator[F]:
    """Submit ``items`` one by one with at most ``window`` in flight; yield them in order.

    The caller waits on each yielded handle before the next item is submitted, so memory
    (chips in flight) stays bounded however long the range is.
    """
    pending: deque[F] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


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
                o, outcome.detections, run_id=run_id, scene_json=outcome.scene_json
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


@contextmanager
def progress(label: str, total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A ``tick(done)`` callback drawing one bar on stderr, or doing nothing."""
    if not enabled or total == 0:
        yield lambda done: None
        return
    with progress_callback(label) as tick:
        tick(0, total)
        yield lambda done: tick(done, total)


class Handle(Protocol[T_co]):
    """Work submitted to run elsewhere: a Prefect future, a ``concurrent.futures`` future."""

    def result(self) -> T_co:
        """Wait for the work; its value, or its exception raised."""
        ...


class Steps(Protocol):
    """The calls a run is made of; :func:`run_all` decides when to make them.

    :mod:`pipeline.flows.prefect_flows` makes each a Prefect task (retries, task runs, Dask); the
    benchmark makes them plain calls on a thread pool of the same size.
    """

    @property
    def log(self) -> Logger:
        """Where the run logs."""
        ...

    def search(self, aoi: Aoi, start: date, end: date) -> list[Scene]:
        """The scenes over ``aoi`` on ``start..end`` (see :func:`pipeline.run.scene_work.search`)."""
        ...

    def survey(self, scenes: list[Scene], aoi: Aoi) -> Handle[Survey]:
        """Submit :func:`pipeline.run.scene_work.survey_batch` on ``scenes``."""
        ...

    def build_reference(self, scenes: list[Scene], aoi: Aoi) -> Reference | None:
        """:func:`pipeline.run.scene_work.build_reference` of ``scenes``, waited for."""
        ...

    def share(self, reference: Reference | None) -> object:
        """The reference as :meth:`process` takes it (sent to the workers once)."""
        ...

    def process(
        self, scenes: list[Scene], aoi: Aoi, shared: object, note: str
    ) -> Handle[list[SceneOutcome]]:
        """Submit :func:`pipeline.run.scene_work.process_batch` on ``scenes``."""
        ...


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
        return part, steps.survey(part, aoi)

    done = 0
    for part, handle in bounded(
        batches(scenes, job.batch_size), submit, window=job.concurrency + 1
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
    with progress(f"{aoi.id}: reference", len(window), enabled=job.show_progress) as tick:
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
    chosen = set(reference_candidates(_clear_fractions(window, survey)))
    picked = [s for s in window if s.id in chosen]
    try:
        reference = steps.build_reference(picked, aoi) if picked else None
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
    listed = scenes if key.period == (start, end) else steps.search(aoi, *key.period)
    window = [s for s in listed if key.admits(s.datetime.date())]
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


def outcomes_of(
    handle: Handle[list[SceneOutcome]], batch: Sequence[Scene], aoi: Aoi
) -> list[SceneOutcome]:
    """The batch's outcomes; if its task failed, every scene is failed with the reason."""
    try:
        return handle.result()
    except Exception as exc:
        reason = f"task failed: {one_line(exc)}"
        return [failed(scene, aoi, reason) for scene in batch]


def _process(
    job: Job,
    steps: Steps,
    aoi: Aoi,
    scenes: Sequence[Scene],
    choice: ReferenceChoice,
) -> Iterator[list[SceneOutcome]]:
    """Outcomes batch by batch: the scenes the survey found unreadable first (not read
    again), then the others read and analysed, a bounded number of batches in flight."""
    known = [s for s in scenes if s.id in choice.unreadable]
    if known:
        yield [failed(s, aoi, choice.unreadable[s.id]) for s in known]
    shared = steps.share(choice.reference)

    def submit(batch: list[Scene]) -> tuple[list[Scene], Handle[list[SceneOutcome]]]:
        return batch, steps.process(batch, aoi, shared, choice.note)

    rest = [s for s in scenes if s.id not in choice.unreadable]
    for batch, handle in bounded(batches(rest, job.batch_size), submit, window=job.concurrency + 1):
        yield outcomes_of(handle, batch, aoi)


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
    found = [
        s for s in steps.search(aoi, stale[0][1].date(), stale[-1][1].date()) if s.id in wanted
    ]
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


def run_aoi(
    job: Job, steps: Steps, store: Store, aoi: Aoi, span: tuple[date, date], run_id: str
) -> AoiTally:
    """Everything for one AOI: search, reference, skip what is done against that reference,
    process (with earlier rows measured against another reference), record."""
    start, end = span
    tally = AoiTally(aoi.id, start, end)
    scenes = steps.search(aoi, start, end)
    tally.scenes = len(scenes)
    tally.simulated = any(s.simulated for s in scenes)
    choice = choose_reference(job, steps, aoi, scenes, start, end)
    tally.reference = choice.label
    done = store.done_scene_ids(
        aoi.id,
        job.detector_version,
        reference_id=choice.reference_id,
    )
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
    remaining = todo([*remaining, *again], set())
    if remaining:
        label = f"{aoi.id}: scenes"
        with progress(label, len(remaining), enabled=job.show_progress) as tick:
            for outcomes in _process(job, steps, aoi, remaining, choice):
                record(store, outcomes, tally, run_id)
                tick(tally.ok + tally.failed)
    tally.done()
    _log_tally(steps.log, tally)
    return tally


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
    """Run every AOI of ``job`` over its window, as one run in ``store``.

    Returns:
        The run id and one tally per AOI.
    """
    run_id = store.start_run(command, parameters, job.detector_version)
    tallies = [run_aoi(job, steps, store, aoi, windows[aoi.id], run_id) for aoi in job.aois]
    store.finish_run(
        run_id,
        n_ok=sum(t.ok for t in tallies),
        n_failed=sum(t.failed for t in tallies),
        n_skipped=sum(t.skipped for t in tallies),
    )
    return run_id, tallies

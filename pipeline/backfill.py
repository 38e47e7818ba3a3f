"""Plain-Python orchestration helpers that :mod:`pipeline.flows` calls between its tasks.

What a run is (:class:`Job`), which dates it covers (:func:`reference_window`,
:func:`nightly_window`), which scenes still need work (:func:`todo`, :func:`batches`), how
many are in flight at once (:func:`bounded`), and how results are written and counted
(:func:`record`, :class:`AoiTally`). Nothing here imports prefect.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from pipeline.analyse import detector_version
from pipeline.aoi import resolve_aois
from pipeline.chip_cache import aoi_key
from pipeline.config import Settings
from pipeline.progress import progress_callback
from pipeline.reference import Reference
from pipeline.reference_store import (
    Provenance,
    StoredReference,
    load_reference,
    reference_path,
    save_reference,
    stale_reason,
)
from pipeline.scene_work import ReadSpec, SceneOutcome
from pipeline.store import Store
from pipeline.types import Aoi, Scene

#: The results store, under the data folder.
DB_NAME: Final = "rasonwatch.sqlite"
#: A reference is built from at least this many days of scenes (ending with the range).
REFERENCE_WINDOW_DAYS: Final = 365
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

T = TypeVar("T")
F = TypeVar("F")


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

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1:
            raise ValueError("concurrency and batch size must be at least 1")

    @classmethod
    def create(
        cls,
        *,
        source: str,
        db: str | Path | None,
        data_dir: str | Path,
        aois: Sequence[str] | None,
        **options: Any,
    ) -> Job:
        """Resolve AOIs and paths (absolute, so that deployments run from anywhere).

        Raises:
            InvalidAoiError: an AOI id or file is unknown or invalid.
        """
        settings = Settings(data_dir=Path(data_dir).resolve())
        return cls(
            source=source,
            db=Path(db).resolve() if db else settings.data_dir / DB_NAME,
            data_dir=settings.data_dir,
            aois=tuple(resolve_aois(aois or (), settings.aoi_dir)),
            settings=settings,
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

    def parameters(self, windows: dict[str, tuple[date, date]]) -> dict[str, object]:
        """What the ``runs`` table keeps about this run."""
        return {
            "source": self.source,
            "db": str(self.db),
            "data_dir": str(self.data_dir),
            "aois": {a: [s.isoformat(), e.isoformat()] for a, (s, e) in windows.items()},
            "use_cache": self.use_cache,
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
        }


def utc_today() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()


def reference_window(start: date, end: date, *, today: date | None = None) -> tuple[date, date]:
    """The scenes a reference is built from: the range, widened to a full year.

    A shorter range grows evenly on both sides (a historical backfill uses the scenes
    around it, every season once), but never past ``today``: the nightly run's range ends
    today, so its reference is the year before.
    """
    span = (end - start).days + 1
    if span >= REFERENCE_WINDOW_DAYS:
        return start, end
    last = min(end + timedelta(days=(REFERENCE_WINDOW_DAYS - span) // 2), today or utc_today())
    last = max(last, end)
    return min(start, last - timedelta(days=REFERENCE_WINDOW_DAYS - 1)), last


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


def saved_reference(
    job: Job, aoi: Aoi, *, available: int, window_end: date
) -> tuple[StoredReference | None, str | None]:
    """The AOI's saved reference, and why it must be rebuilt (None when it is fresh)."""
    stored = load_reference(reference_path(job.references_dir, aoi.id))
    reason = stale_reason(
        stored,
        detector_version=job.detector_version,
        aoi_key=aoi_key(aoi),
        available=available,
        window_end=window_end,
    )
    return stored, reason


def save_built_reference(
    job: Job,
    aoi: Aoi,
    reference: Reference,
    picked: Sequence[Scene],
    window: tuple[date, date],
    surveyed: Sequence[Scene],
) -> Provenance:
    """Save a freshly built reference with its provenance; return the provenance.

    Raises:
        OSError: the references folder cannot be written.
    """
    provenance = Provenance(
        aoi_id=aoi.id,
        aoi_key=aoi_key(aoi),
        detector_version=job.detector_version,
        source=job.source,
        window_start=window[0],
        window_end=window[1],
        available=len(surveyed),
        newest=max(s.datetime.date() for s in picked),
        built_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        scene_ids=reference.scene_ids,
    )
    save_reference(reference_path(job.references_dir, aoi.id), reference, provenance)
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
    counts as skipped.
    """
    for outcome in outcomes:
        o = outcome.observation
        written = store.write(o, outcome.detections, run_id=run_id, scene_json=outcome.scene_json)
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

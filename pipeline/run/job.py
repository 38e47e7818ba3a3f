"""What a run is: :class:`Job`, resolved once from the options a user gives
(:class:`~pipeline.run.options.RunOptions`, where every default is defined): AOIs, paths,
settings, the source opened once, the reference period with the claims' test windows left
out.

The entry point (a flow, or the inline runner of the benchmark) builds one :class:`Job` and
hands it down; nothing below re-reads options or reopens the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from pipeline.claims.parse import Claim, load_claims
from pipeline.config import PROJECT_ROOT, Settings
from pipeline.detect.analyse import detector_version
from pipeline.geo.aoi import resolve_aois
from pipeline.read.chip_cache import aoi_key
from pipeline.read.pixel_origin import source_identity
from pipeline.run.options import (
    DB_NAME,
    DEFAULT_REFERENCE_PERIOD,
    LOOKBACK_DAYS,
    OVERLAP_DAYS,
    RunOptions,
)
from pipeline.run.scene_work import ReadSpec
from pipeline.sources import SceneSource, open_source
from pipeline.store.references import Period, ReferenceKey
from pipeline.types import Aoi

#: The claims whose test windows no reference is built from.
CLAIMS_FILE: Final = PROJECT_ROOT / "seeds" / "claims.toml"


@dataclass(frozen=True)
class Job:
    """One backfill or nightly run, resolved from its :class:`RunOptions` once."""

    options: RunOptions
    """What was asked."""
    db: Path
    """The results store, absolute."""
    data_dir: Path
    """Output folder, absolute: chip cache and references live under it."""
    aois: tuple[Aoi, ...]
    """The AOIs, in order."""
    settings: Settings
    """Run-wide settings."""
    scene_source: SceneSource
    """The source, opened once with :attr:`settings`."""
    reference_period: Period
    """The scenes each AOI's reference may be built from (inclusive)."""
    excluded: tuple[Period, ...] = ()
    """Windows left out of the reference period: the claims' test windows within it."""

    def __post_init__(self) -> None:
        if self.options.concurrency < 1 or self.options.batch_size < 1:
            raise ValueError("concurrency and batch size must be at least 1")
        first, last = self.reference_period
        if last < first:
            raise ValueError(f"reference period ends before it starts: {first}..{last}")

    @classmethod
    def create(cls, options: RunOptions) -> Job:
        """Resolve AOIs and paths (absolute, so that deployments run from anywhere), open the
        source, and leave the claims' test windows out of the reference period.

        Raises:
            InvalidAoiError: an AOI id or file is unknown or invalid.
            InvalidClaimsError: the claims file is invalid.
            SourceError: the source is unknown or its path does not exist.
        """
        settings = Settings(data_dir=Path(options.data_dir).resolve())
        period = options.reference_period or DEFAULT_REFERENCE_PERIOD
        claims = load_claims(CLAIMS_FILE) if CLAIMS_FILE.is_file() else ()
        return cls(
            options=options,
            db=Path(options.db).resolve() if options.db else settings.data_dir / DB_NAME,
            data_dir=settings.data_dir,
            aois=tuple(resolve_aois(options.aois, settings.aoi_dir)),
            settings=settings,
            scene_source=open_source(options.source, settings),
            reference_period=period,
            excluded=claim_windows_within(claims, period),
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
        cache = self.chips_dir if self.options.use_cache else None
        return ReadSpec(self.scene_source, self.settings, cache)

    @property
    def detector_version(self) -> str:
        """The current detector version."""
        return detector_version()

    def reference_key(self, aoi: Aoi) -> ReferenceKey:
        """What ``aoi``'s reference is the instrument of in this run."""
        return ReferenceKey(
            aoi_id=aoi.id,
            aoi_key=aoi_key(aoi),
            source=source_identity(self.options.source),
            period=self.reference_period,
            excluded=self.excluded,
            detector_version=self.detector_version,
        )

    def parameters(self, windows: dict[str, tuple[date, date]]) -> dict[str, object]:
        """What the ``runs`` table keeps about this run."""
        return {
            "source": self.options.source,
            "db": str(self.db),
            "data_dir": str(self.data_dir),
            "aois": {a: [s.isoformat(), e.isoformat()] for a, (s, e) in windows.items()},
            "use_cache": self.options.use_cache,
            "reference_period": [d.isoformat() for d in self.reference_period],
            "reference_excluded": [[d.isoformat() for d in w] for w in self.excluded],
            "concurrency": self.options.concurrency,
            "batch_size": self.options.batch_size,
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

"""What a run may be asked to do, and every default, defined once (light: the CLI imports it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from pipeline.config import DEFAULT_DATA_DIR, DEFAULT_SOURCE

#: The results store, under the data folder.
DB_NAME: Final = "rasonwatch.sqlite"
#: The scenes each AOI's reference is built from, unless ``--reference-period`` says
#: otherwise: the claims' default baseline, before any claimed change. Every claim's test
#: window (:data:`pipeline.run.job.CLAIMS_FILE`) is left out of whichever period is used.
DEFAULT_REFERENCE_PERIOD: Final = (date(2019, 1, 1), date(2023, 6, 30))
#: ``rasonwatch run`` looks this far back before the last processed scene, for scenes that
#: the provider published late (reprocessing, ingestion delays).
OVERLAP_DAYS: Final = 10
#: With nothing processed yet for an AOI, ``rasonwatch run`` looks this far back.
LOOKBACK_DAYS: Final = 30
#: Scenes per task: big enough that Prefect's per-task cost (~15 ms on 2 cores) is a small
#: share of the work (~0.2 s per scene), small enough to spread over the workers.
BATCH_SIZE: Final = 8
#: Name of the nightly deployment ``rasonwatch serve`` creates.
DEPLOYMENT_NAME: Final = "nightly"
#: When the nightly deployment runs: 03:00 UTC every day.
DEFAULT_CRON: Final = "0 3 * * *"
#: Batches run at once by default (one per core of the machine this was tuned on).
CONCURRENCY: Final = 2


@dataclass(frozen=True)
class RunOptions:
    """What a backfill or nightly run is asked to do, as typed (plain values, JSON-ready)."""

    source: str = DEFAULT_SOURCE
    """The ``--source`` value."""
    db: str | None = None
    """The results store (default ``<data_dir>/rasonwatch.sqlite``)."""
    data_dir: str = str(DEFAULT_DATA_DIR)
    """Output folder: store, chip cache, references."""
    aois: tuple[str, ...] = ()
    """AOI ids or GeoJSON paths; every AOI in ``aoi/`` when empty."""
    use_cache: bool = True
    """Read and write the chip cache (``--no-cache`` turns it off)."""
    concurrency: int = CONCURRENCY
    """Batches in flight at once."""
    batch_size: int = BATCH_SIZE
    """Scenes per task."""
    show_progress: bool = False
    """Draw progress bars on stderr (when run from the CLI)."""
    reference_period: tuple[date, date] | None = None
    """The scenes each AOI's reference is built from (default
    :data:`DEFAULT_REFERENCE_PERIOD`)."""

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> RunOptions:
        """The options among a flow's ``parameters`` (other names are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        chosen = {k: v for k, v in parameters.items() if k in names}
        if chosen.get("aois") is not None:
            chosen["aois"] = tuple(chosen["aois"])
        else:
            chosen.pop("aois", None)
        if chosen.get("reference_period") is not None:
            chosen["reference_period"] = tuple(chosen["reference_period"])
        return cls(**chosen)

    def as_parameters(self) -> dict[str, Any]:
        """The options as keyword arguments of a flow (lists, not tuples; None for no AOIs)."""
        out = dataclasses.asdict(self)
        out["aois"] = list(self.aois) or None
        return out

"""``rasonwatch evaluate``: the claims file and the results store in, verdicts out.

The I/O edge around :mod:`pipeline.claims.rules`: it reads the claims file, opens the store
(never creating one), picks the detector version to trust and hands plain observations
to the pure core. Flows, the CLI and the report all go through :func:`evaluate_store`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from pipeline.claims.marks import ship_marks, zone_names
from pipeline.claims.parse import Claim, load_claims
from pipeline.claims.registration import file_sha256
from pipeline.claims.rules import evaluate_claims
from pipeline.claims.verdict import Verdict
from pipeline.config import DEFAULT_AOI_DIR, PROJECT_ROOT
from pipeline.errors import StoreError
from pipeline.geo.aoi import load_aoi
from pipeline.store.results import Store
from pipeline.types import Aoi, Observation

log = logging.getLogger(__name__)

#: The claims tested when ``--claims`` is not given.
DEFAULT_CLAIMS: Final = PROJECT_ROOT / "seeds" / "claims.toml"
#: The analysts' table drawn on the report's plots.
DEFAULT_OSINT: Final = PROJECT_ROOT / "seeds" / "osint.csv"
#: The results store's file name under the data folder (as ``pipeline.run.runner``).
DB_NAME: Final = "rasonwatch.sqlite"


@dataclass(frozen=True)
class Evaluation:
    """Verdicts with everything they were computed from."""

    claims: tuple[Claim, ...]
    """The claims, in file order."""
    verdicts: tuple[Verdict, ...]
    """One verdict per claim, same order."""
    observations: tuple[Observation, ...]
    """Every observation of the chosen detector version."""
    detector_version: str | None
    """The detector version evaluated (None when the store is empty)."""
    db: Path
    """The store read."""

    @property
    def simulated(self) -> bool:
        """Whether any observation came from a simulated scene."""
        return any(o.simulated for o in self.observations)


def open_existing_store(db: Path) -> Store:
    """Open a store that must already exist (evaluate and report never create one).

    Raises:
        StoreError: there is no file at ``db``, or it is not a results store.
    """
    if not db.is_file():
        raise StoreError(
            f"no results store at {str(db)!r}; run `rasonwatch backfill` (or `rasonwatch "
            "demo`) first, or pass --db"
        )
    return Store(db)


def choose_version(versions: list[str], current: str) -> str | None:
    """The current detector's version when the store has it, else the latest processed.

    Args:
        versions: versions in the store, most recently processed last.
        current: this installation's detector version.
    """
    if current in versions:
        return current
    return versions[-1] if versions else None


def visit_aois(claims: tuple[Claim, ...], aoi_dir: Path) -> dict[str, Aoi]:
    """The AOIs of the visits claims whose files are in ``aoi_dir`` (their zones)."""
    out = {}
    for cid in sorted({c.aoi for c in claims if c.test == "visits"}):
        path = aoi_dir / f"{cid}.geojson"
        if path.is_file():
            out[cid] = load_aoi(path)
        else:
            log.warning("no AOI file %s: visits of %s cannot be placed in zones", path, cid)
    return out


def evaluate_store(
    db: Path, claims_path: Path = DEFAULT_CLAIMS, *, aoi_dir: Path = DEFAULT_AOI_DIR
) -> Evaluation:
    """Load the claims, read the store, and test every claim.

    The claims file is read first, so a bad one is refused before the store is touched.
    Visits claims read the ship detections too, placed in the zones of their AOI's file in
    ``aoi_dir``.

    Raises:
        InvalidClaimsError: the claims file is missing or invalid.
        StoreError: the store does not exist or cannot be read.
    """
    from pipeline.detect.analyse import detector_version

    claims = load_claims(claims_path)
    digest = file_sha256(Path(claims_path).read_bytes())
    with open_existing_store(db) as store:
        version = choose_version(store.detector_versions(), detector_version())
        if version is not None and version != detector_version():
            log.warning(
                "store %s has no observations from detector %s; evaluating %s instead",
                db,
                detector_version(),
                version,
            )
        rows = store.observations(detector_version=version) if version is not None else []
        zone_rows = store.zone_observations(detector_version=version) if version else []
        aois = visit_aois(claims, aoi_dir)
        detections = store.detection_rows(detector_version=version) if aois and version else []
    marks = ship_marks(detections, aois)
    verdicts = [
        v
        if v.registration is None
        else replace(v, registration=replace(v.registration, claims_sha256=digest))
        for v in evaluate_claims(
            claims, [*rows, *zone_rows], ships=marks, aoi_zones=zone_names(aois)
        )
    ]
    return Evaluation(claims, tuple(verdicts), tuple(rows), version, db)

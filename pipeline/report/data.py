"""Everything the report shows, gathered from the store and the seed files in one place.

Reads only: the store is opened read-only for the tables beyond ``observations``
(scene provenance, runs), so drawing a report never changes the results.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.claims.evaluate import Evaluation, open_existing_store
from pipeline.errors import InvalidAoiError, StoreError
from pipeline.geo.aoi import load_aois
from pipeline.report.osint import OsintPoint
from pipeline.store.readonly import run_rows, scene_json_rows
from pipeline.types import Aoi, Observation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provenance:
    """Where one stored observation came from."""

    processed_at: str | None
    """When it was written (UTC, ISO 8601)."""
    run_id: str | None
    """The run that wrote it."""
    scene: Mapping[str, Any]
    """The scene's stored metadata (``scene_json``): untrusted text, always escaped."""


@dataclass(frozen=True)
class ReportData:
    """What :mod:`pipeline.report.page` draws."""

    evaluation: Evaluation
    """Claims, verdicts and the observations behind them."""
    detections: tuple[dict[str, Any], ...]
    """Stored detections of the evaluated detector version."""
    provenance: Mapping[tuple[str, str], Provenance]
    """(aoi, scene id) → provenance, for the evaluated detector version."""
    runs: tuple[dict[str, Any], ...]
    """Rows of the ``runs`` table, newest first."""
    osint: tuple[OsintPoint, ...]
    """The analysts' observations."""
    aois: Mapping[str, Aoi]
    """AOI outlines by id (AOIs in the store but not in ``aoi/`` are missing)."""
    zone_observations: tuple[Observation, ...] = ()
    """Yard zones' own rows (``zone`` set) of the evaluated detector version."""
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the report was drawn."""

    @property
    def simulated(self) -> bool:
        """Whether any input scene was simulated."""
        return self.evaluation.simulated or any(v.simulated for v in self.evaluation.verdicts)


def read_provenance(db: Path, version: str | None) -> dict[tuple[str, str], Provenance]:
    """Scene metadata and run of every observation of ``version``.

    Raises:
        StoreError: the store cannot be read.
    """
    if version is None:
        return {}
    rows = scene_json_rows(db, version)
    out = {}
    for aoi, scene_id, processed_at, run_id, scene_json in rows:
        try:
            scene = json.loads(scene_json) if scene_json else {}
        except json.JSONDecodeError:
            scene = {}
        out[(aoi, scene_id)] = Provenance(processed_at, run_id, _scene_part(scene))
    return out


def _scene_part(doc: Any) -> Mapping[str, Any]:
    """The scene summary inside ``scene_json`` (``{"scene": {...}, "reference": ...}``)."""
    if isinstance(doc, dict) and isinstance(doc.get("scene"), dict):
        return {**doc["scene"], "reference": doc.get("reference"), "pixels": doc.get("pixels")}
    return doc if isinstance(doc, dict) else {}


def read_runs(db: Path) -> tuple[dict[str, Any], ...]:
    """The ``runs`` table, newest first (empty when it cannot be read)."""
    try:
        return run_rows(db)
    except StoreError as exc:
        log.warning("cannot read runs from %s: %s", db, exc)
        return ()


def read_aois(aoi_dir: Path) -> dict[str, Aoi]:
    """AOI outlines by id; empty, with a warning, when the folder cannot be read."""
    try:
        return {a.id: a for a in load_aois(aoi_dir)}
    except InvalidAoiError as exc:
        log.warning("AOI outlines unavailable for the map and the yards: %s", exc)
        return {}


def gather(
    evaluation: Evaluation, *, osint: tuple[OsintPoint, ...], aois: Mapping[str, Aoi]
) -> ReportData:
    """Collect what the report needs beyond the verdicts.

    Raises:
        StoreError: the store cannot be read.
    """
    version = evaluation.detector_version
    with open_existing_store(evaluation.db) as store:
        detections = store.detection_rows(detector_version=version) if version else []
        zones = store.zone_observations(detector_version=version) if version else []
    return ReportData(
        evaluation=evaluation,
        detections=tuple(detections),
        provenance=read_provenance(evaluation.db, version),
        runs=read_runs(evaluation.db),
        osint=osint,
        aois=aois,
        zone_observations=tuple(zones),
    )

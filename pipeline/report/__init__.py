"""``rasonwatch report``: one self-contained, offline HTML page from the results store.

Modules: :mod:`~pipeline.report.data` gathers (read-only), :mod:`~pipeline.report.plots`,
:mod:`~pipeline.report.quicklooks` and :mod:`~pipeline.report.map` draw PNGs with
matplotlib, :mod:`~pipeline.report.page` assembles the page with the escaping builder of
:mod:`~pipeline.report.html`. Images are embedded as data URIs; there are no scripts,
fonts or tiles to fetch, so the page opens anywhere, offline, and stays the same.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pipeline.claims.evaluate import DEFAULT_CLAIMS, DEFAULT_OSINT, Evaluation, evaluate_store
from pipeline.claims.series import Metric, is_clear
from pipeline.config import Settings
from pipeline.geo.safe_paths import check_output_dir
from pipeline.report.data import ReportData, gather, read_aois
from pipeline.report.osint import OsintPoint, load_osint, yard_zones
from pipeline.report.quicklooks import Quicklook
from pipeline.report.yards import compare_yards

log = logging.getLogger(__name__)

__all__ = ["ReportResult", "render_report", "series_blocks", "write_report"]

#: Clear-fraction threshold for AOIs that no claim is about.
DEFAULT_MIN_CLEAR: Final = 0.8


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote and concluded."""

    path: Path
    """The ``index.html`` written."""
    evaluation: Evaluation
    """The verdicts drawn on it."""


def _metric_for(kind: str) -> Metric:
    return "railcar_equivalents" if kind == "rail" else "ships"


def chip_dirs(data: ReportData) -> list[Path]:
    """Where chip caches may be: each run's data folder, then next to the store."""
    folders: list[Path] = []
    for run in data.runs:
        try:
            params = json.loads(run.get("parameters_json") or "{}")
        except json.JSONDecodeError:
            continue
        if isinstance(params, dict) and isinstance(params.get("data_dir"), str):
            folders.append(Path(params["data_dir"]) / "chips")
    folders.append(data.evaluation.db.parent / "chips")
    return list(dict.fromkeys(f for f in folders if f.is_dir()))


def _yards_of(data: ReportData, aoi_id: str) -> list[str]:
    """The yard zones of an AOI to draw: those with rows, or named by a claim or a count."""
    named = [
        *(o.zone for o in data.zone_observations if o.aoi == aoi_id),
        *(c.zone for c in data.evaluation.claims if c.aoi == aoi_id),
        *(p.zone for p in data.osint if p.aoi == aoi_id),
    ]
    found = {z for z in named if z is not None}
    aoi = data.aois.get(aoi_id)
    order = [z.name for z in aoi.zones] if aoi is not None else []
    return sorted(found, key=lambda z: (order.index(z) if z in order else len(order), z))


def series_blocks(
    data: ReportData, aoi_id: str, *, metric: Metric, threshold: float
) -> list[tuple[str, str, bytes, str]]:
    """The AOI total's figure, then one per yard zone (rail AOIs): ``(id, title, png,
    caption)``. A claim or an analysts' count naming a zone is drawn on that zone's figure,
    where its series is, not on the total."""
    from pipeline.report.plots import SeriesPlot, series_png

    ev = data.evaluation
    aoi = data.aois.get(aoi_id)
    name = aoi.name if aoi is not None else aoi_id
    rows = [*ev.observations, *data.zone_observations]
    zones: list[str | None] = [None]
    if metric == "railcar_equivalents":
        zones += _yards_of(data, aoi_id)
    blocks = []
    for zone in zones:
        claims = tuple(
            c for c in ev.claims if c.aoi == aoi_id and c.metric == metric and c.zone == zone
        )
        verdicts = tuple(v for v in ev.verdicts if v.claim in {c.id for c in claims})
        osint = tuple(
            p for p in data.osint if p.aoi == aoi_id and p.metric == metric and p.zone == zone
        )
        title = name if zone is None else f"{name}: {zone}"
        spec = SeriesPlot(aoi_id, title, metric, threshold, claims, verdicts, osint, zone)
        own = [o for o in rows if o.aoi == aoi_id and o.zone == zone]
        n_clear = sum(1 for o in own if is_clear(o, threshold))
        n_failed = sum(1 for o in own if o.status != "ok")
        what = aoi_id if zone is None else f"the {zone} zone of {aoi_id}"
        caption = (
            f"{len(own)} scenes stored for {what}: {n_clear} at least {threshold:.0%} clear "
            f"(used), {len(own) - n_clear - n_failed} cloudier (faded), {n_failed} failed."
        )
        elsewhere = sorted(
            {c.zone for c in ev.claims if c.aoi == aoi_id and c.zone is not None}
            | {p.zone for p in data.osint if p.aoi == aoi_id and p.zone is not None}
        )
        if zone is None and elsewhere and metric == "railcar_equivalents":
            caption += (
                f" Claims and analysts' counts of one yard are drawn on that yard's own figure "
                f"({', '.join(elsewhere)}), not on this total."
            )
        block_id = aoi_id if zone is None else f"{aoi_id}-{zone}"
        blocks.append((block_id, title, series_png(spec, rows), caption))
    return blocks


def render_report(data: ReportData, *, settings: Settings) -> str:
    """Draw every figure and return the page."""
    from pipeline.report.map import map_png
    from pipeline.report.page import page
    from pipeline.report.quicklooks import make_quicklooks, pick_scenes
    from pipeline.report.visits_plot import visits_caption, visits_png

    ev = data.evaluation
    aoi_ids = list(dict.fromkeys([*(c.aoi for c in ev.claims), *(o.aoi for o in ev.observations)]))
    series: list[tuple[str, str, bytes, str]] = []
    looks: dict[str, Sequence[Quicklook]] = {}
    scene_docs = {sid: p.scene for (aoi, sid), p in data.provenance.items()}
    folders = chip_dirs(data)
    figure_clear: dict[str, float] = {}
    for aoi_id in aoi_ids:
        aoi = data.aois.get(aoi_id)
        claims = tuple(c for c in ev.claims if c.aoi == aoi_id)
        metric: Metric = claims[0].metric if claims else _metric_for(aoi.kind if aoi else "port")
        claims = tuple(c for c in claims if c.metric == metric)
        threshold = claims[0].min_clear_fraction if claims else DEFAULT_MIN_CLEAR
        figure_clear[aoi_id] = threshold
        series += series_blocks(data, aoi_id, metric=metric, threshold=threshold)
        if aoi is not None:
            picks = pick_scenes(
                ev.observations,
                aoi=aoi_id,
                metric=metric,
                min_clear_fraction=threshold,
                baseline=claims[0].baseline if claims else None,
            )
            looks[aoi_id] = make_quicklooks(
                picks,
                aoi,
                scene_docs=scene_docs,
                detections=data.detections,
                chip_dirs=folders,
                settings=settings,
            )
    drawn = [data.aois[a] for a in aoi_ids if a in data.aois]
    onsets = {v.aoi: v.onset for v in reversed(ev.verdicts)}
    thresholds = {c.aoi: c.min_clear_fraction for c in reversed(ev.claims)}
    clear = {
        (o.aoi, o.scene_id)
        for o in ev.observations
        if is_clear(o, thresholds.get(o.aoi, DEFAULT_MIN_CLEAR))
    }
    map_image = (
        map_png(drawn, data.detections, onsets=onsets, clear_scenes=clear) if drawn else None
    )
    missing = [a for a in aoi_ids if a not in data.aois]
    visits = [
        (c.id, visits_png(v, c, ev.observations), visits_caption(v))
        for c, v in zip(ev.claims, ev.verdicts, strict=True)
        if v.visits is not None
    ]
    yards = compare_yards(
        data.osint,
        data.zone_observations,
        min_clear_fraction=figure_clear,
        default_min_clear=DEFAULT_MIN_CLEAR,
    )
    return page(
        data,
        series=series,
        looks=looks,
        map_png=map_image,
        missing_aois=missing,
        visits=visits,
        yards=yards,
    )


def write_report(
    db: Path,
    out_dir: Path,
    *,
    claims_path: Path = DEFAULT_CLAIMS,
    osint_path: Path | None = DEFAULT_OSINT,
    settings: Settings | None = None,
) -> ReportResult:
    """Evaluate the claims, draw the report and write ``out_dir/index.html`` atomically.

    Inputs are all checked before anything is written: a bad claims file, OSINT table or
    store leaves ``out_dir`` untouched.

    Raises:
        InvalidClaimsError: the claims file is missing or invalid.
        InvalidOsintError: the OSINT table is invalid.
        StoreError: the store does not exist or cannot be read.
        OutputPathError: ``out_dir`` lies under a file or in a read-only folder.
        OSError: ``out_dir`` cannot be written all the same (a full disk...).
    """
    settings = settings or Settings()
    check_output_dir(out_dir, what="--out")
    evaluation = evaluate_store(db, claims_path)
    aois = read_aois(settings.aoi_dir)
    osint: tuple[OsintPoint, ...] = ()
    if osint_path is not None and osint_path.is_file():
        # Without AOI outlines a zone cannot be checked; read_aois has said why.
        osint = load_osint(osint_path, aoi_zones=yard_zones(aois.values()) if aois else None)
    data = gather(evaluation, osint=osint, aois=aois)
    html = render_report(data, settings=settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    handle, tmp = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=out_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(html)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ReportResult(target, evaluation)

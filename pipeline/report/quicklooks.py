"""Quicklooks for the report: the busiest clear scenes and a quiet baseline one, in true
colour, with the detections outlined.

Chips come from the chip cache when it holds them (``<data dir>/chips``, written by the
backfill), else they are read again through :func:`pipeline.read.chips.read_chip` from the
scene's assets as recorded in the store. A chip that cannot be read is reported on the
page, never a failure of the report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.claims.series import Metric, is_clear, metric_value
from pipeline.config import Settings
from pipeline.errors import RasonWatchError
from pipeline.geo.projection import reproject
from pipeline.geo.safe_paths import is_safe_name
from pipeline.report.figures import COLOURS, jpeg_bytes, new_figure, report_style
from pipeline.types import Aoi, BandAsset, Chip, Observation, Scene

log = logging.getLogger(__name__)

#: Busiest scenes shown per AOI.
N_BUSIEST: Final = 2
#: Width of a quicklook figure, inches.
WIDTH_IN: Final = 4.6
#: Length of the scale bar, metres.
SCALE_BAR_M: Final = 1000.0
#: Outline colour of the learned single-date detector's ships (cyan: distinct from the
#: reference-mode detections in the "after" colour).
LEARNED_COLOUR: Final = "#15d6e8"


@dataclass(frozen=True)
class Pick:
    """A scene chosen for a quicklook, and why."""

    observation: Observation
    """The stored observation."""
    role: str
    """``busiest`` or ``quiet baseline``."""


@dataclass(frozen=True)
class Quicklook:
    """A rendered quicklook, or why there is none."""

    pick: Pick
    """The scene and its role."""
    image: bytes | None
    """The image (JPEG), or None when the chip could not be read."""
    error: str | None = None
    """Why there is no image."""
    n_outlines: int = 0
    """Detections drawn."""


def pick_scenes(
    observations: Sequence[Observation],
    *,
    aoi: str,
    metric: Metric,
    min_clear_fraction: float,
    baseline: tuple[date, date] | None,
) -> list[Pick]:
    """The busiest clear scenes, then the quietest, clearest scene of the baseline."""
    clear = [
        o
        for o in observations
        if o.aoi == aoi and is_clear(o, min_clear_fraction) and metric_value(o, metric) is not None
    ]

    def busy(o: Observation) -> tuple[float, float]:
        return (metric_value(o, metric) or 0.0, o.clear_fraction or 0.0)

    picks = [Pick(o, "busiest") for o in sorted(clear, key=busy, reverse=True)[:N_BUSIEST]]
    chosen = {p.observation.scene_id for p in picks}
    quiet = [
        o
        for o in clear
        if o.scene_id not in chosen
        and (baseline is None or baseline[0] <= o.datetime.date() <= baseline[1])
    ]
    if quiet:
        calm = min(quiet, key=lambda o: (metric_value(o, metric) or 0.0, -(o.clear_fraction or 0)))
        picks.append(Pick(calm, "quiet baseline"))
    return picks


def scene_from_json(doc: Mapping[str, Any]) -> Scene:
    """Rebuild a :class:`Scene` from the summary stored with an observation.

    Raises:
        ValueError: the summary lacks what a read needs (id, datetime, EPSG, assets).
    """
    try:
        assets = {
            band: BandAsset(
                href=str(a["href"]),
                scale=float(a.get("scale", 1.0)),
                offset=float(a.get("offset", 0.0)),
            )
            for band, a in dict(doc["assets"]).items()
        }
        return Scene(
            id=str(doc["id"]),
            datetime=datetime.fromisoformat(str(doc["datetime"])),
            platform=str(doc.get("platform", "")),
            tile=str(doc.get("tile", "")),
            epsg=int(doc["epsg"]),
            processing_baseline=str(doc.get("processing_baseline", "")),
            assets=assets,
            cloud_cover=None,
            source=str(doc.get("source", "")),
            collection=str(doc.get("collection", "")),
            offset_rule=str(doc.get("offset_rule", "")),
            simulated=bool(doc.get("simulated", False)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"stored scene metadata is incomplete ({exc})") from None


def _signer(source: str, settings: Settings) -> Callable[[str], str]:
    from pipeline.sources import NAMED_SOURCES, open_source

    if source in NAMED_SOURCES or source.startswith(("http://", "https://")):
        return open_source(source, settings).sign
    return lambda href: href


def load_chip(
    aoi: Aoi, scene_doc: Mapping[str, Any], *, chip_dirs: Sequence[Path], settings: Settings
) -> Chip:
    """The chip of a stored scene: from a chip cache if one holds it, else read again.

    Raises:
        ValueError: the stored scene metadata is incomplete.
        RasonWatchError: the pixels cannot be read (see :func:`pipeline.read.chips.read_chip`).
    """
    scene_id = str(scene_doc.get("id", ""))
    try:
        from pipeline.read.chip_cache import ChipCache
    except ImportError:  # the cache module is optional for drawing a report
        ChipCache = None  # type: ignore[assignment,misc]  # noqa: N806
    origin = scene_doc.get("pixels")
    if ChipCache is not None and isinstance(origin, str) and is_safe_name(origin):
        for folder in chip_dirs:
            cached = ChipCache(folder).get(scene_id, origin, aoi)
            if cached is not None:
                return cached
    from pipeline.read.chips import read_chip

    scene = scene_from_json(scene_doc)
    return read_chip(scene, aoi, settings=settings, sign=_signer(scene.source, settings))


def _pixel_outline(geometry: BaseGeometry, chip: Chip) -> np.ndarray[Any, Any] | None:
    """Exterior ring of a WGS84 polygon in the chip's (col, row) pixel coordinates."""
    projected = reproject(geometry, dst_epsg=chip.epsg)
    if not isinstance(projected, Polygon):
        return None
    inv = ~chip.transform
    xy = np.asarray(projected.exterior.coords)
    cols = inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c
    rows = inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f
    return np.column_stack([cols, rows])


def render(chip: Chip, aoi: Aoi, detections: Sequence[Mapping[str, Any]]) -> tuple[bytes, int]:
    """True-colour JPEG of ``chip`` with AOI zones, detection outlines and a scale bar.

    Detections of the learned single-date detector (method ``learned``) are outlined in
    :data:`LEARNED_COLOUR`, the others in the report's "after" colour.
    """
    from pipeline.report.quicklook_png import rgb_array

    with report_style():
        rows, cols = chip.shape
        fig = new_figure(WIDTH_IN, WIDTH_IN * rows / max(cols, 1))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.imshow(rgb_array(chip), interpolation="nearest")
        for zone in aoi.zones:
            ring = _pixel_outline(zone.geometry, chip)
            if ring is not None:
                ax.plot(ring[:, 0] - 0.5, ring[:, 1] - 0.5, ls="--", lw=0.9, color="#ffd43b")
        drawn = 0
        for det in detections:
            ring = None
            text = det.get("geometry_wkt")
            if isinstance(text, str):
                try:
                    ring = _pixel_outline(wkt.loads(text), chip)
                except (ShapelyError, ValueError):
                    ring = None
            colour = LEARNED_COLOUR if det.get("method") == "learned" else COLOURS["after"]
            if ring is not None:
                ax.plot(ring[:, 0] - 0.5, ring[:, 1] - 0.5, color=colour, lw=1.3)
            else:
                ax.plot([det["col"]], [det["row"]], "o", mfc="none", color=colour)
            drawn += 1
        pixel_m = abs(float(chip.transform.a)) or 10.0
        bar = SCALE_BAR_M / pixel_m
        x0, y0 = cols * 0.05, rows * 0.94
        ax.plot([x0, x0 + bar], [y0, y0], color="white", lw=3, solid_capstyle="butt")
        ax.text(
            x0 + bar / 2,
            y0 - rows * 0.015,
            "1 km",
            color="white",
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
        )
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_axis_off()
        return jpeg_bytes(fig), drawn


def make_quicklooks(
    picks: Sequence[Pick],
    aoi: Aoi,
    *,
    scene_docs: Mapping[str, Mapping[str, Any]],
    detections: Sequence[Mapping[str, Any]],
    chip_dirs: Sequence[Path],
    settings: Settings,
) -> list[Quicklook]:
    """Render each pick; a chip that cannot be read becomes a :class:`Quicklook` with a reason."""
    out = []
    for pick in picks:
        scene_id = pick.observation.scene_id
        doc = scene_docs.get(scene_id)
        if not doc:
            out.append(Quicklook(pick, None, "no scene metadata stored for this scene"))
            continue
        try:
            chip = load_chip(aoi, doc, chip_dirs=chip_dirs, settings=settings)
            mine = [d for d in detections if d.get("scene_id") == scene_id]
            png, n = render(chip, aoi, mine)
            out.append(Quicklook(pick, png, None, n))
        except (RasonWatchError, ValueError, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            log.warning("no quicklook of %s over %s: %s", scene_id, aoi.id, reason)
            out.append(Quicklook(pick, None, f"chip could not be read: {reason}"))
    return out

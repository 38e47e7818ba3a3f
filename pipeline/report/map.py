"""A map of the AOIs, their zones and the ship detections, drawn with matplotlib alone.

No tiles, no network: outlines come from ``aoi/``, points from the store. Longitude and
latitude axes with the aspect set for the latitude, so distances look right.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from matplotlib.axes import Axes
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.report.figures import COLOURS, new_figure, plain, png_bytes, report_style
from pipeline.types import Aoi

#: Zone outline colour per zone kind.
ZONE_COLOURS: Final = {
    "harbour": "#1c7ed6",
    "anchorage": "#15aabf",
    "yard": "#e67700",
    "bridge": "#c2255c",
}
#: Kilometres per degree of latitude.
KM_PER_DEG: Final = 111.32


def _rings(geometry: BaseGeometry) -> list[tuple[list[float], list[float]]]:
    polygons = [geometry] if isinstance(geometry, Polygon) else getattr(geometry, "geoms", [])
    out = []
    for polygon in polygons:
        if isinstance(polygon, Polygon):
            xs, ys = polygon.exterior.xy
            out.append((list(xs), list(ys)))
    return out


def _draw_aoi(ax: Axes, aoi: Aoi, *, labels: bool) -> None:
    for xs, ys in _rings(aoi.geometry):
        ax.plot(xs, ys, color=COLOURS["aoi"], lw=1.4)
    for zone in aoi.zones:
        colour = ZONE_COLOURS.get(zone.kind, COLOURS["muted"])
        for xs, ys in _rings(zone.geometry):
            ax.fill(xs, ys, color=colour, alpha=0.10, lw=0)
            ax.plot(xs, ys, color=colour, lw=1.0, ls="--")
        if labels:
            c = zone.geometry.representative_point()
            ax.text(c.x, c.y, plain(zone.name), color=colour, fontsize=7.5, ha="center")


def _scale_bar(ax: Axes, lat: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_km = (x1 - x0) * KM_PER_DEG * math.cos(math.radians(lat))
    nice = max(v for v in (0.5, 1, 2, 5, 10, 20) if v <= width_km / 3) if width_km > 1.5 else 0.5
    length = nice / (KM_PER_DEG * math.cos(math.radians(lat)))
    xs, ys = x0 + (x1 - x0) * 0.06, y0 + (y1 - y0) * 0.06
    ax.plot([xs, xs + length], [ys, ys], color=COLOURS["ink"], lw=2.5, solid_capstyle="butt")
    ax.text(xs + length / 2, ys + (y1 - y0) * 0.015, f"{nice:g} km", ha="center", fontsize=8)


def _frame(ax: Axes, bounds: tuple[float, float, float, float], pad: float) -> None:
    west, south, east, north = bounds
    dx, dy = (east - west) * pad, (north - south) * pad
    ax.set_xlim(west - dx, east + dx)
    ax.set_ylim(south - dy, north + dy)
    lat = (south + north) / 2
    ax.set_aspect(1.0 / math.cos(math.radians(lat)))
    ax.tick_params(labelsize=7.5)
    ax.set_xlabel("longitude (°E)", fontsize=8)
    ax.set_ylabel("latitude (°N)", fontsize=8)
    _scale_bar(ax, lat)


def map_png(
    aois: Sequence[Aoi],
    detections: Sequence[Mapping[str, Any]],
    *,
    onsets: Mapping[str, date | None],
    clear_scenes: set[tuple[str, str]],
) -> bytes:
    """An overview of every AOI, then one panel per AOI with its detections.

    Args:
        aois: the AOIs to draw.
        detections: stored detections (``aoi, scene_id, datetime, lon, lat``).
        onsets: onset date per AOI id: detections before it are grey, after it orange.
        clear_scenes: (aoi, scene id) of clear scenes; detections elsewhere are left out.
    """
    with report_style():
        panels = 1 + len(aois)
        fig = new_figure(min(4.2 * panels, 13.0), 4.4)
        overview = fig.add_subplot(1, panels, 1)
        west = min(a.bbox[0] for a in aois)
        south = min(a.bbox[1] for a in aois)
        east = max(a.bbox[2] for a in aois)
        north = max(a.bbox[3] for a in aois)
        for aoi in aois:
            _draw_aoi(overview, aoi, labels=False)
            c = aoi.geometry.centroid
            overview.annotate(
                plain(aoi.id),
                (c.x, aoi.bbox[3]),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                fontweight="bold",
            )
        _frame(overview, (west, south, east, north), 0.15)
        overview.set_title("Areas of interest")
        for i, aoi in enumerate(aois, start=2):
            ax = fig.add_subplot(1, panels, i)
            _draw_aoi(ax, aoi, labels=True)
            onset = onsets.get(aoi.id)
            mine = [
                d
                for d in detections
                if d.get("aoi") == aoi.id
                and (aoi.id, d.get("scene_id")) in clear_scenes
                and d.get("lon") is not None
                and d.get("lat") is not None
            ]
            moving = [d for d in mine if d.get("method") != "berth"]
            before = [d for d in moving if onset is None or _day(d) < onset]
            after = [d for d in moving if onset is not None and _day(d) >= onset]
            for group, colour, label in (
                (before, COLOURS["before"], "before onset" if onset else "detection"),
                (after, COLOURS["after"], "from onset"),
            ):
                _points(ax, group, label, "o", ms=2.6, color=colour, alpha=0.6, mew=0)
            # Ships counted at a usually occupied berth (against the looks in which it was
            # seen empty): open squares, so the berths the occupancy map flagged stand out.
            at_berths = [d for d in mine if d.get("method") == "berth"]
            berth_label = "at a usually occupied berth"
            _points(ax, at_berths, berth_label, "s", ms=5, mfc="none", mec="black", mew=0.8)
            _frame(ax, aoi.bbox, 0.05)
            ax.set_title(plain(aoi.id))
            if mine:
                ax.legend(
                    loc="upper center",
                    bbox_to_anchor=(0.5, -0.16),
                    ncols=2,
                    fontsize=7.5,
                    markerscale=2,
                )
        fig.tight_layout()
        return png_bytes(fig)


def _points(
    ax: Axes, found: Sequence[Mapping[str, Any]], label: str, marker: str, **style: Any
) -> None:
    """Detections as markers at their lon/lat, labelled with how many there are."""
    if found:
        lons, lats = [d["lon"] for d in found], [d["lat"] for d in found]
        ax.plot(lons, lats, marker, label=f"{label} ({len(found)})", **style)


def _day(detection: Mapping[str, Any]) -> date:
    return datetime.fromisoformat(str(detection["datetime"])).date()

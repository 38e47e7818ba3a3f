"""Stored ship detections → :class:`~pipeline.claims.visits.ShipMark` for the visits test.

Each detection is placed on a local metric plane and tagged with the AOI zones that contain
its centroid (``harbour``, ``anchorage``), so the pure rule never needs geometry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shapely.geometry import Point

from pipeline.claims.visits import PIXEL_M, ShipMark, local_metres
from pipeline.types import Aoi


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def ship_marks(rows: Iterable[Mapping[str, object]], aois: Mapping[str, Aoi]) -> list[ShipMark]:
    """Ship detections of the given AOIs as marks (other kinds and AOIs are skipped).

    ``rows`` are :meth:`pipeline.store.results.Store.detection_rows` dicts. A detection
    without lon/lat is placed by its pixel centroid and lies in no zone, so it never makes
    a visit.
    """
    out = []
    for r in rows:
        aoi = aois.get(str(r.get("aoi")))
        if aoi is None or r.get("kind") != "ship":
            continue
        lon, lat = _number(r.get("lon")), _number(r.get("lat"))
        zones: tuple[str, ...] = ()
        if lon is not None and lat is not None:
            x, y = local_metres(lon, lat, lat0=aoi.geometry.centroid.y)
            point = Point(lon, lat)
            zones = tuple(z.name for z in aoi.zones if z.geometry.covers(point))
        else:
            x = (_number(r.get("col")) or 0.0) * PIXEL_M
            y = -(_number(r.get("row")) or 0.0) * PIXEL_M
        out.append(
            ShipMark(
                aoi=aoi.id,
                scene_id=str(r.get("scene_id")),
                x_m=x,
                y_m=y,
                length_m=_number(r.get("length_m")),
                zones=zones,
            )
        )
    return out


def zone_names(aois: Mapping[str, Aoi]) -> dict[str, frozenset[str]]:
    """Each AOI's zone names."""
    return {a.id: frozenset(z.name for z in a.zones) for a in aois.values()}

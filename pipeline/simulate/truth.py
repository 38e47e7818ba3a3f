"""Ground truth of a rendered scene as table rows and JSON records, and the archive README.

Pixel coordinates are continuous ``(row, col)`` in the item's 10 m grid (``proj:transform``
of the 10 m assets): pixel ``(r, c)`` spans ``[r, r+1) x [c, c+1)``, so the pixel holding a
point is ``(floor(row), floor(col))``. Headings are degrees clockwise from grid north.
"""

from __future__ import annotations

import math
from typing import Any, Final

from pipeline.simulate.atmosphere import CIRRUS_MIN, CLOUD_MIN, SHADOW_MIN
from pipeline.simulate.grid import (
    MARGIN_M,
    WINDOW_EAST,
    WINDOW_NORTH,
    WINDOW_SOUTH,
    WINDOW_WEST,
    utm_to_lonlat,
    window_pixel,
)
from pipeline.simulate.railcars import CAR_PITCH, RAILCAR_DISPERSION, RailcarString
from pipeline.simulate.render import RenderedScene
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.scenario_keys import ZONE_SHARES
from pipeline.simulate.ships import Ship
from pipeline.simulate.stac import iso_time

TRUTH_COLUMNS: Final = ("scene_id", "aoi", "datetime", "ships", "railcars", "clear_fraction")


def truth_rows(scene: RenderedScene) -> list[dict[str, Any]]:
    """One ``truth.csv`` row per AOI of the scene."""
    return [
        {
            "scene_id": scene.info.item_id,
            "aoi": aoi,
            "datetime": iso_time(scene.info.datetime),
            "ships": len(truth.ships),
            "railcars": truth.railcars,
            "clear_fraction": f"{truth.clear_fraction:.4f}",
        }
        for aoi, truth in sorted(scene.truth.items())
    ]


def _point(x: float, y: float) -> dict[str, float]:
    lon, lat = utm_to_lonlat(x, y)
    row, col = window_pixel(x, y)
    return {
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "x": round(x, 2),
        "y": round(y, 2),
        "row": round(row, 3),
        "col": round(col, 3),
    }


def _ship(ship: Ship, n: int, scene_id: str) -> dict[str, Any]:
    return {
        "id": f"{scene_id}-ship-{n:02d}",
        **_point(ship.x, ship.y),
        "length_m": round(ship.length_m, 2),
        "width_m": round(ship.width_m, 2),
        "heading_deg": round(ship.heading_deg % 360, 2),
        "at_berth": ship.at_berth,
        "berth": ship.berth,
        "abreast": ship.abreast,
        "kind": ship.kind,
        "scl_as_cloud": ship.scl_as_cloud,
    }


def _string(string: RailcarString) -> dict[str, Any]:
    return {
        "zone": string.zone,
        "track": string.track,
        "start": _point(string.x0, string.y0),
        "end": _point(string.x1, string.y1),
        "n_cars": string.n_cars,
        "length_m": round(math.hypot(string.x1 - string.x0, string.y1 - string.y0), 2),
        "kind": string.kind,
    }


def object_records(scene: RenderedScene) -> list[dict[str, Any]]:
    """One ``truth-objects.ndjson`` record per AOI of the scene."""
    scene_id = scene.info.item_id
    return [
        {
            "scene_id": scene_id,
            "aoi": aoi,
            "datetime": iso_time(scene.info.datetime),
            "clear_fraction": truth.clear_fraction,
            "ships": [_ship(s, n, scene_id) for n, s in enumerate(truth.ships, start=1)],
            "railcars": truth.railcars,
            "railcar_strings": [_string(s) for s in truth.railcar_strings],
        }
        for aoi, truth in sorted(scene.truth.items())
    ]


def readme(scenario: Scenario, scenes: int) -> str:
    """The archive's README.txt."""
    return f"""\
THIS ARCHIVE IS SIMULATED. IT IS NOT REAL SATELLITE IMAGERY.

Written by `rasonwatch simulate` (rason-watch): {scenes} synthetic Sentinel-2 L2A scenes of
MGRS tile 52TFM over Rajin port (rajin-port) and the Tumangang-Khasan railhead
(tumangang-rail), from {scenario.start} to {scenario.end} every {scenario.revisit_days} days.
Every item carries "rasonwatch:simulated": true.

Scenario (as resolved, defaults filled in; the file given is copied to scenario.toml):

{scenario.to_toml()}
Layout
  catalog.json, sentinel-2-c1-l2a/collection.json   self-contained STAC catalog
  sentinel-2-c1-l2a/<id>/<id>.json                 items; asset hrefs relative to the item
  sentinel-2-c1-l2a/<id>/B02.tif B03 B04 B08 B11 SCL  COGs (uint16 DN / uint8 SCL, nodata 0)
  items.ndjson        the same items, one per line, asset hrefs relative to this folder
                      (e.g. sentinel-2-c1-l2a/<id>/B02.tif) and no links: prefix the hrefs
                      with the URL this folder is served at before loading them into a server
  truth.csv           scene_id, aoi, datetime, ships, railcars, clear_fraction
  truth-objects.ndjson  per scene and AOI: ships and railcar strings
  truth_zones.csv     scene_id, aoi, zone, ships, railcars (ships: harbour = at berth)
  truth_objects.csv   scene_id, aoi, kind, object_id, zone, length_m, x, y (UTM, centre);
                      object_id persists across the scenes of one stay
  truth_scenes.csv    scene_id, date, cloud_probability, snow, sea_ice, shift_x_px, shift_y_px,
                      aot_factor

Grid: EPSG:32652 on the real 52TFM pixel grid (origin x=600000, y=4700040); one window
x {WINDOW_WEST:.0f}-{WINDOW_EAST:.0f}, y {WINDOW_SOUTH:.0f}-{WINDOW_NORTH:.0f} spans both sites.
Only each AOI's box plus a {MARGIN_M:.0f} m margin (clipped at Tumangang's north, where the
real tile ends) is painted; the rest is nodata.

Radiometry: reflectance = DN * 0.0001 + offset; offset is 0 for processing baseline 03.01
(before 2022-01-25) and -0.1 for 04.00 (DN = reflectance * 10000 + 1000), as in raster:bands.

Truth conventions
  ships      true count of ships whose centre lies in the AOI, hidden by cloud or not
             (Poisson with the scenario mean; lengths 40-200 m, beam ~ length / 7)
  railcars   true count of railcars in the AOI's yards (negative binomial with the
             scenario mean and dispersion k = {RAILCAR_DISPERSION}: variance = mu + mu^2 / k);
             cars are {CAR_PITCH} m over couplers, 3.2 m wide, in strings on yard tracks
  clear_fraction  share of AOI pixels (10 m, centre inside the AOI) with thick-cloud
             opacity < {CLOUD_MIN}, cirrus opacity < {CIRRUS_MIN} and shadow < {SHADOW_MIN};
             the SCL uses the same thresholds (classes 8/9, 10, 3)
  row, col   continuous pixel coordinates in the item's 10 m grid: pixel (r, c) spans
             [r, r+1) x [c, c+1); heading_deg is clockwise from grid north
  Known SCL quirks, on purpose: ships on water are class 5, some bright ship decks
  (scl_as_cloud) and container stacks are class 8, thin cloud edges are class 7.
"""


ZONE_COLUMNS: Final = ("scene_id", "aoi", "zone", "ships", "railcars")
OBJECT_COLUMNS: Final = ("scene_id", "aoi", "kind", "object_id", "zone", "length_m", "x", "y")


def zone_rows(scene: RenderedScene) -> list[dict[str, Any]]:
    """One ``truth_zones.csv`` row per AOI zone of the scene (ships and railcars in it)."""
    rows = []
    for aoi, truth in sorted(scene.truth.items()):
        for zone in ZONE_SHARES[aoi]:
            rows.append(
                {
                    "scene_id": scene.info.item_id,
                    "aoi": aoi,
                    "zone": zone,
                    "ships": sum(1 for s in truth.ships if s.zone == zone),
                    "railcars": sum(s.n_cars for s in truth.railcar_strings if s.zone == zone),
                }
            )
    return rows


def object_rows(scene: RenderedScene) -> list[dict[str, Any]]:
    """One ``truth_objects.csv`` row per ship and railcar string (x, y: its centre, UTM m)."""
    scene_id = scene.info.item_id
    rows = []
    for aoi, truth in sorted(scene.truth.items()):
        for n, ship in enumerate(truth.ships, start=1):
            oid = ship.object_id or f"{scene_id}-ship-{n:02d}"
            rows.append(
                _object(scene_id, aoi, "ship", oid, ship.zone, ship.length_m, ship.x, ship.y)
            )
        for n, s in enumerate(truth.railcar_strings, start=1):
            oid = s.object_id or f"{scene_id}-railcars-{n:02d}"
            length = math.hypot(s.x1 - s.x0, s.y1 - s.y0)
            x, y = (s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2
            rows.append(_object(scene_id, aoi, "railcars", oid, s.zone, length, x, y))
    return rows


def _object(
    scene_id: str, aoi: str, kind: str, oid: str, zone: str, length: float, x: float, y: float
) -> dict[str, Any]:
    return {
        "scene_id": scene_id,
        "aoi": aoi,
        "kind": kind,
        "object_id": oid,
        "zone": zone,
        "length_m": f"{length:.2f}",
        "x": f"{x:.2f}",
        "y": f"{y:.2f}",
    }

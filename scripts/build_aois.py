"""Write aoi/*.geojson from ../shared/datasets/rason_sites.csv.

The AOIs are rectangles in UTM 52N (EPSG:32652) drawn around the sourced site
coordinates, generous because the Rajin piers are only known to ~1-2 km.
Run once by hand: ``python scripts/build_aois.py ../shared/datasets/rason_sites.csv``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from pyproj import Transformer

TO_WGS84 = Transformer.from_crs(32652, 4326, always_xy=True)


def ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return [[round(c, 6) for c in TO_WGS84.transform(x, y)] for x, y in corners]


def feature(props: dict[str, object], box: tuple[float, float, float, float]) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring(*box)]},
    }


def main(csv_path: str) -> None:
    with Path(csv_path).open(newline="") as handle:
        sites = {row["name"]: row for row in csv.DictReader(handle)}

    def cite(prefix: str) -> str:
        row = next(r for n, r in sites.items() if n.startswith(prefix))
        return f"{row['name']}: {row['lat']}, {row['lon']} ({row['precision']}; {row['source']})"

    port = {
        "type": "FeatureCollection",
        "features": [
            feature(
                {
                    "role": "aoi",
                    "id": "rajin-port",
                    "name": "Rajin (Najin) port, harbour and anchorage",
                    "kind": "port",
                    "sources": [
                        cite("Najin/Rajin port"),
                        cite("Rajin station"),
                        "Box drawn 6 x 6 km around the WPI point, generous: "
                        "pier geometry known to ~1-2 km",
                    ],
                },
                (604800, 4673300, 610800, 4679300),
            ),
            feature(
                {"role": "zone", "zone": "harbour", "kind": "harbour"},
                (606300, 4676000, 609300, 4678600),
            ),
            feature(
                {"role": "zone", "zone": "anchorage", "kind": "anchorage"},
                (605500, 4673300, 610500, 4676000),
            ),
        ],
    }
    rail = {
        "type": "FeatureCollection",
        "features": [
            feature(
                {
                    "role": "aoi",
                    "id": "tumangang-rail",
                    "name": "Tumangang-Khasan railhead",
                    "kind": "rail",
                    "sources": [
                        cite("Tumangang station"),
                        cite("Korea-Russia"),
                        cite("Khasan station"),
                    ],
                },
                (631000, 4696300, 636400, 4699700),
            ),
            feature(
                {"role": "zone", "zone": "tumangang-yard", "kind": "yard"},
                (631400, 4697500, 633400, 4698150),
            ),
            feature(
                {"role": "zone", "zone": "friendship-bridge", "kind": "bridge"},
                (634500, 4696800, 635500, 4697550),
            ),
            feature(
                {"role": "zone", "zone": "khasan-yard", "kind": "yard"},
                (634900, 4698300, 635800, 4699400),
            ),
        ],
    }
    for doc in (port, rail):
        aoi_id = doc["features"][0]["properties"]["id"]  # type: ignore[index]
        Path("aoi", f"{aoi_id}.geojson").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])

"""``rasonwatch export``: detections as GeoParquet (opens in QGIS), observations as CSV.

GeoParquet 1.0.0, written with pyarrow alone: the ``geometry`` column holds WKB (the ship's
outline polygon in WGS84, or its centroid point when no outline was stored) and the file's
``geo`` metadata names it, its encoding, geometry types, bounding box and CRS (OGC:CRS84,
longitude/latitude). GDAL >= 3.5 and therefore QGIS read such files directly.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from pipeline.errors import StoreError
from pipeline.geo.safe_paths import check_output_dir
from pipeline.store.results import Store
from pipeline.store.rows import CONTRACT_COLUMNS

GEOPARQUET_VERSION: Final = "1.0.0"
#: Columns of ``observations.csv``: the contract table's, then the extras.
OBSERVATION_COLUMNS: Final = (
    *CONTRACT_COLUMNS,
    "railcar_low",
    "railcar_high",
    "simulated",
    "reference_id",
    "product_level",
)
_DETECTION_SCHEMA: Final = pa.schema(
    [
        ("aoi", pa.string()),
        ("scene_id", pa.string()),
        ("datetime", pa.timestamp("us", tz="UTC")),
        ("detector_version", pa.string()),
        ("source", pa.string()),
        ("n", pa.int32()),
        ("kind", pa.string()),
        ("row", pa.float64()),
        ("col", pa.float64()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("length_m", pa.float64()),
        ("width_m", pa.float64()),
        ("heading_deg", pa.float64()),
        ("score", pa.float64()),
        ("simulated", pa.bool_()),
        ("method", pa.string()),
        ("geometry", pa.binary()),
    ]
)


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_store` wrote."""

    detections: Path
    """The GeoParquet file."""
    observations: Path
    """The CSV file."""
    n_detections: int
    """Rows in the GeoParquet file."""
    n_observations: int
    """Rows in the CSV file."""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "detections": str(self.detections),
            "observations": str(self.observations),
            "n_detections": self.n_detections,
            "n_observations": self.n_observations,
        }


def _geometry(row: dict[str, Any]) -> BaseGeometry | None:
    wkt = row.get("geometry_wkt")
    if wkt:
        try:
            shape = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException:
            shape = None
        if isinstance(shape, BaseGeometry) and not shape.is_empty:
            return shape
    if row.get("lon") is not None and row.get("lat") is not None:
        return Point(float(row["lon"]), float(row["lat"]))
    return None


def geo_metadata(geometries: Sequence[BaseGeometry | None]) -> dict[str, Any]:
    """The GeoParquet ``geo`` metadata for a WKB ``geometry`` column in OGC:CRS84."""
    present = [g for g in geometries if g is not None]
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": sorted({g.geom_type for g in present}),
    }
    if present:
        bounds = shapely.total_bounds(present)
        column["bbox"] = [float(v) for v in bounds]
    return {
        "version": GEOPARQUET_VERSION,
        "primary_column": "geometry",
        "columns": {"geometry": column},
    }


def write_detections(rows: Sequence[dict[str, Any]], path: Path) -> int:
    """Write detections (from :meth:`pipeline.store.results.Store.detection_rows`) as GeoParquet."""
    geometries = [_geometry(r) for r in rows]
    columns: dict[str, list[Any]] = {name: [] for name in _DETECTION_SCHEMA.names}
    for row, shape in zip(rows, geometries, strict=True):
        for name in _DETECTION_SCHEMA.names:
            if name == "geometry":
                columns[name].append(None if shape is None else shapely.to_wkb(shape))
            elif name == "datetime":
                columns[name].append(datetime.fromisoformat(str(row["datetime"])))
            elif name == "simulated":
                columns[name].append(bool(row["simulated"]))
            else:
                columns[name].append(row.get(name))
    table = pa.table(columns, schema=_DETECTION_SCHEMA)
    metadata = {b"geo": json.dumps(geo_metadata(geometries)).encode()}
    table = table.replace_schema_metadata(metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def write_observations(store: Store, path: Path, *, detector_version: str | None) -> int:
    """Write the observations (contract columns first) as CSV."""
    observations = store.observations(detector_version=detector_version)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(OBSERVATION_COLUMNS)
        for o in observations:
            values = {
                **{c: getattr(o, c) for c in OBSERVATION_COLUMNS},
                "datetime": o.datetime.isoformat().replace("+00:00", "Z"),
                "simulated": int(o.simulated),
            }
            writer.writerow(["" if values[c] is None else values[c] for c in OBSERVATION_COLUMNS])
    return len(observations)


def export_store(db: Path, out: Path, *, detector_version: str | None = None) -> ExportSummary:
    """Export ``db`` to ``out/detections.parquet`` and ``out/observations.csv``.

    Raises:
        StoreError: ``db`` does not exist, or cannot be read.
        StoreVersionError: ``db`` is from a newer rason-watch.
        OutputPathError: ``out`` cannot be created or written (checked before reading).
    """
    if not Path(db).is_file():
        raise StoreError(f"no results store at {str(db)!r}; run `rasonwatch backfill` first")
    check_output_dir(out, what="--out")
    with Store(db) as store:
        detections = out / "detections.parquet"
        observations = out / "observations.csv"
        n_det = write_detections(
            store.detection_rows(detector_version=detector_version), detections
        )
        n_obs = write_observations(store, observations, detector_version=detector_version)
    return ExportSummary(detections, observations, n_det, n_obs)

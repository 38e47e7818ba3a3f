"""How the store's tables map to and from :class:`~pipeline.types.Observation` and
:class:`~pipeline.types.DetectionRow`: column lists, row tuples, and row readers.

Pure: no connection here; :mod:`pipeline.store.results` runs the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from pipeline.types import DetectionRow, Observation

#: The ``observations`` contract columns, in order.
CONTRACT_COLUMNS: Final = (
    "aoi",
    "scene_id",
    "datetime",
    "clear_fraction",
    "ships",
    "railcar_equivalents",
    "occupied_track_m",
    "detector_version",
    "source",
    "status",
    "error",
)
#: The columns of the ``observations`` table: the contract's, then ``reference_id`` (schema 2)
#: and ``product_level`` (schema 6: ``L2A`` or ``L1C``).
OBSERVATION_COLUMNS: Final = (*CONTRACT_COLUMNS, "reference_id", "product_level")
KEY_COLUMNS: Final = ("aoi", "scene_id", "detector_version")
EXTRAS_COLUMNS: Final = (
    *KEY_COLUMNS,
    "railcar_low",
    "railcar_high",
    "simulated",
    "run_id",
    "processed_at",
    "scene_json",
    "shift_x_px",
    "shift_y_px",
    "low_confidence",
)
ZONE_COLUMNS: Final = (
    *KEY_COLUMNS,
    "zone",
    "railcar_equivalents",
    "occupied_track_m",
    "railcar_low",
    "railcar_high",
    "clear_fraction",
)
DETECTION_COLUMNS: Final = (
    *KEY_COLUMNS,
    "n",
    "kind",
    "row",
    "col",
    "lon",
    "lat",
    "length_m",
    "width_m",
    "heading_deg",
    "score",
    "geometry_wkt",
    "method",
)
#: What :func:`observation_from_row` reads: an observation joined with its extras
#: (``observations o LEFT JOIN observation_extras x``).
OBSERVATION_SELECT: Final = ", ".join(
    [f"o.{c}" for c in OBSERVATION_COLUMNS]
    + [
        "x.railcar_low",
        "x.railcar_high",
        "COALESCE(x.simulated, 0)",
        "x.shift_x_px",
        "x.shift_y_px",
        "x.low_confidence",
    ]
)
#: What :func:`zone_from_row` reads after :data:`OBSERVATION_SELECT` (``zone_observations z``).
ZONE_SELECT: Final = ", ".join(f"z.{c}" for c in ZONE_COLUMNS[len(KEY_COLUMNS) :])

Key = tuple[str, str, str]


def iso(moment: datetime) -> str:
    """A time as stored: UTC, ISO 8601, ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def insert_sql(table: str, columns: Sequence[str], *, or_replace: bool = False) -> str:
    """``INSERT [OR REPLACE] INTO table (columns) VALUES (?, ...)``."""
    verb = "INSERT OR REPLACE" if or_replace else "INSERT"
    marks = ", ".join("?" * len(columns))
    return f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def where(filters: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """`` WHERE a = ? AND b = ?`` for the filters that are set, and their values."""
    given = {column: value for column, value in filters.items() if value is not None}
    if not given:
        return "", []
    return " WHERE " + " AND ".join(f"{c} = ?" for c in given), list(given.values())


def key_of(o: Observation) -> Key:
    """The primary key every table shares."""
    return (o.aoi, o.scene_id, o.detector_version)


def observation_values(o: Observation) -> tuple[Any, ...]:
    """The row of ``observations``, in :data:`OBSERVATION_COLUMNS` order."""
    return (
        o.aoi,
        o.scene_id,
        iso(o.datetime),
        o.clear_fraction,
        o.ships,
        o.railcar_equivalents,
        o.occupied_track_m,
        o.detector_version,
        o.source,
        o.status,
        o.error,
        o.reference_id,
        o.product_level,
    )


def extras_values(
    o: Observation, *, run_id: str | None, processed_at: str, scene_json: str | None
) -> tuple[Any, ...]:
    """The row of ``observation_extras``, in :data:`EXTRAS_COLUMNS` order."""
    return (
        *key_of(o),
        o.railcar_low,
        o.railcar_high,
        int(o.simulated),
        run_id,
        processed_at,
        scene_json,
        o.shift_x_px,
        o.shift_y_px,
        o.low_confidence,
    )


def zone_values(key: Key, z: Observation) -> tuple[Any, ...]:
    """A row of ``zone_observations``, in :data:`ZONE_COLUMNS` order."""
    return (
        *key,
        z.zone,
        z.railcar_equivalents,
        z.occupied_track_m,
        z.railcar_low,
        z.railcar_high,
        z.clear_fraction,
    )


def detection_values(key: Key, n: int, d: DetectionRow) -> tuple[Any, ...]:
    """A row of ``detections``, in :data:`DETECTION_COLUMNS` order."""
    return (
        *key,
        n,
        d.kind,
        d.row,
        d.col,
        d.lon,
        d.lat,
        d.length_m,
        d.width_m,
        d.heading_deg,
        d.score,
        d.geometry_wkt,
        d.method,
    )


def observation_from_row(r: Sequence[Any]) -> Observation:
    """An observation from a row selected with :data:`OBSERVATION_SELECT`."""
    return Observation(
        aoi=r[0],
        scene_id=r[1],
        datetime=datetime.fromisoformat(r[2]),
        clear_fraction=r[3],
        ships=r[4],
        railcar_equivalents=r[5],
        occupied_track_m=r[6],
        detector_version=r[7],
        source=r[8],
        status=r[9],
        error=r[10],
        reference_id=r[11],
        product_level=r[12],
        railcar_low=r[13],
        railcar_high=r[14],
        simulated=bool(r[15]),
        shift_x_px=r[16],
        shift_y_px=r[17],
        low_confidence=r[18],
    )


def zone_from_row(r: Sequence[Any]) -> Observation:
    """A zone row from ``OBSERVATION_SELECT, ZONE_SELECT``: its AOI row's time, source,
    status, reference and flags, with the zone's own railcar figures and measured fraction."""
    parent = observation_from_row(r)
    zone = r[19:]
    return replace(
        parent,
        zone=zone[0],
        railcar_equivalents=zone[1],
        occupied_track_m=zone[2],
        railcar_low=zone[3],
        railcar_high=zone[4],
        clear_fraction=zone[5],
    )

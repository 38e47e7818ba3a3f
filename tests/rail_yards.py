"""One SIMULATED rail scene as the store holds it: the AOI total and a row per yard zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from pipeline.types import Observation


def rail_scene(
    day: date, total: float, tumangang: float, khasan: float, *, clear: float = 0.97
) -> tuple[Observation, list[Observation]]:
    """The ``tumangang-rail`` total on ``day`` and its two yards (each yard seen ``clear``)."""
    row = Observation(
        aoi="tumangang-rail",
        scene_id=f"S2X_T52TFM_{day:%Y%m%d}T021601_L2A",
        datetime=datetime(day.year, day.month, day.day, 2, 16, tzinfo=UTC),
        detector_version="test-1",
        source="local",
        clear_fraction=0.97,
        railcar_equivalents=total,
        occupied_track_m=total * 14.0,
        simulated=True,
    )
    yards = [
        replace(row, zone="tumangang-yard", railcar_equivalents=tumangang, clear_fraction=clear),
        replace(row, zone="khasan-yard", railcar_equivalents=khasan, clear_fraction=clear),
    ]
    return row, yards

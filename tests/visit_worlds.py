"""Synthetic worlds of ship visits for the visits test (claim (b)): no pixels.

A scene every ``revisit_days``, each clear with ``1 - cloud_probability``; ships arrive at
berths of the Rajin harbour and stay ``dwell_days``; a clear scene shows every ship then at
its berth (to a fraction of a pixel), plus the small craft and anchorage false alarms asked
for. Everything is SIMULATED and goes straight into :class:`Observation` and
:class:`DetectionRow` rows, or :class:`ShipMark` objects for the pure rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from pipeline.claims.visits import ShipMark, local_metres
from pipeline.types import DetectionRow, Observation

#: Berths along the Rajin piers (lon, lat), inside aoi/rajin-port.geojson's harbour zone.
BERTHS = ((130.2960, 42.2400), (130.3000, 42.2420), (130.3050, 42.2380), (130.3100, 42.2440))
#: A point in the anchorage zone, south of the harbour.
ANCHORAGE = (130.3050, 42.2150)
#: The latitude the local metric plane is tangent at (the AOI's centre).
LAT0 = 42.2315


#: Five consecutive scene dates of a 2-day revisit from 2017-01-01 (or 2018-07-01):
#: when a false alarm appears.
ALARM_DAYS = tuple(date(2021, 5, 2) + timedelta(days=2 * i) for i in range(5))


@dataclass(frozen=True)
class Call:
    """One ship's stay at a berth."""

    arrive: date
    days: int
    berth: int
    length_m: float = 112.0


@dataclass(frozen=True)
class World:
    """A world of scenes and ship calls."""

    start: date
    end: date
    calls: tuple[Call, ...]
    revisit_days: int = 2
    cloud_probability: float = 0.15
    seed: int = 17
    small_craft: bool = False
    """A 30 m boat somewhere in the harbour in every scene."""
    anchorage_false_alarms: Sequence[date] = field(default=())
    """Dates on which a 110 m false alarm appears in the anchorage."""
    harbour_false_alarms: Sequence[date] = field(default=())
    """Dates on which a 110 m false alarm appears at a pier (a negative control)."""


@dataclass(frozen=True)
class Seen:
    """One scene: its observation row and its ship detections."""

    observation: Observation
    detections: tuple[DetectionRow, ...]


def regular_calls(
    start: date, end: date, *, every_days: int, days: int, seed: int = 5
) -> list[Call]:
    """A call every ``every_days`` (give or take a few days) at a random berth."""
    rng = np.random.default_rng(seed)
    out, day = [], start
    while day <= end:
        out.append(Call(day, days, int(rng.integers(len(BERTHS)))))
        day += timedelta(days=every_days + int(rng.integers(-3, 4)))
    return out


def scenes(world: World) -> list[Seen]:
    """Every scene of the world, in date order."""
    rng = np.random.default_rng(world.seed)
    out = []
    day = world.start
    while day <= world.end:
        cloudy = rng.random() < world.cloud_probability
        clear = float(rng.uniform(0.0, 0.5) if cloudy else rng.uniform(0.85, 1.0))
        points: list[tuple[float, float, float]] = []
        if not cloudy:
            for call in world.calls:
                if call.arrive <= day < call.arrive + timedelta(days=call.days):
                    lon, lat = BERTHS[call.berth]
                    jitter = rng.normal(0.0, 0.00003, 2)  # ~3 m
                    points.append((lon + jitter[0], lat + jitter[1], call.length_m))
            if world.small_craft:
                lon = float(rng.uniform(130.292, 130.320))
                points.append((lon, float(rng.uniform(42.232, 42.250)), 30.0))
            if day in world.anchorage_false_alarms:
                points.append((*ANCHORAGE, 110.0))
            if day in world.harbour_false_alarms:
                points.append((130.3150, 42.2470, 110.0))
        scene_id = f"S2X_T52TFM_{day:%Y%m%d}T021601_L2A"
        obs = Observation(
            aoi="rajin-port",
            scene_id=scene_id,
            datetime=datetime(day.year, day.month, day.day, 2, 16, tzinfo=UTC),
            detector_version="test-1",
            source="local",
            clear_fraction=clear,
            ships=len(points),
            simulated=True,
        )
        dets = tuple(
            DetectionRow(
                kind="ship",
                row=0.0,
                col=0.0,
                lon=lon,
                lat=lat,
                length_m=length,
                width_m=16.0,
                heading_deg=90.0,
                score=0.9,
                geometry_wkt=None,
            )
            for lon, lat, length in points
        )
        out.append(Seen(obs, dets))
        day += timedelta(days=world.revisit_days)
    return out


def marks_of(seen: Sequence[Seen]) -> list[ShipMark]:
    """The detections as marks, zones decided by the test's own rectangles."""
    out = []
    for s in seen:
        for d in s.detections:
            assert d.lon is not None
            assert d.lat is not None
            x, y = local_metres(d.lon, d.lat, lat0=LAT0)
            harbour = 130.2882 <= d.lon <= 130.3245 and 42.2290 <= d.lat <= 42.2519
            anchorage = 42.2048 <= d.lat < 42.2283
            zones = ("harbour",) if harbour else ("anchorage",) if anchorage else ()
            out.append(ShipMark("rajin-port", s.observation.scene_id, x, y, d.length_m, zones))
    return out


def supported_world(**kw: object) -> World:
    """Visits 2017-2018, none 2019 to mid-2023, visits again from August 2023."""
    calls = [
        *regular_calls(date(2017, 1, 10), date(2018, 11, 30), every_days=20, days=4),
        *regular_calls(date(2023, 8, 3), date(2024, 6, 1), every_days=15, days=4, seed=6),
    ]
    args: dict[str, object] = {
        "start": date(2017, 1, 1),
        "end": date(2024, 6, 30),
        "calls": tuple(calls),
    }
    args.update(kw)
    return World(**args)  # type: ignore[arg-type]


def contradicted_world() -> World:
    """Regular visits throughout 2017-2024."""
    calls = regular_calls(date(2017, 1, 10), date(2024, 6, 1), every_days=20, days=4)
    return World(date(2017, 1, 1), date(2024, 6, 30), tuple(calls))


def late_archive_world() -> World:
    """The supported world's ships, but an archive that starts in 2020."""
    return supported_world(start=date(2020, 1, 1))

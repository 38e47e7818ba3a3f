"""When each simulated scene is acquired, by which satellite, and where the sun stands.

Sentinel-2 passes over 52TFM on a descending orbit at about 02:16 UTC (about 11:00 local
solar time). The sun position uses the NOAA solar-position equations (accurate to well under
a degree), evaluated at the tile's centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from pipeline.errors import InvalidScenarioError
from pipeline.geo.sun import sun_position as solar_position
from pipeline.simulate.grid import TILE
from pipeline.simulate.scenario import Scenario

#: Processing baseline 04.00 (DN offset +1000) applies from this date on.
BASELINE_04_FROM: Final = date(2022, 1, 25)
#: Datatake sensing start over 52TFM (goes into the item id), per platform.
DATATAKE_START: Final = {"sentinel-2a": time(2, 16, 1), "sentinel-2b": time(2, 15, 59)}
#: The granule's sensing time is a few seconds after the datatake start.
GRANULE_DELAY: Final = timedelta(seconds=19, milliseconds=824)
#: Where the sun geometry is evaluated (the tile's centre, 52TFM).
SUN_LAT: Final = 42.05
SUN_LON: Final = 130.83


@dataclass(frozen=True)
class SceneInfo:
    """Everything about one acquisition that is not pixels."""

    index: int
    """Position in the scenario's schedule."""
    date: date
    """Acquisition date (UTC)."""
    datetime: datetime
    """Granule sensing time, timezone-aware UTC."""
    platform: str
    """``sentinel-2a`` or ``sentinel-2b`` (they alternate)."""
    baseline: str
    """ESA processing baseline: ``03.01`` before 2022-01-25, ``04.00`` from then on."""
    item_id: str
    """Earth Search ``sentinel-2-c1-l2a`` style id, e.g. ``S2B_T52TFM_20230801T021559_L2A``."""
    sun_azimuth: float
    """Degrees clockwise from north."""
    sun_elevation: float
    """Degrees above the horizon."""

    @property
    def dn_offset(self) -> int:
        """DN added to ``reflectance * 10000`` (1000 from baseline 04.00)."""
        return 1000 if self.baseline >= "04.00" else 0

    @property
    def doy(self) -> int:
        """Day of year, 1-366."""
        return self.date.timetuple().tm_yday


def sun_position(when: datetime, lat: float = SUN_LAT, lon: float = SUN_LON) -> tuple[float, float]:
    """Solar ``(azimuth, elevation)`` in degrees for a UTC time (:mod:`pipeline.geo.sun`)."""
    sun = solar_position(when, lat=lat, lon=lon)
    return sun.azimuth, sun.elevation


def scene_info(scenario: Scenario, when: int | date) -> SceneInfo:
    """The acquisition at a schedule index or on a date.

    Raises:
        InvalidScenarioError: the index is out of range or the date is not an acquisition date.
    """
    dates = scenario.dates
    if isinstance(when, date):
        if when not in dates:
            raise InvalidScenarioError(
                f"scenario {scenario.where}: {when} is not an acquisition date "
                f"({scenario.start} + k * {scenario.revisit_days} days, up to {scenario.end})"
            )
        index = dates.index(when)
    else:
        if not 0 <= when < len(dates):
            raise InvalidScenarioError(
                f"scenario {scenario.where}: scene index {when} is outside 0-{len(dates) - 1}"
            )
        index = when
    day = dates[index]
    platform = "sentinel-2a" if index % 2 == 0 else "sentinel-2b"
    start = datetime.combine(day, DATATAKE_START[platform], tzinfo=UTC)
    sensed = start + GRANULE_DELAY
    azimuth, elevation = sun_position(sensed)
    letter = platform[-1].upper()
    return SceneInfo(
        index=index,
        date=day,
        datetime=sensed,
        platform=platform,
        baseline="04.00" if day >= BASELINE_04_FROM else "03.01",
        item_id=f"S2{letter}_T{TILE}_{start:%Y%m%dT%H%M%S}_L2A",
        sun_azimuth=azimuth,
        sun_elevation=elevation,
    )

"""Where the sun stands over a site at a scene's sensing time.

Sentinel-2 passes over Rason at about 02:15 UTC (10:55 local solar time), so the sun
stands in the south-south-east: about 70° up in June and 25° in December. What the sun
does to 10 m pixels depends on it: a railcar ~3.5 m high casts a shadow 1.3 m long in June
and 7.5 m long in December, as wide as two cars side by side.

The position follows NOAA's general solar position equations (fractional year, equation
of time, declination), good to a few tenths of a degree, which is far below what matters
for a shadow's width at 10 m. No scene metadata is needed: the scene's UTC time and the
site's latitude and longitude are enough.

Pure math; imports neither rasterio nor prefect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class SunPosition:
    """The sun seen from a point on the ground, degrees."""

    azimuth: float
    """Clockwise from true north (180 = due south)."""
    elevation: float
    """Above the horizon (negative at night)."""

    def shadow_length(self, height_m: float) -> float:
        """How far from its foot the shadow of a point ``height_m`` up falls, metres.

        Raises:
            ValueError: the sun is on or below the horizon.
        """
        if self.elevation <= 0.0:
            raise ValueError(f"the sun is {self.elevation:.1f} deg below the horizon: no shadow")
        return height_m / math.tan(math.radians(self.elevation))

    def across(self, heading_deg: float) -> float:
        """Share of a shadow's length that falls across a line heading ``heading_deg``.

        ``|sin(azimuth - heading)|``: 1 when the sun shines square onto the line (its shadow
        falls across it), 0 when the sun shines along it (the shadow falls on the line itself).
        """
        return abs(math.sin(math.radians(self.azimuth - heading_deg)))


def sun_position(when: datetime, *, lat: float, lon: float) -> SunPosition:
    """The sun's azimuth and elevation at ``lat``, ``lon`` (degrees) at UTC time ``when``.

    Raises:
        ValueError: ``when`` has no time zone (a naive time is ambiguous).
    """
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no time zone: give the sensing time in UTC")
    when = when.astimezone(UTC)
    day_of_year = when.timetuple().tm_yday
    hours = when.hour + when.minute / 60 + when.second / 3600
    gamma = 2 * math.pi / 365 * (day_of_year - 1 + (hours - 12) / 24)
    equation_of_time_min = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    declination = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    solar_minutes = hours * 60 + equation_of_time_min + 4 * lon
    hour_angle = math.radians(solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(
        declination
    ) * math.cos(hour_angle)
    zenith = math.acos(max(-1.0, min(1.0, cos_zenith)))
    azimuth = math.degrees(
        math.atan2(
            math.sin(hour_angle),
            math.cos(hour_angle) * math.sin(phi) - math.tan(declination) * math.cos(phi),
        )
    )
    return SunPosition(azimuth=(azimuth + 180.0) % 360.0, elevation=90.0 - math.degrees(zenith))

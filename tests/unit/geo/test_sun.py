"""The sun's position, checked against what astronomy fixes independently of the formula."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.geo.sun import SunPosition, sun_position

RAJIN = {"lat": 42.25, "lon": 130.30}


def test_noon_elevation_is_ninety_minus_latitude_plus_declination() -> None:
    # Greenwich at the June solstice, at solar noon (12:02 UTC that day): 90 - 51.48 + 23.44.
    sun = sun_position(datetime(2021, 6, 21, 12, 2, tzinfo=UTC), lat=51.48, lon=0.0)
    assert sun.elevation == pytest.approx(61.96, abs=0.3)
    assert sun.azimuth == pytest.approx(180.0, abs=2.0)


def test_equinox_noon_on_the_equator_is_overhead() -> None:
    sun = sun_position(datetime(2022, 3, 20, 12, 7, tzinfo=UTC), lat=0.0, lon=0.0)
    assert sun.elevation == pytest.approx(90.0, abs=1.0)


def test_sentinel2_morning_pass_over_rason_through_the_year() -> None:
    # 02:15 UTC is about 10:55 local solar time: the sun stands south-south-east, low in
    # December (90 - 42.25 - 23.44 = 24.3 deg at noon, a little less before it) and high
    # in June (71.2 deg at noon).
    winter = sun_position(datetime(2023, 12, 21, 2, 15, tzinfo=UTC), **RAJIN)
    summer = sun_position(datetime(2023, 6, 21, 2, 15, tzinfo=UTC), **RAJIN)
    assert 20.0 < winter.elevation < 24.3
    assert 62.0 < summer.elevation < 71.2
    for sun in (winter, summer):
        assert 130.0 < sun.azimuth < 180.0


def test_shadow_length_and_the_share_across_a_line() -> None:
    sun = SunPosition(azimuth=180.0, elevation=45.0)
    assert sun.shadow_length(4.0) == pytest.approx(4.0)
    assert sun.across(90.0) == pytest.approx(1.0)  # east-west track, sun due south
    assert sun.across(0.0) == pytest.approx(0.0, abs=1e-12)  # north-south track
    with pytest.raises(ValueError, match="below the horizon"):
        SunPosition(azimuth=0.0, elevation=-3.0).shadow_length(4.0)


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        sun_position(datetime(2023, 1, 1, 2, 15), **RAJIN)

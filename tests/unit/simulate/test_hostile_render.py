"""Issue 13, part B: the hostile world in the pixels (misregistration, harbour ice, light cars)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from skimage.registration import phase_cross_correlation

from pipeline.simulate import parse_scenario
from pipeline.simulate import spectra as sp
from pipeline.simulate.classify import SNOW, WATER
from pipeline.simulate.conditions import scene_shift
from pipeline.simulate.geography import site_map
from pipeline.simulate.hostile import basin
from pipeline.simulate.render import render_scene
from pipeline.simulate.scenario import Scenario


def _scenario(
    extra: str, *, ships: float = 0, railcars: float = 0, start: str = "2022-05-01", rail: str = ""
) -> Scenario:
    return parse_scenario(
        f'seed = 5\nstart = "{start}"\nend = "2022-12-31"\nrevisit_days = 5\n'
        f"cloud_probability = 0.0\n{extra}\n"
        f'[[aoi]]\nid = "rajin-port"\nactivity = [ {{ from = "2021-01-01", ships = {ships} }} ]\n'
        f'[[aoi]]\nid = "tumangang-rail"\n'
        f'activity = [ {{ from = "2021-01-01", railcars = {railcars} }} ]\n' + rail,
        where="hostile.toml",
    )


def test_phase_correlation_finds_the_recorded_relative_shift() -> None:
    """Two scenes 5 days apart: the measured shift between their bands is the recorded one."""
    scenario = _scenario("misregistration_px = 1.0")
    first, second = render_scene(scenario, 0), render_scene(scenario, 1)
    (dx0, dy0), (dx1, dy1) = (scene_shift(scenario, s.info.date) for s in (first, second))
    # phase_cross_correlation(reference, moving): the (row, col) move that registers moving.
    expected = np.array([dy1 - dy0, -(dx1 - dx0)])
    assert np.abs(expected).max() > 0.5  # a shift worth measuring
    size = 128
    hann = np.outer(np.hanning(size), np.hanning(size))
    for r0, c0 in ((100, 100), (200, 200)):
        for band in (2, 3):  # red, nir: land texture, town and quays
            a = first.sites["rajin-port"].reflectance[band, r0 : r0 + size, c0 : c0 + size]
            b = second.sites["rajin-port"].reflectance[band, r0 : r0 + size, c0 : c0 + size]
            found, *_ = phase_cross_correlation(  # type: ignore[no-untyped-call]
                a * hann, b * hann, upsample_factor=100
            )
            assert np.abs(found - expected).max() < 0.1, (r0, c0, band, found, expected)


def test_harbour_ice_is_bright_in_the_visible_dark_in_swir_and_snow_in_scl() -> None:
    """In a sea-ice month the basin is ice (SCL 11); without the key it is water (SCL 6)."""
    day = date(2022, 1, 10)
    iced = render_scene(_scenario("sea_ice_months = [1]", ships=3, start="2022-01-05"), day)
    plain = render_scene(_scenario("", ships=3, start="2022-01-05"), day)
    frozen = basin(site_map("rajin-port")) > 0.99
    assert frozen.sum() > 5000
    ice, water = iced.sites["rajin-port"], plain.sites["rajin-port"]
    assert np.median(ice.reflectance[1][frozen]) > 0.12  # green: bright
    assert np.median(ice.reflectance[4][frozen]) < 0.08  # swir16: dark, like snow
    assert np.median(water.reflectance[1][frozen]) < 0.08
    frozen20 = frozen[::2, ::2] & frozen[1::2, 1::2]
    assert np.mean(ice.scl[frozen20] == SNOW) > 0.6
    assert np.mean(water.scl[frozen20] == WATER) > 0.6
    assert ice.truth.ships == water.truth.ships  # ice is not ships


@pytest.mark.parametrize("light", [False, True])
def test_light_cars_are_brighter_than_ballast(light: bool) -> None:
    """``light_car_share = 1``: the cars brighten their track; without it they darken or tint."""
    day = date(2022, 6, 12)
    base = render_scene(_scenario("", railcars=150, start="2022-06-02"), day)
    rail = "light_car_share = 1.0\n" if light else ""
    scene = render_scene(_scenario("", railcars=150, start="2022-06-02", rail=rail), day)
    empty = render_scene(_scenario("", railcars=0, start="2022-06-02"), day)
    assert scene.truth["tumangang-rail"] == base.truth["tumangang-rail"]
    cars = scene.sites["tumangang-rail"].reflectance[2]
    bare = empty.sites["tumangang-rail"].reflectance[2]
    under = np.abs(base.sites["tumangang-rail"].reflectance[2] - bare) > 0.01
    assert under.sum() > 100
    if light:
        assert np.median(cars[under]) > sp.BALLAST[2]
        assert np.median(cars[under] - bare[under]) > 0.01
    else:
        assert np.median(cars[under] - bare[under]) < 0.0

"""Issue 13, part B: the hostile world in the pixels (shift, ice, light cars, shadows, haze)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from numpy.typing import NDArray
from skimage.registration import phase_cross_correlation

from pipeline.simulate import parse_scenario
from pipeline.simulate import spectra as sp
from pipeline.simulate.atmosphere import apply_haze
from pipeline.simulate.classify import SNOW, WATER
from pipeline.simulate.conditions import scene_conditions, scene_haze, scene_shift
from pipeline.simulate.geography import site_map
from pipeline.simulate.hostile import basin
from pipeline.simulate.render import render_scene
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.schedule import scene_info
from pipeline.simulate.shadows import building_shadow, shadow_offset
from pipeline.simulate.streams import stream
from pipeline.simulate.structures import SLOTS, footprint_cover, paint_structures


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
    under = np.abs(base.sites["tumangang-rail"].reflectance[2] - bare) > 0.005
    assert under.sum() > 150
    if light:
        assert np.median(cars[under]) > sp.BALLAST[2]
        assert np.median(cars[under] - bare[under]) > 0.01
    else:
        assert np.median(cars[under] - bare[under]) < 0.0


def test_shadows_are_longer_in_december_and_point_away_from_the_sun() -> None:
    """At ~02:16 UTC the sun is ~25 deg high in December and ~70 deg in June, to the south."""
    scenario = _scenario("", start="2022-06-02")
    june, december = (
        scene_info(scenario, date(2022, 6, 12)),
        scene_info(scenario, date(2022, 12, 19)),
    )
    assert 20 < december.sun_elevation < 30 < 65 < june.sun_elevation < 75
    winter = shadow_offset(20.0, (december.sun_azimuth, december.sun_elevation))
    summer = shadow_offset(20.0, (june.sun_azimuth, june.sun_elevation))
    assert np.hypot(*winter) == pytest.approx(20.0 / np.tan(np.radians(december.sun_elevation)))
    assert np.hypot(*winter) > 3 * np.hypot(*summer)
    assert winter[1] > 0  # the sun is in the south: shadows point north
    assert summer[1] > 0


def test_a_crane_shades_the_ground_north_of_it_and_nothing_else() -> None:
    """A 40 m mast: a long shadow northwards in December, a short one in June; open ground stays."""
    scenario = _scenario("", start="2022-06-02")
    heights = np.zeros((60, 60), np.float32)
    heights[40, 30] = 40.0
    lengths = {}
    for day in (date(2022, 6, 12), date(2022, 12, 19)):
        shadow = building_shadow(heights, scene_info(scenario, day))
        assert shadow[41:, :].max() == 0.0  # nothing south of the mast
        assert shadow[:, :20].max() == 0.0  # nor far to the side
        rows = np.nonzero(shadow.max(axis=1) > 0.2)[0]
        lengths[day.month] = 40 - int(rows.min())
    assert lengths[12] >= 3 * lengths[6] > 0


def test_railcar_shadows_darken_more_ground_in_december() -> None:
    """Rendered: pixels darkened by ``shadows = true`` per car, December against June."""
    per_car = {}
    for day in (date(2022, 6, 12), date(2022, 12, 19)):
        kind = render_scene(_scenario("", railcars=150, start="2022-06-02"), day)
        dark = render_scene(_scenario("shadows = true", railcars=150, start="2022-06-02"), day)
        assert dark.truth == kind.truth  # shadows are not truth
        diff = dark.sites["tumangang-rail"].reflectance - kind.sites["tumangang-rail"].reflectance
        assert diff.max() <= 0.0005  # shadows only darken (one DN of rounding)
        per_car[day.month] = (diff[2] < -0.005).sum() / kind.truth["tumangang-rail"].railcars
    assert per_car[6] > 0
    assert per_car[12] > 1.5 * per_car[6]


def test_shadows_false_or_absent_render_the_same_pixels() -> None:
    """Without ``shadows = true`` the pixels are today's (ship shadows on water only)."""
    day = date(2022, 5, 11)
    plain = render_scene(_scenario("", ships=4, railcars=80), day)
    off = render_scene(_scenario("shadows = false\nhaze = 0.0", ships=4, railcars=80), day)
    on = render_scene(_scenario("shadows = true", ships=4, railcars=80), day)
    for aoi, site in plain.sites.items():
        for band, dn in site.dn.items():
            assert np.array_equal(dn, off.sites[aoi].dn[band]), (aoi, band)
        assert not np.array_equal(site.dn["red"], on.sites[aoi].dn["red"]), aoi


def _dark_water(scene_refl: np.ndarray) -> np.ndarray:
    dark: np.ndarray = (scene_refl[3] < 0.03) & (scene_refl[1] < 0.08)
    return dark


def test_haze_spreads_dark_water_blue_from_scene_to_scene() -> None:
    """``haze = 0.6``: per-scene AOT factors spread dark-water blue; absent, nothing moves."""
    hazy, clear = _scenario("haze = 0.6"), _scenario("")
    day = date(2022, 5, 11)
    base = render_scene(clear, day).sites["rajin-port"].reflectance
    water = _dark_water(base)
    assert water.sum() > 1000
    patch = base[:, water][:, :, None]
    elevation = scene_info(clear, day).sun_elevation
    blues: dict[str, list[float]] = {"hazy": [], "clear": []}
    for i, when in enumerate(hazy.dates[:30]):
        for name, scenario in (("hazy", hazy), ("clear", clear)):
            factor = scene_haze(scenario, when)
            assert scene_conditions(scenario, i).aot_factor == factor
            seen = patch if factor == 1.0 else apply_haze(patch, factor, elevation)
            blues[name].append(float(seen[0].mean()))
    assert np.std(blues["clear"]) == 0.0
    assert np.std(blues["hazy"]) > 0.004
    # One rendered scene: the hazy one is brighter in the blue where the factor is above 1.
    when = max(hazy.dates[:12], key=lambda d: scene_haze(hazy, d))
    assert scene_haze(hazy, when) > 1.3
    seen = render_scene(hazy, when).sites["rajin-port"].reflectance
    plain = render_scene(clear, when).sites["rajin-port"].reflectance
    water = _dark_water(plain)
    blue = float(np.median(seen[0][water] - plain[0][water]))
    nir = float(np.median(seen[3][water] - plain[3][water]))
    assert blue > 0.005
    assert blue > 1.5 * abs(nir)  # aerosol optical thickness falls off as wavelength^-1.3


_BUILT = "2022-06-01"


def _footprint(aoi: str, kind: str) -> tuple[NDArray[np.bool_], tuple[slice, slice]]:
    """The pixels fully inside the first slot of a structure kind, and their window."""
    cover, window = footprint_cover(site_map(aoi), SLOTS[aoi][kind][0])
    return cover > 0.99, window


def _built(port: tuple[str, ...], rail: tuple[str, ...] = ()) -> Scenario:
    def tables(kinds: tuple[str, ...]) -> str:
        return "".join(f'[[aoi.structure]]\nfrom = "{_BUILT}"\nkind = "{k}"\n' for k in kinds)

    return parse_scenario(
        'seed = 5\nstart = "2022-05-01"\nend = "2022-12-31"\nrevisit_days = 5\n'
        "cloud_probability = 0.0\n"
        '[[aoi]]\nid = "rajin-port"\nactivity = [ { from = "2021-01-01", ships = 0 } ]\n'
        + tables(port)
        + '[[aoi]]\nid = "tumangang-rail"\n'
        'activity = [ { from = "2021-01-01", railcars = 0 } ]\n' + tables(rail),
        where="structures.toml",
    )


def _pixels(scenario: Scenario, day: date, aoi: str, kind: str) -> NDArray[np.float32]:
    """``(5, n)`` reflectance of a structure's footprint."""
    inside, window = _footprint(aoi, kind)
    refl = render_scene(scenario, day).sites[aoi].reflectance[(slice(None), *window)]
    return refl[:, inside]


def test_pier_extension_turns_harbour_water_into_concrete() -> None:
    """After ``from`` the tip of pier 2 reads as concrete (NIR ~0.22), not water (~0.02)."""
    built, plain = _built(("pier-extension",)), _built(())
    day = date(2022, 6, 5)
    before = _pixels(plain, day, "rajin-port", "pier-extension")
    after = _pixels(built, day, "rajin-port", "pier-extension")
    assert before.shape[1] > 60
    assert np.median(before[3]) < 0.05
    assert np.median(after[3]) > 0.17
    assert np.median(after[3] - before[3]) > 0.12
    inside, window = _footprint("rajin-port", "pier-extension")
    scl = render_scene(built, day).sites["rajin-port"].scl
    scl10 = np.repeat(np.repeat(scl, 2, 0), 2, 1)[window][inside]
    assert np.mean(scl10 == WATER) < 0.2


def test_structures_leave_the_scenes_before_their_date_untouched() -> None:
    """Before ``from`` both sites render exactly as without ``[[aoi.structure]]``."""
    built = _built(("pier-extension", "building", "stockpile"), ("building", "stockpile"))
    plain = _built(())
    day = date(2022, 5, 26)
    for aoi in ("rajin-port", "tumangang-rail"):
        a, b = (render_scene(s, day).sites[aoi] for s in (built, plain))
        assert np.array_equal(a.reflectance, b.reflectance), aoi
        assert np.array_equal(a.scl, b.scl), aoi


def test_building_is_a_bright_roof_and_stockpiles_are_dark_coal_and_reddish_ore() -> None:
    """A white roof on land, a coal heap on pier 1 at Rajin, an ore heap at Tumangang."""
    built = _built(("building", "stockpile"), ("building", "stockpile"))
    plain = _built(())
    day = date(2022, 6, 5)
    roof = _pixels(built, day, "rajin-port", "building")
    assert np.median(roof[0]) > 0.25
    assert np.median(roof[0] - _pixels(plain, day, "rajin-port", "building")[0]) > 0.15
    coal = _pixels(built, day, "rajin-port", "stockpile")
    quay = _pixels(plain, day, "rajin-port", "stockpile")
    assert np.median(quay[3] - coal[3]) > 0.1  # concrete -> coal
    ore = _pixels(built, day, "tumangang-rail", "stockpile")
    assert np.median(ore[2] / ore[1]) > 1.6  # reddish
    assert np.median(_pixels(built, day, "tumangang-rail", "building")[0]) > 0.25


def test_stockpile_size_varies_between_scenes() -> None:
    """The heap's area changes a little from scene to scene (its own random stream)."""
    built = _built(("stockpile",))
    site = site_map("rajin-port")
    structures = built.site("rajin-port").keys.structures
    fp = SLOTS["rajin-port"]["stockpile"][0]
    areas = []
    for day in (date(2022, 6, 5), date(2022, 6, 10), date(2022, 6, 15)):
        refl = np.zeros((5, *site.fixed_fraction.shape), np.float32)
        snow = np.zeros(site.fixed_fraction.shape, np.float32)
        rng = stream(built, day, "structures", 0)
        covered = paint_structures(refl, snow, site, "rajin-port", structures, day, 0.0, rng)
        assert covered is not None
        areas.append(float(covered.sum()) * 100)  # m2
    nominal = fp.length * fp.width
    assert all(0.8 * nominal < area < 1.22 * nominal for area in areas), areas
    assert max(areas) - min(areas) > 0.02 * nominal, areas
    early = np.zeros((5, *site.fixed_fraction.shape), np.float32)
    snow = np.zeros(site.fixed_fraction.shape, np.float32)
    rng = stream(built, date(2022, 5, 31), "structures", 0)
    assert (
        paint_structures(early, snow, site, "rajin-port", structures, date(2022, 5, 31), 0, rng)
        is None
    )

"""Rendering: deterministic, objects where the truth says, radiometry and SCL consistent."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import shapely

from pipeline.simulate import RenderedScene, parse_scenario, render_scene, scene_info
from pipeline.simulate.geography import site_map
from pipeline.simulate.grid import (
    MARGIN_M,
    REGIONS,
    TILE_ORIGIN_Y,
    aoi_mask,
    aoi_utm,
    region,
    window_pixel,
)
from pipeline.simulate.railcars import place_railcars

SUMMER = date(2023, 8, 6)
WINTER_03 = date(2021, 12, 22)


def _scenario(day: date, *, ships: float = 8.0, railcars: float = 80.0, seed: int = 16) -> str:
    """A one-scene scenario; with seed 16 the summer scene is cloud-free over both AOIs."""
    return f"""
seed = {seed}
start = "{day.isoformat()}"
end = "{day.isoformat()}"
cloud_probability = 0.0
[[aoi]]
id = "rajin-port"
activity = [{{ from = "2021-01-01", ships = {ships} }}]
[[aoi]]
id = "tumangang-rail"
activity = [{{ from = "2021-01-01", railcars = {railcars} }}]
"""


@pytest.fixture(scope="module")
def busy() -> RenderedScene:
    scene = render_scene(parse_scenario(_scenario(SUMMER)), 0)
    assert all(t.clear_fraction == 1.0 for t in scene.truth.values()), "pick a clear seed"
    return scene


@pytest.fixture(scope="module")
def empty() -> RenderedScene:
    return render_scene(parse_scenario(_scenario(SUMMER, ships=0, railcars=0)), 0)


def test_same_seed_same_scene_other_seed_other_scene(busy: RenderedScene) -> None:
    again = render_scene(parse_scenario(_scenario(SUMMER)), SUMMER)
    for band in ("blue", "nir", "swir16", "scl"):
        np.testing.assert_array_equal(busy.dn(band), again.dn(band))
    assert busy.truth == again.truth
    other = render_scene(parse_scenario(_scenario(SUMMER, seed=17)), 0)
    assert not np.array_equal(busy.dn("nir"), other.dn("nir"))


def test_ships_are_drawn_exactly_where_truth_puts_them(
    busy: RenderedScene, empty: RenderedScene
) -> None:
    ships = busy.truth["rajin-port"].ships
    assert ships, "a busy port should have ships"
    reg = region("rajin-port")
    site = busy.sites["rajin-port"]
    diff = np.abs(site.reflectance - empty.sites["rajin-port"].reflectance).max(axis=0)
    drawn = np.zeros(diff.shape, bool)
    for ship in ships:
        row, col = window_pixel(ship.x, ship.y)
        r, c = int(row) - reg.row0, int(col) - reg.col0
        if not site.obscured[r, c]:
            assert diff[r, c] > 0.02, f"nothing drawn at the centre of {ship}"
        reach = int(ship.length_m / 20) + 6  # hull, its shadow and the PSF
        drawn[max(r - reach, 0) : r + reach + 1, max(c - reach, 0) : c + reach + 1] = True
    # Nothing changes away from the ships: clouds, surface and noise are separate streams.
    assert diff[~drawn].max() < 1e-6
    inside = aoi_utm("rajin-port")
    assert all(shapely.contains_xy(inside, s.x, s.y) for s in ships)


def test_anchored_ship_is_a_bright_object_on_dark_water(busy: RenderedScene) -> None:
    site = busy.sites["rajin-port"]
    reg = site.region
    water = site_map("rajin-port").water_fraction > 0.99
    nir = site.reflectance[3]
    background = float(np.median(nir[water]))
    assert 0.005 < background < 0.035
    checked = 0
    for ship in busy.truth["rajin-port"].ships:
        row, col = window_pixel(ship.x, ship.y)
        r, c = int(row) - reg.row0, int(col) - reg.col0
        if ship.at_berth or site.obscured[r, c]:
            continue
        assert nir[r - 1 : r + 2, c - 1 : c + 2].max() > background + 0.04
        checked += 1
    assert checked >= 1


def test_railcars_stand_on_yard_tracks_and_darken_or_brighten_them(
    busy: RenderedScene, empty: RenderedScene
) -> None:
    truth = busy.truth["tumangang-rail"]
    assert truth.railcars == sum(s.n_cars for s in truth.railcar_strings) > 0
    site = busy.sites["tumangang-rail"]
    diff = np.abs(site.reflectance - empty.sites["tumangang-rail"].reflectance).max(axis=0)
    reg = region("tumangang-rail")
    seen = 0
    for string in truth.railcar_strings:
        zone = aoi_utm("tumangang-rail", string.zone)
        mid_x, mid_y = (string.x0 + string.x1) / 2, (string.y0 + string.y1) / 2
        assert shapely.contains_xy(zone, mid_x, mid_y)
        row, col = window_pixel(mid_x, mid_y)
        r, c = int(row) - reg.row0, int(col) - reg.col0
        if not site.obscured[r - 1 : r + 2, c - 1 : c + 2].any():
            assert diff[r - 1 : r + 2, c - 1 : c + 2].max() > 0.003
            seen += 1
    assert seen >= 1


def test_railcar_placement_keeps_the_count() -> None:
    site = site_map("tumangang-rail")
    strings = place_railcars(site, 175, np.random.default_rng(1))
    assert sum(s.n_cars for s in strings) == 175
    spans = {(s.track, round(s.x0), round(s.y0)) for s in strings}
    assert len(spans) == len(strings)


@pytest.mark.parametrize(("day", "offset"), [(WINTER_03, 0), (SUMMER, 1000)])
def test_dn_carry_the_baseline_offset_and_water_is_dark(day: date, offset: int) -> None:
    scene = render_scene(parse_scenario(_scenario(day)), 0)
    assert scene.info.baseline == ("03.01" if offset == 0 else "04.00")
    site = scene.sites["rajin-port"]
    water = (site_map("rajin-port").water_fraction > 0.99) & ~site.obscured
    dn = site.dn["nir"].astype(np.int64)
    dark = np.median(dn[water])
    assert offset + 50 < dark < offset + 350
    np.testing.assert_allclose(site.reflectance[3], (dn - offset) / 10000, atol=1e-6)
    reg = site.region
    assert site.dn["swir16"].shape == (reg.height // 2, reg.width // 2)
    assert (scene.dn("nir") == 0).sum() > 0  # outside the painted regions: nodata


def test_scl_agrees_with_truth_clear_fraction() -> None:
    text = _scenario(SUMMER).replace("cloud_probability = 0.0", "cloud_probability = 1.0")
    scene = render_scene(parse_scenario(text), 0)
    for aoi, site in scene.sites.items():
        assert set(np.unique(site.scl)) <= set(range(1, 12))
        hidden = np.isin(site.scl, (3, 8, 9, 10))
        inside = aoi_mask(aoi)[::2, ::2]
        scl_clear = 1 - float(hidden[inside].mean())
        truth = scene.truth[aoi].clear_fraction
        assert truth < 0.4, "a mostly cloudy scene"
        assert abs(scl_clear - truth) < 0.1


def test_sun_follows_the_seasons() -> None:
    june = scene_info(parse_scenario(_scenario(date(2023, 6, 22))), 0)
    december = scene_info(parse_scenario(_scenario(date(2023, 12, 20))), 0)
    assert june.sun_elevation > 60 > 30 > december.sun_elevation > 18
    assert 120 < june.sun_azimuth < 175
    assert 140 < december.sun_azimuth < 175


def test_regions_hold_each_aoi_with_its_margin() -> None:
    """Each painted region is the AOI's box plus the margin (less at the tile's top edge)."""
    for reg in REGIONS:
        west, south, east, north = aoi_utm(reg.aoi).bounds
        assert reg.west <= west - MARGIN_M + 1
        assert reg.east >= east + MARGIN_M - 1
        assert reg.south <= south - MARGIN_M + 1
        assert reg.north >= min(north + MARGIN_M, TILE_ORIGIN_Y) - 1
        # No more than one 20 m pixel of alignment beyond the margin.
        assert reg.west > west - MARGIN_M - 20
        assert reg.east < east + MARGIN_M + 20
        assert reg.south > south - MARGIN_M - 20
        assert reg.north <= TILE_ORIGIN_Y

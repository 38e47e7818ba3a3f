"""Issue 13, "The world looks real": snow on decks and car roofs, wet ballast, stockpiles that
change, and ships flush against the quays."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage
from test_hostile_render import _built, _footprint, _scenario

from pipeline.simulate import parse_scenario, render, weathering
from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import Berth, SiteMap, site_map
from pipeline.simulate.grid import PIXEL_M
from pipeline.simulate.placement import scene_objects
from pipeline.simulate.render import RenderedScene, render_scene
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.schedule import scene_info
from pipeline.simulate.ships import Ship
from pipeline.simulate.streams import stream
from pipeline.simulate.surface import weather

ALWAYS_SNOW = f"snow_probability_by_month = {[1.0] * 12}"
NEVER_CLOUDY = f"cloud_probability_by_month = {[0.0] * 12}"
WINTER_DAY = date(2022, 1, 10)
SUMMER_DAY = date(2022, 7, 1)


def _snowy(scenario: Scenario, day: date) -> tuple[float, ...]:
    """The per-object snow shares the renderer draws at each site (ships, then railcars)."""
    info = scene_info(scenario, day)
    months = scenario.world.snow_probability_by_month
    snowfall = weather(info, stream(scenario, day, "weather"), months).snow
    objects = scene_objects(scenario, scenario.dates.index(day))
    shares: list[float] = []
    for index, (aoi, chance) in enumerate(
        (
            ("rajin-port", weathering.DECK_SNOW_CHANCE),
            ("tumangang-rail", weathering.ROOF_SNOW_CHANCE),
        )
    ):
        ships, strings = objects[aoi]
        count = len(ships) if ships else len(strings)
        shares += weathering.object_snow(scenario, day, index, count, snowfall, chance) or ()
    return tuple(shares)


def test_snow_lies_on_some_decks_and_car_roofs_in_a_snowy_scene(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ships and cars brighten towards snow where they stand; nothing else changes."""
    scenario = _scenario(ALWAYS_SNOW, ships=8, railcars=150, start="2022-01-05")
    shares = _snowy(scenario, WINTER_DAY)
    assert 0 < sum(s > 0 for s in shares) < len(shares)  # some objects carry snow, not all
    snowy = render_scene(scenario, WINTER_DAY)
    monkeypatch.setattr(render, "object_snow", lambda *_: None)
    clean = render_scene(scenario, WINTER_DAY)
    assert snowy.truth == clean.truth  # snow is not an object
    empty = render_scene(_scenario(ALWAYS_SNOW, start="2022-01-05"), WINTER_DAY)
    for aoi, least in (("rajin-port", 0.15), ("tumangang-rail", 0.04)):
        diff = snowy.sites[aoi].reflectance - clean.sites[aoi].reflectance
        objects = np.abs(clean.sites[aoi].reflectance - empty.sites[aoi].reflectance).max(0) > 0
        assert diff[1].max() > least, aoi  # green: a deck or a roof turned white
        assert diff[:3].min() > -0.0005, aoi  # snow only brightens the visible (one DN)
        changed = np.abs(diff).max(0) > 0
        assert not (changed & ~ndimage.binary_dilation(objects, iterations=2)).any(), aoi


def test_no_snow_on_objects_or_wet_ground_without_the_keys() -> None:
    """Scenarios without the months keys keep clean objects and dry ballast (older pixels)."""
    plain = _scenario("", ships=8, start="2022-01-05")
    keyed = _scenario(f"{ALWAYS_SNOW}\n{NEVER_CLOUDY}", ships=8, start="2022-01-05")
    assert weathering.object_snow(plain, WINTER_DAY, 0, 8, 0.9, 1.0) is None
    assert weathering.object_snow(keyed, WINTER_DAY, 0, 8, 0.0, 1.0) is None  # no snowfall
    shares = weathering.object_snow(keyed, WINTER_DAY, 0, 8, 0.9, 1.0)
    assert shares is not None
    assert all(0.9 * 0.6 <= s <= 0.9 for s in shares)  # every object carries snow at chance 1
    for day in plain.dates:
        info = scene_info(plain, day)
        assert (
            weathering.wet_ground(plain, info, weather(info, stream(plain, day, "weather"))) is None
        )


def test_yards_are_wet_in_the_monsoon_and_thaw_never_in_frozen_or_snowy_scenes() -> None:
    """Over two years: wet scenes in July-August and March-April, none in December-February."""
    scenario = _scenario(
        f"{NEVER_CLOUDY}\nsnow_probability_by_month = {[0.0] * 12}", start="2021-01-01"
    )
    wet_months = []
    for day in scenario.dates:
        info = scene_info(scenario, day)
        sky = weather(
            info, stream(scenario, day, "weather"), scenario.world.snow_probability_by_month
        )
        if weathering.wet_ground(scenario, info, sky) is not None:
            wet_months.append(day.month)
    assert not {12, 1, 2} & set(wet_months)
    summer = sum(m in (7, 8) for m in wet_months) / sum(d.month in (7, 8) for d in scenario.dates)
    thaw = sum(m in (3, 4) for m in wet_months) / sum(d.month in (3, 4) for d in scenario.dates)
    autumn = sum(m in (10, 11) for m in wet_months) / sum(
        d.month in (10, 11) for d in scenario.dates
    )
    assert summer > thaw > autumn
    snowy = _scenario(ALWAYS_SNOW + f"\n{NEVER_CLOUDY}", start="2022-07-01")
    info = scene_info(snowy, SUMMER_DAY)
    sky = weather(info, stream(snowy, SUMMER_DAY, "weather"), (1.0,) * 12)
    assert sky.snow > 0
    assert weathering.wet_ground(snowy, info, sky) is None  # snow-covered: not wet ballast


def _loose(site: SiteMap) -> NDArray[np.bool_]:
    """Pixels that are all ballast or yard ground."""
    share = site.loose_ground[1] / np.float32(sp.YARD_GROUND[1])
    solid: NDArray[np.bool_] = (share > 0.95) & (site.fixed_fraction > 0.99)
    return solid


def test_wet_ballast_is_darker_than_dry_and_nothing_else_changes() -> None:
    """A wet July scene: yard ground 21-35 % darker in the visible, more in the SWIR."""
    wet_scenario = _scenario(NEVER_CLOUDY, start="2022-07-01")
    info = scene_info(wet_scenario, SUMMER_DAY)
    sky = weather(info, stream(wet_scenario, SUMMER_DAY, "weather"))
    assert weathering.wet_ground(wet_scenario, info, sky) is not None  # a wet scene
    wet, dry = (
        render_scene(s, SUMMER_DAY) for s in (wet_scenario, _scenario("", start="2022-07-01"))
    )
    assert wet.truth == dry.truth
    site = site_map("tumangang-rail")
    yard = _loose(site)
    assert yard.sum() > 1000
    ratio = _ratio(wet, dry, "tumangang-rail", yard)
    assert 0.62 < ratio[2] < 0.82  # red
    assert 0.65 < ratio[3] < 0.84  # nir
    assert ratio[4] < ratio[2] - 0.05  # swir16 loses more
    loose_any = ndimage.binary_dilation(site.loose_ground.max(0) > 0, iterations=3)
    for band in ("blue", "red", "nir"):
        a, b = wet.sites["tumangang-rail"].dn[band], dry.sites["tumangang-rail"].dn[band]
        assert np.array_equal(a[~loose_any], b[~loose_any]), band  # forest, fields, river
        assert np.array_equal(wet.sites["rajin-port"].dn[band], dry.sites["rajin-port"].dn[band])


def _ratio(
    a: RenderedScene, b: RenderedScene, aoi: str, mask: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Per band, the median reflectance ratio of ``a`` to ``b`` over ``mask``."""
    ra, rb = a.sites[aoi].reflectance, b.sites[aoi].reflectance
    return np.asarray([np.median(ra[k][mask] / rb[k][mask]) for k in range(5)])


def test_rendered_coal_heap_changes_area_between_dates() -> None:
    """The coal heap on pier 1 (concrete to coal in the NIR) covers a different area each scene."""
    built, plain = _built(("stockpile",)), _built(())
    inside, window = _footprint("rajin-port", "stockpile")
    rows, cols = window
    grown = (slice(rows.start - 2, rows.stop + 2), slice(cols.start - 2, cols.stop + 2))
    areas: list[float] = []
    for day in (d for d in built.dates if date(2022, 6, 1) <= d):
        if len(areas) == 3:
            break
        heap, quay = (render_scene(s, day).sites["rajin-port"] for s in (built, plain))
        if heap.obscured[grown].any():  # cirrus or a cloud shadow on the heap: not this one
            continue
        darker = quay.reflectance[3][grown] - heap.reflectance[3][grown]
        full = float(np.median(darker[2:-2, 2:-2][inside]))  # a pixel all coal
        areas.append(float(darker.sum()) / full * PIXEL_M**2)
    assert len(areas) == 3, "three clear scenes of the heap"
    assert all(0.8 * 4000 < a < 1.2 * 4000 for a in areas), areas  # 80 x 50 m, +-10 % a side
    assert max(areas) - min(areas) > 200, areas  # m2; a fixed heap measures within ~40 m2


def _perpendicular(berth: Berth) -> tuple[float, float]:
    """Unit vector square to the quay face, pointing into the water."""
    ux, uy = (berth.x1 - berth.x0) / berth.length, (berth.y1 - berth.y0) / berth.length
    px, py = uy, -ux
    return (px, py) if px * berth.nx + py * berth.ny > 0 else (-px, -py)


def _off_quay(berth: Berth, ship: Ship) -> tuple[float, float]:
    """Distance from the quay line to a ship's near and far sides, m."""
    px, py = _perpendicular(berth)
    centre = (ship.x - berth.x0) * px + (ship.y - berth.y0) * py
    return centre - ship.width_m / 2, centre + ship.width_m / 2


@pytest.mark.parametrize(
    "berth_keys", ["", "[[aoi.berth]]\noccupancy = 0.9\ndwell_days = 30\nlength_m = 110\n"]
)
def test_alongside_ships_lie_flush_against_the_quay_and_abreast_ships_against_them(
    berth_keys: str,
) -> None:
    """Hull side 0-2 m off the quay line (fenders); the outer ship 0-2 m off the inner one."""
    scenario = _port(berth_keys)
    berths = {b.name: b for b in site_map("rajin-port").berths}
    alongside, abreast = [], []
    for index in range(12):
        ships = scene_objects(scenario, index)["rajin-port"][0]
        for ship in (s for s in ships if s.at_berth):
            near, _ = _off_quay(berths[str(ship.berth)], ship)
            if not ship.abreast:
                alongside.append(near)
                continue
            inner = min(
                (s for s in ships if s.berth == ship.berth and not s.abreast),
                key=lambda s: np.hypot(s.x - ship.x, s.y - ship.y),
            )
            abreast.append(near - _off_quay(berths[str(ship.berth)], inner)[1])
    assert len(alongside) > 30
    assert abreast
    for gaps in (alongside, abreast):
        assert all(0.0 <= gap <= 2.0 + 1e-6 for gap in gaps), (min(gaps), max(gaps))


def _port(berth_keys: str) -> Scenario:
    """A busy port, its ships drawn per scene or (with ``[[aoi.berth]]``) staying."""
    return parse_scenario(
        'seed = 5\nstart = "2022-05-01"\nend = "2022-12-31"\nrevisit_days = 5\n'
        '[[aoi]]\nid = "rajin-port"\nactivity = [ { from = "2021-01-01", ships = 14 } ]\n'
        + berth_keys
    )


def test_quay_lines_are_the_painted_quay_edges() -> None:
    """Each berth line is where the map's water begins (within 2.5 m), so flush is flush."""
    site = site_map("rajin-port")
    xs, ys = site.region.pixel_centres()
    gx, gy = np.meshgrid(xs, ys)
    water = site.water_fraction
    for berth in site.berths:
        px, py = _perpendicular(berth)
        ux, uy = (berth.x1 - berth.x0) / berth.length, (berth.y1 - berth.y0) / berth.length
        along = (gx - berth.x0) * ux + (gy - berth.y0) * uy
        off = (gx - berth.x0) * px + (gy - berth.y0) * py
        band = (along > 0.2 * berth.length) & (along < 0.8 * berth.length) & (np.abs(off) < 40)
        wet_width = float(water[band].sum()) * PIXEL_M**2 / (0.6 * berth.length)
        assert abs(40 - wet_width) < 2.5, (berth.name, 40 - wet_width)

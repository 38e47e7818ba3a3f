"""Where the objects of one scene stand, and the pixel-free truth of a scene (issue 13).

:func:`place_objects` is what the renderer draws. An AOI without the keys of issue 13 draws
its count afresh every scene (exactly as before); one with them places the stays present at
the scene (:mod:`pipeline.simulate.dynamics`), each from its own random stream keyed by its
``object_id``, so a ship keeps its spot (and a train its track) from scene to scene unless an
earlier arrival took it. Berth ships lie at a fixed spot of their quay face.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import shapely

from pipeline.simulate import dynamics
from pipeline.simulate.geography import SiteMap
from pipeline.simulate.grid import REGIONS, aoi_utm
from pipeline.simulate.noise import weighted_choice
from pipeline.simulate.railcars import (
    CAR_KINDS,
    CAR_PITCH,
    RAILCAR_DISPERSION,
    RailcarString,
    free_spot,
    place_railcars,
    string_on,
)
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.schedule import scene_info
from pipeline.simulate.ships import SHIP_KINDS, Ship, _at_anchor, _at_berth, _on_water, place_ships
from pipeline.simulate.streams import named_stream, stream
from pipeline.simulate.surface import weather

Objects = tuple[tuple[Ship, ...], tuple[RailcarString, ...]]


def _count(scenario: Scenario, aoi: str, day: date, rng: np.random.Generator) -> int:
    site = scenario.site(aoi)
    mean = site.mean_on(day)
    if mean <= 0:
        return 0
    if site.metric == "ships":
        return int(rng.poisson(mean))
    k = RAILCAR_DISPERSION
    return int(rng.negative_binomial(k, k / (k + mean)))


def _berth_spot(site: SiteMap, index: int, length: float) -> tuple[float, float, float, str]:
    berth = site.berths[index % len(site.berths)]
    frac = min(0.5, (10 + length / 2) / berth.length) if berth.length > length + 20 else 0.5
    width = max(6.0, length / 7)
    x = berth.x0 + (berth.x1 - berth.x0) * frac + berth.nx * (width / 2 + 2.0)
    y = berth.y0 + (berth.y1 - berth.y0) * frac + berth.ny * (width / 2 + 2.0)
    return x, y, berth.heading, berth.name


def _ships(
    scenario: Scenario, site: SiteMap, stays: tuple[dynamics.Stay, ...], wind: float,
    rng: np.random.Generator,
) -> tuple[Ship, ...]:  # fmt: skip
    placed: list[Ship] = []
    for stay in stays:
        own = named_stream(scenario, "place", stay.object_id)
        length = stay.size
        width = (
            max(6.0, length / 7) if stay.berth is not None else length / 7 * own.uniform(0.9, 1.1)
        )
        width = max(6.0, float(width))
        kind = weighted_choice(own, SHIP_KINDS)
        shade = float(own.uniform(0.8, 1.35))
        spot: tuple[float, float, float, str | None, bool] | None
        if stay.berth is not None and site.berths:
            spot = (*_berth_spot(site, stay.berth, length), False)
        elif stay.zone == "harbour":
            spot = _at_berth(site, placed, length, width, own) if site.berths else None
        else:
            spot = _at_anchor(site, placed, length, width, wind, own)
        if spot is None:
            continue
        x, y, heading, berth, abreast = spot
        if stay.berth is None and not _on_water(
            site, x, y, length, width, heading, beam=berth is None
        ):
            continue
        bright = kind in ("reefer", "container") or shade > 1.2
        placed.append(
            Ship(x, y, length, width, heading, berth is not None, berth, abreast, kind, shade,
                 bright and rng.random() < 0.4, stay.object_id)
        )  # fmt: skip
    return tuple(placed)


def _trains(
    scenario: Scenario, site: SiteMap, stays: tuple[dynamics.Stay, ...]
) -> tuple[RailcarString, ...]:
    used: dict[str, list[tuple[float, float]]] = {t.name: [] for t in site.tracks}
    strings: list[RailcarString] = []
    for stay in stays:
        own = named_stream(scenario, "place", stay.object_id)
        tracks = [t for t in site.tracks if t.zone == stay.zone]
        kind = weighted_choice(own, CAR_KINDS)
        remaining, size = int(stay.size), int(stay.size)
        while remaining > 0 and tracks:
            size = min(size, remaining)
            spot = free_spot(own, tracks, used, size * CAR_PITCH)
            if spot is None:
                if size == 1:
                    break
                size = max(1, size // 2)
                continue
            track, s0 = spot
            strings.append(string_on(track, s0, size, kind, stay.object_id))
            remaining -= size
    return tuple(strings)


def place_objects(
    scenario: Scenario, aoi: str, site: SiteMap, day: date, wind: float, rng: np.random.Generator
) -> Objects:
    """The ships and railcar strings of one scene in the site's painted region."""
    activity = scenario.site(aoi)
    if not activity.dynamic:
        count = _count(scenario, aoi, day, rng)
        if activity.metric == "ships":
            return place_ships(site, count, wind, rng), ()
        return (), place_railcars(site, count, rng)
    present = dynamics.present(scenario, aoi, day)
    if activity.metric == "ships":
        return _ships(scenario, site, present, wind, rng), ()
    return (), _trains(scenario, site, present)


def in_aoi(aoi: str, ships: tuple[Ship, ...]) -> tuple[Ship, ...]:
    """The ships whose centre lies in the AOI (the truth counts these)."""
    outline = aoi_utm(aoi)
    return tuple(s for s in ships if shapely.contains_xy(outline, s.x, s.y))


def scene_objects(scenario: Scenario, index: int) -> dict[str, Objects]:
    """Per AOI, the truth of one scene without its pixels (the same draws as the renderer)."""
    from pipeline.simulate.geography import site_map

    info = scene_info(scenario, index)
    wind = weather(
        info, stream(scenario, info.date, "weather"), scenario.world.snow_probability_by_month
    ).wind_from
    out = {}
    for i, reg in enumerate(REGIONS):
        rng = stream(scenario, info.date, "objects", i)
        ships, strings = place_objects(scenario, reg.aoi, site_map(reg.aoi), info.date, wind, rng)
        out[reg.aoi] = (in_aoi(reg.aoi, ships), strings)
    return out

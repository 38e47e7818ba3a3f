"""Render one acquisition: pure numpy, deterministic from the scenario's seed and the date.

Per site: surface (season, sun, snow, wet ballast, sea state, harbour ice) -> structures built
mid-series (:mod:`pipeline.simulate.structures`) -> cast shadows
(:mod:`pipeline.simulate.shadows`) -> ships or railcars on a sub-pixel grid, some with snow on
their decks or roofs (:mod:`pipeline.simulate.weathering`) -> PSF blur
(Gaussian, sigma 0.5 px) -> the scene's misregistration shift
(:mod:`pipeline.simulate.hostile`) -> haze -> SCL -> clouds, cirrus and shadows -> sensor noise ->
quantisation to the DN grid (so the reflectance here is exactly what a reader gets back).
Every random draw comes from its own stream keyed by ``(seed, date, stream, site)``, so
changing a site's activity does not move the clouds, and a date renders the same whatever
the scenario's start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Final

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from scipy import ndimage

from pipeline.simulate.atmosphere import apply_haze, apply_sky, cloudy_states, sky
from pipeline.simulate.classify import classify
from pipeline.simulate.conditions import scene_haze, scene_shift
from pipeline.simulate.geography import site_map
from pipeline.simulate.grid import (
    EPSG,
    REGIONS,
    TRANSFORM_10M,
    TRANSFORM_20M,
    WINDOW_HEIGHT,
    WINDOW_WIDTH,
    Region,
    aoi_mask,
)
from pipeline.simulate.hostile import as_mask, harbour_ice, misregister, paint_ice
from pipeline.simulate.noise import F32, block_mean
from pipeline.simulate.placement import in_aoi, place_objects
from pipeline.simulate.railcars import (
    RailcarString,
    paint_railcars,
)
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.schedule import SceneInfo, scene_info
from pipeline.simulate.shadows import shade_railcars, shade_water
from pipeline.simulate.ships import Ship, paint_ships
from pipeline.simulate.streams import stream
from pipeline.simulate.structures import paint_structures
from pipeline.simulate.surface import Weather, surface, weather
from pipeline.simulate.weathering import DECK_SNOW_CHANCE, ROOF_SNOW_CHANCE, object_snow, wet_ground

BANDS: Final = ("blue", "green", "red", "nir", "swir16")
#: Gaussian PSF of the MSI at 10 m, in pixels.
PSF_SIGMA: Final = 0.5
#: Sensor noise: sigma = sqrt(NOISE_FLOOR**2 + (NOISE_GAIN * reflectance)**2).
NOISE_FLOOR: Final = 0.0012
NOISE_GAIN: Final = 0.008
#: Smallest reflectance written (DN 0 is nodata, so nothing may quantise to it).
MIN_REFLECTANCE: Final = 0.0001
#: Chance that a scene's SCL calls the bright container stacks cloud.
STACKS_AS_CLOUD: Final = 0.25


@dataclass(frozen=True)
class AoiTruth:
    """What is really in one AOI in one scene."""

    aoi: str
    """AOI id."""
    ships: tuple[Ship, ...]
    """Ships whose centre lies in the AOI (drawn whether or not cloud hides them)."""
    railcar_strings: tuple[RailcarString, ...]
    """Railcar strings standing in the AOI's yards."""
    clear_fraction: float
    """Share of the AOI's pixels not under cloud, cirrus or cloud shadow."""

    @property
    def railcars(self) -> int:
        """Total railcars."""
        return sum(s.n_cars for s in self.railcar_strings)


@dataclass(frozen=True, eq=False)
class SiteRender:
    """The painted region around one AOI."""

    region: Region
    """Where the region sits in the window."""
    dn: Mapping[str, NDArray[np.uint16]]
    """Digital numbers per band as written (10 m; ``swir16`` at 20 m)."""
    reflectance: F32
    """``(5, rows, cols)`` reflectance at 10 m (``swir16`` repeated from its 20 m pixels)."""
    scl: NDArray[np.uint8]
    """Scene classification at 20 m."""
    obscured: NDArray[np.bool_]
    """Truth at 10 m: cloud, cirrus or shadow hides the ground."""
    truth: AoiTruth
    """Objects and clear fraction."""


@dataclass(frozen=True, eq=False)
class RenderedScene:
    """One simulated acquisition: pixels of both sites, their truth, and the grid."""

    info: SceneInfo
    """Id, time, platform, baseline, sun."""
    sites: Mapping[str, SiteRender]
    """Per AOI id."""
    tile_cloud: float
    """Tile-wide cloud share (0-1) behind ``eo:cloud_cover``."""
    transform: Affine = TRANSFORM_10M
    """10 m pixel-to-UTM transform of the window."""
    transform_20m: Affine = TRANSFORM_20M
    """20 m transform (``swir16``, ``scl``)."""
    epsg: int = EPSG
    """CRS of the grid."""
    shape: tuple[int, int] = (WINDOW_HEIGHT, WINDOW_WIDTH)
    """Window ``(rows, cols)`` at 10 m."""

    @property
    def truth(self) -> Mapping[str, AoiTruth]:
        """Per-AOI truth."""
        return {aoi: site.truth for aoi, site in self.sites.items()}

    def dn(self, band: str) -> NDArray[np.uint16]:
        """Full-window DN of a band (``scl`` included), 0 outside the painted regions."""
        fine = band in BANDS[:4]
        rows, cols = self.shape if fine else (self.shape[0] // 2, self.shape[1] // 2)
        dtype = np.uint8 if band == "scl" else np.uint16
        out = np.zeros((rows, cols), dtype)
        for site in self.sites.values():
            reg, k = site.region, 1 if fine else 2
            data = site.scl if band == "scl" else site.dn[band]
            out[
                reg.row0 // k : reg.row0 // k + data.shape[0],
                reg.col0 // k : reg.col0 // k + data.shape[1],
            ] = data
        return out

    @cached_property
    def reflectance(self) -> F32:
        """``(5, rows, cols)`` full-window reflectance at 10 m, NaN outside the regions."""
        out = np.full((5, *self.shape), np.nan, np.float32)
        for site in self.sites.values():
            reg = site.region
            out[:, reg.row0 : reg.row0 + reg.height, reg.col0 : reg.col0 + reg.width] = (
                site.reflectance
            )
        return out

    @cached_property
    def scl(self) -> NDArray[np.uint8]:
        """Full-window SCL at 20 m, 0 (nodata) outside the regions."""
        return self.dn("scl").astype(np.uint8)


def quantise(refl: F32, offset: int) -> NDArray[np.uint16]:
    """Reflectance to DN (``round(r * 10000) + offset``), never 0 (nodata)."""
    scaled = np.rint(np.maximum(refl, MIN_REFLECTANCE) * 10000) + offset
    dn: NDArray[np.uint16] = np.clip(scaled, 1, 65535).astype(np.uint16)
    return dn


def _render_site(
    scenario: Scenario, info: SceneInfo, index: int, reg: Region, cloudy: bool, sky_weather: Weather
) -> SiteRender:
    day = info.date
    site = site_map(reg.aoi)
    refl, snow = surface(site, info, sky_weather, stream(scenario, day, "surface", index))
    activity = scenario.site(reg.aoi)
    if activity.metric == "ships" and day.month in scenario.world.sea_ice_months:
        irng = stream(scenario, day, "sea-ice", index)
        paint_ice(refl, snow, harbour_ice(site, irng), irng)
    built = None
    if activity.keys.structures:
        srng = stream(scenario, day, "structures", index)
        built = paint_structures(
            refl, snow, site, reg.aoi, activity.keys.structures, day, sky_weather.snow, srng
        )
    orng = stream(scenario, day, "objects", index)
    ships, strings = place_objects(scenario, reg.aoi, site, day, sky_weather.wind_from, orng)
    zeros = np.zeros(refl.shape[1:], np.float32)
    ship_cover, ship_cloud = zeros, zeros
    sun = (info.sun_azimuth, info.sun_elevation)
    shadows = bool(scenario.world.shadows)
    if shadows:
        shade_water(refl, site, info)
    snowfall = sky_weather.snow
    if activity.metric == "ships":
        deck_snow = object_snow(scenario, day, index, len(ships), snowfall, DECK_SNOW_CHANCE)
        ship_cover, ship_cloud = paint_ships(
            refl, site, ships, sun, shadow_on_land=shadows, deck_snow=deck_snow, snow=snow
        )
    else:
        if shadows:
            shade_railcars(refl, site, strings, sun)
        roof_snow = object_snow(scenario, day, index, len(strings), snowfall, ROOF_SNOW_CHANCE)
        paint_railcars(refl, site, strings, activity.keys.light_car_share or 0.0, roof_snow)
    refl = ndimage.gaussian_filter(refl, sigma=(0, PSF_SIGMA, PSF_SIGMA), truncate=3.0)
    crng = stream(scenario, day, "clouds", index)
    clouds = sky(reg, info, cloudy, sky_weather.wind_from, crng)
    stacks = (
        site.bright_stacks if crng.random() < STACKS_AS_CLOUD else np.zeros_like(site.bright_stacks)
    )
    water = site.water_fraction if built is None else site.water_fraction * (1 - built)
    shift = scene_shift(scenario, day)
    if shift != (0.0, 0.0):
        refl = misregister(refl, shift)
        water, snow, ship_cover, ship_cloud, moved = misregister(
            np.stack([water, snow, ship_cover, ship_cloud, stacks.astype(np.float32)]), shift
        )
        stacks = as_mask(moved)
    aot = scene_haze(scenario, day)
    if aot != 1.0:
        refl = apply_haze(refl, aot, info.sun_elevation)
    scl = classify(refl, water, snow, ship_cover, ship_cloud, stacks, clouds, crng)
    toa = apply_sky(refl, clouds)
    nrng = stream(scenario, day, "noise", index)
    sigma = np.sqrt(NOISE_FLOOR**2 + (NOISE_GAIN * toa) ** 2)
    toa += nrng.standard_normal(toa.shape, dtype=np.float32) * sigma
    offset = 1000 if info.baseline >= "04.00" else 0
    dn = {band: quantise(toa[i], offset) for i, band in enumerate(BANDS[:4])}
    dn["swir16"] = quantise(block_mean(toa[4], 2), offset)
    reflectance = np.empty_like(toa)
    for i, band in enumerate(BANDS):
        values = dn[band].astype(np.float32)
        if band == "swir16":
            values = np.repeat(np.repeat(values, 2, 0), 2, 1)
        reflectance[i] = (values - offset) / np.float32(10000)
    obscured = clouds.obscured > 0.5
    inside = aoi_mask(reg.aoi)
    truth = AoiTruth(
        aoi=reg.aoi,
        ships=in_aoi(reg.aoi, ships),
        railcar_strings=strings,
        clear_fraction=round(1.0 - float(obscured[inside].mean()), 4),
    )
    return SiteRender(reg, MappingProxyType(dn), reflectance, scl, obscured, truth)


def render_scene(scenario: Scenario, when: int | date) -> RenderedScene:
    """Render the acquisition at a schedule index (or on a date) of a scenario.

    Raises:
        InvalidScenarioError: ``when`` is not in the scenario's schedule.
    """
    info = scene_info(scenario, when)
    wrng = stream(scenario, info.date, "weather")
    world = scenario.world
    sky_weather = weather(info, wrng, world.snow_probability_by_month)
    wet = wet_ground(scenario, info, sky_weather)
    if wet is not None:
        sky_weather = replace(sky_weather, wet_ground=wet)
    months = world.cloud_probability_by_month
    probability = scenario.cloud_probability if months is None else months[info.date.month - 1]
    states, tile = cloudy_states(probability, len(REGIONS), wrng, info.doy, seasonal=months is None)
    sites = {
        reg.aoi: _render_site(scenario, info, i, reg, states[i], sky_weather)
        for i, reg in enumerate(REGIONS)
    }
    return RenderedScene(info=info, sites=MappingProxyType(sites), tile_cloud=tile)

"""One scene's surface reflectance: the static map dressed for the season and the weather.

Per scene: seasonal spectra of vegetation and crops; terrain shading from the sun's
azimuth and elevation (long winter shadows on the hills, flat light in June); cast shadows
of buildings, cranes and bridges; snow on land in some winter scenes; ice on the Tumen in
mid-winter; a sea state (wave texture, sun glint, turbidity) that changes every scene; and,
in the scenes :mod:`pipeline.simulate.weathering` makes wet, darker ballast and yard ground.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import SiteMap
from pipeline.simulate.noise import F32, fractal_field, shift_fill
from pipeline.simulate.schedule import SceneInfo

#: Seasonal classes: spectrum function and its phase (days; parcels are sown at different dates).
_SEASONAL = {
    "forest": (sp.forest, 0),
    "grass": (sp.grass, 0),
    "paddy_early": (sp.paddy, 9),
    "paddy_late": (sp.paddy, -7),
    "crop_early": (sp.dry_crop, 10),
    "crop_late": (sp.dry_crop, -10),
    "reed": (sp.reed, 0),
}
_WATER = {"sea": sp.SEA, "harbour": sp.HARBOUR, "river": sp.RIVER, "lake": sp.LAKE}
#: Glint and foam are nearly white, a little weaker in the SWIR.
_GLINT = np.asarray((1.0, 1.0, 1.0, 0.96, 0.85), np.float32).reshape(5, 1, 1)


@dataclass(frozen=True)
class Weather:
    """The per-scene conditions shared by both sites (they are 25 km apart)."""

    snow: float
    """Snow cover on open land, 0-1."""
    ice: float
    """Ice cover of the river and lakes, 0-1."""
    wind_from: float
    """Direction the wind blows from, degrees clockwise from north (ships at anchor face it)."""
    wind_speed: float
    """Wind speed, m/s (drives wave texture)."""
    glint: float
    """Strength of sun glint on open water (reflectance)."""
    turbidity: float
    """Multiplier of river and harbour sediment."""
    wet_ground: sp.Spectrum | None = None
    """Reflectance factor per band of wet ballast and yard ground; None when dry (drawn by
    :func:`pipeline.simulate.weathering.wet_ground`, not by :func:`weather`)."""


def weather(
    info: SceneInfo, rng: np.random.Generator, snow_by_month: tuple[float, ...] | None = None
) -> Weather:
    """Draw the scene's weather, with realistic seasons for the Rason coast.

    ``snow_by_month`` (the scenario's ``snow_probability_by_month``) replaces the built-in
    monthly chances of snow on the ground.
    """
    month = info.date.month
    snow_chance = {12: 0.25, 1: 0.3, 2: 0.25, 3: 0.15, 11: 0.08}.get(month, 0.0)
    if snow_by_month is not None:
        snow_chance = snow_by_month[month - 1]
    snowing = rng.random() < snow_chance
    snow = float(rng.uniform(0.35, 0.95)) if snowing else 0.0
    doy = info.doy
    # The Tumen freezes from early December to mid-March.
    winter_day = (doy - 335) % 366
    ice = float(min(1.0, winter_day / 12) * min(1.0, max(0.0, (105 - winter_day) / 12)))
    monsoon_from = 315.0 if month in (10, 11, 12, 1, 2, 3) else 160.0
    wind_from = float((monsoon_from + rng.normal(0, 40)) % 360)
    wind_speed = float(rng.weibull(2.0) * 6.5)
    glint = max(0.0, (info.sun_elevation - 45) / 25) * float(rng.uniform(0, 0.018))
    return Weather(
        snow=snow,
        ice=ice,
        wind_from=wind_from,
        wind_speed=wind_speed,
        glint=glint,
        turbidity=float(rng.uniform(0.75, 1.35)),
    )


def sun_vector(info: SceneInfo) -> tuple[float, float, float]:
    """Unit vector towards the sun (east, north, up)."""
    az, el = math.radians(info.sun_azimuth), math.radians(info.sun_elevation)
    return math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)


def shading(site: SiteMap, info: SceneInfo) -> F32:
    """Terrain illumination relative to flat ground (cos i / cos z), with some skylight."""
    sx, sy, sz = sun_vector(info)
    nx, ny, nz = site.normal
    direct = np.clip((nx * sx + ny * sy + nz * sz) / sz, 0.0, 3.0)
    light: F32 = (0.18 + 0.82 * direct).astype(np.float32)
    return light


def cast_shadow(heights: F32, info: SceneInfo, pixel_m: float = 10.0) -> F32:
    """Fraction of each pixel shadowed by buildings, cranes or bridges."""
    top = float(heights.max())
    if top <= 0:
        return np.zeros_like(heights)
    sx, sy, _ = sun_vector(info)
    norm = math.hypot(sx, sy)
    tan_el = math.tan(math.radians(info.sun_elevation))
    steps = math.ceil(top / tan_el / pixel_m)
    shadow = np.zeros_like(heights)
    for k in range(1, steps + 1):
        drow = round(k * sy / norm)
        dcol = round(-k * sx / norm)
        caster = shift_fill(heights, drow, dcol)
        reach = k * pixel_m * tan_el
        np.maximum(shadow, np.clip((caster - reach) / pixel_m + 0.5, 0.0, 1.0), out=shadow)
    shadow[heights > 0] *= 0.3
    return shadow


@lru_cache(maxsize=4)
def _wave_bank(shape: tuple[int, int]) -> F32:
    """A fixed rough texture, rolled to a new place each scene (cheap sea state)."""
    rng = np.random.default_rng(7)
    big = (shape[0] + 256, shape[1] + 256)
    bank = fractal_field(big, rng, beta=1.6) * 0.7 + 0.3 * rng.standard_normal(
        big, dtype=np.float32
    )
    bank.setflags(write=False)
    return bank


def surface(
    site: SiteMap, info: SceneInfo, sky: Weather, rng: np.random.Generator
) -> tuple[F32, F32]:
    """Surface reflectance ``(5, rows, cols)`` and snow/ice cover ``(rows, cols)``."""
    shape = site.fixed_fraction.shape
    doy = info.doy
    land = site.fixed.copy()
    if sky.wet_ground is not None:
        land -= site.loose_ground * (1 - sp.spec(sky.wet_ground))
    for name, cover in site.seasonal.items():
        func, phase = _SEASONAL[name]
        land += sp.spec(func(min(max(doy + phase, 1), 365))) * cover
    land *= site.texture
    light = shading(site, info)
    land *= light
    land *= 1.0 - 0.6 * cast_shadow(site.heights, info)
    snow = np.zeros(shape, np.float32)
    if sky.snow > 0:
        patchy = np.clip(site.texture * 4 - 3.4, 0.0, 1.0) * 0.3 + 0.7
        snow = np.clip(sky.snow * site.snow_affinity * patchy, 0.0, 1.0).astype(np.float32)
        land = land * (1 - snow) + sp.spec(sp.SNOW) * light * snow
    water = np.zeros((5, *shape), np.float32)
    for name, cover in site.water.items():
        colour = np.asarray(_WATER[name], np.float32)
        if name in ("river", "harbour"):
            colour = colour * np.float32(sky.turbidity)
        water += colour.reshape(5, 1, 1) * cover
    if sky.ice > 0:
        frozen = (site.water["river"] + site.water["lake"]) * np.float32(sky.ice)
        ice_colour = sp.lerp(sp.ICE_BARE, sp.ICE_SNOWY, 0.35 + 0.65 * min(1.0, sky.snow * 2))
        water = water * (1 - frozen) + sp.spec(ice_colour) * frozen
        snow = np.maximum(snow, frozen * (0.4 + 0.6 * min(1.0, 0.5 + sky.snow)))
    bank = _wave_bank(shape)
    r0, c0 = (int(v) for v in rng.integers(0, 256, size=2))
    waves = bank[r0 : r0 + shape[0], c0 : c0 + shape[1]]
    open_sea = site.water["sea"] + 0.35 * site.water["harbour"] + 0.2 * site.water["river"]
    roughness = 0.0003 + 0.00018 * sky.wind_speed
    sparkle = np.clip(waves * roughness + sky.glint * (0.6 + 0.4 * waves), -0.004, 0.06)
    water += _GLINT * (sparkle * open_sea)[None]
    return land + water, snow

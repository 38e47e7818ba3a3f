"""Cast shadows of the hostile world (issue 13, ``shadows = true``).

The sun stands where :func:`pipeline.simulate.schedule.sun_position` puts it at the granule's
sensing time (~02:16 UTC, NOAA equations at the tile's centre): ~25 deg above the horizon in
December and ~70 deg in June, so an object of height ``h`` casts a shadow ``h / tan(elevation)``
long, away from the sun (north-north-west at that hour) — about four times longer in winter.

Without the key the world keeps its older, partial shadows (ship shadows on water only,
buildings' and cranes' shadows on land only). With it:

- ships' shadows (hull side and bridge, :mod:`pipeline.simulate.ships`) fall on whatever lies
  beside them, quays included (not only water);
- railcars (~4 m high) cast shadows on the ballast, the box of each car swept away from the
  sun on the same 1.25 m sub-pixel grid as the cars;
- buildings' and cranes' shadows also fall on the harbour water beside the quays.

A shadow keeps the diffuse skylight: it removes :data:`SHADOW_LOSS` of the light in every band.
Shadows are painted on the surface before the PSF blur and the misregistration shift, so they
move with everything else; they change no truth.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from pipeline.simulate.geography import SiteMap
from pipeline.simulate.grid import fine_coords, pixel_window
from pipeline.simulate.noise import F32, SUB, block_mean, shift_fill
from pipeline.simulate.railcars import CAR_PITCH, RailcarString, car_bodies
from pipeline.simulate.schedule import SceneInfo
from pipeline.simulate.ships import SHIP_SHADOW_LOSS
from pipeline.simulate.surface import sun_vector

#: Height of a loaded gondola, tank or box car above the ballast, m.
RAILCAR_HEIGHT_M: Final = 4.0
#: Share of the light a cast shadow removes (direct sun; the skylight stays).
SHADOW_LOSS: Final = SHIP_SHADOW_LOSS
#: Lowest sun the shadows are computed for (the sun is never lower at 02:16 UTC in 52TFM).
MIN_ELEVATION_DEG: Final = 10.0


def shadow_offset(height_m: float, sun: tuple[float, float]) -> tuple[float, float]:
    """Where the shadow of a point ``height_m`` up falls, ``(east, north)`` metres from its foot.

    ``sun`` is ``(azimuth, elevation)`` in degrees; the shadow is ``height / tan(elevation)``
    long, pointing away from the sun's azimuth.
    """
    azimuth, elevation = sun
    length = height_m / math.tan(math.radians(max(elevation, MIN_ELEVATION_DEG)))
    az = math.radians(azimuth)
    return -length * math.sin(az), -length * math.cos(az)


def shade_railcars(
    refl: F32, site: SiteMap, strings: tuple[RailcarString, ...], sun: tuple[float, float]
) -> None:
    """Darken the ground in the shadows of railcar strings (in place; before the cars are drawn).

    A car's shadow is its body swept from its foot to the shadow of its top, in sub-pixel steps.
    """
    dx, dy = shadow_offset(RAILCAR_HEIGHT_M, sun)
    length = math.hypot(dx, dy)
    steps = max(1, math.ceil(length / (10.0 / SUB)))
    for string in strings:
        pad = length + CAR_PITCH
        window = pixel_window(
            site.region,
            min(string.x0, string.x1) - pad,
            min(string.y0, string.y1) - pad,
            max(string.x0, string.x1) + pad,
            max(string.y0, string.y1) + pad,
        )
        gx, gy = fine_coords(site.region, window, SUB)
        body = car_bodies(gx, gy, string)
        shadow = np.zeros(gx.shape, bool)
        for k in range(1, steps + 1):
            t = k / steps
            shadow |= car_bodies(gx - dx * t, gy - dy * t, string)
        shade = block_mean((shadow & ~body).astype(np.float32), SUB)
        refl[(slice(None), *window)] *= 1 - SHADOW_LOSS * shade


def building_shadow(heights: F32, info: SceneInfo, pixel_m: float = 10.0) -> F32:
    """Share of each pixel in the shadow of buildings, cranes or bridges (``heights``, m).

    As :func:`pipeline.simulate.surface.cast_shadow` (which darkens the land), but only
    pixels with a caster upsun are shadowed: that one also gives open ground a faint
    shadow at low sun, which on the harbour water would darken the whole basin.
    """
    top = float(heights.max())
    if top <= 0:
        return np.zeros_like(heights)
    sx, sy, _ = sun_vector(info)
    norm = math.hypot(sx, sy)
    tan_el = math.tan(math.radians(max(info.sun_elevation, MIN_ELEVATION_DEG)))
    shadow = np.zeros_like(heights)
    for k in range(1, math.ceil(top / tan_el / pixel_m) + 1):
        caster = shift_fill(heights, round(k * sy / norm), round(-k * sx / norm))
        cast = np.clip((caster - k * pixel_m * tan_el) / pixel_m + 0.5, 0.0, 1.0) * (caster > 0)
        np.maximum(shadow, cast, out=shadow)
    return shadow


def shade_water(refl: F32, site: SiteMap, info: SceneInfo) -> None:
    """Lay the shadows of buildings and cranes on the water beside them (in place)."""
    refl *= 1 - SHADOW_LOSS * building_shadow(site.heights, info) * site.water_fraction

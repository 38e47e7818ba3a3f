"""Clouds, cirrus and cloud shadows over one site, and how they mix with the surface.

Thick cloud is a fractal field thresholded to a target cover; its shadow is the same
field displaced by ``cloud height / tan(sun elevation)`` away from the sun (long shadows in
winter, short in summer). Cirrus is a thinner, streaky layer stretched along the wind.

``cloud_probability`` is the chance that a scene is *mostly cloudy* over an AOI (72-100 %
cover), on average over the year: it is higher in the July monsoon and lower in winter
(:func:`seasonal_probability`). The two AOIs are 25 km apart, so their states are
correlated (a Gaussian copula with correlation :data:`SITE_CORRELATION` keeps each AOI's
marginal probability exact).
Other scenes are clear (45 %) or partly cloudy.

Haze (issue 13, ``haze = s``): the surface reflectances assume an aerosol optical thickness
of :data:`AOT_550` at 550 nm, which the L2A correction removes. A scene's aerosol load is that
times a factor drawn from a lognormal with spread ``s``
(:func:`pipeline.simulate.conditions.scene_haze`); the part the correction does not remove
(:func:`apply_haze`) adds path reflectance and takes away transmitted light, with an
Angstrom exponent of :data:`ANGSTROM`, so hazy scenes are brighter and flatter in the blue
and green and barely change in the NIR and SWIR; clearer scenes than usual are a little
over-corrected (darker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np

from pipeline.simulate import spectra as sp
from pipeline.simulate.grid import Region
from pipeline.simulate.noise import F32, fractal_field, upsample
from pipeline.simulate.schedule import SceneInfo

SITE_CORRELATION: Final = 0.6
#: Seasonal swing of the cloud probability on the logit scale (peak mid-July).
SEASONAL_SWING: Final = 0.9
#: Thresholds shared by SCL and truth: a pixel is "under cloud" from these opacities on.
CLOUD_MIN: Final = 0.25
CLOUD_HIGH: Final = 0.65
CIRRUS_MIN: Final = 0.12
SHADOW_MIN: Final = 0.35
_COARSE: Final = 4  # cloud fields are drawn at 40 m and up-sampled
#: Chance of a cirrus veil in any scene.
CIRRUS_CHANCE: Final = 0.15
#: Aerosol optical thickness at 550 nm behind the surface reflectances (a clear coastal day).
AOT_550: Final = 0.15
#: Angstrom exponent of the aerosol (continental haze and dust).
ANGSTROM: Final = 1.3
#: Band centres (blue, green, red, nir, swir16), nm.
BAND_NM: Final = (490.0, 560.0, 665.0, 842.0, 1610.0)
#: Aerosol path reflectance per unit optical thickness and air mass (single scattering).
PATH_PER_AOT: Final = 0.05
#: Share of the light scattered out of the beam that still arrives (aerosols scatter forwards).
DIFFUSE_SHARE: Final = 0.8


def _phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def seasonal_probability(probability: float, doy: int) -> float:
    """The scenario's cloud probability shifted for the season (on the logit scale).

    The Rason coast is clearest in the dry winter monsoon and cloudiest in July (the
    summer monsoon); 0 and 1 stay 0 and 1, and the yearly mean stays close to the input.
    """
    if probability <= 0.0 or probability >= 1.0:
        return probability
    logit = math.log(probability / (1 - probability))
    logit += SEASONAL_SWING * math.cos(2 * math.pi * (doy - 196) / 365.25)
    return 1 / (1 + math.exp(-logit))


def cloudy_states(
    probability: float,
    n_sites: int,
    rng: np.random.Generator,
    doy: int = 105,
    *,
    seasonal: bool = True,
) -> tuple[tuple[bool, ...], float]:
    """Per-site "mostly cloudy" flags and a tile-wide cloud share, correlated via one latent.

    ``probability`` is the scenario's; it is adjusted for the season of ``doy`` first, unless
    ``seasonal`` is False (a month's own probability, ``cloud_probability_by_month``).
    """
    if seasonal:
        probability = seasonal_probability(probability, doy)
    z0 = float(rng.standard_normal())
    states = tuple(
        _phi(
            math.sqrt(SITE_CORRELATION) * z0
            + math.sqrt(1 - SITE_CORRELATION) * float(rng.standard_normal())
        )
        < probability
        for _ in range(n_sites)
    )
    tile = (
        float(rng.uniform(0.6, 1.0)) if _phi(z0) < probability else float(rng.beta(0.7, 3.0) * 0.6)
    )
    return states, tile


@dataclass(frozen=True, eq=False)
class Sky:
    """Cloud fields over one site's region, at 10 m."""

    cloud: F32
    """Thick-cloud opacity, 0-1."""
    cirrus: F32
    """Cirrus opacity, 0-1 (stays below ~0.4)."""
    shadow: F32
    """Cloud-shadow strength, 0-1."""

    @property
    def obscured(self) -> F32:
        """True (1.0) where truth counts the ground as hidden: cloud, cirrus or shadow."""
        hidden = (
            (self.cloud >= CLOUD_MIN) | (self.cirrus >= CIRRUS_MIN) | (self.shadow >= SHADOW_MIN)
        )
        return hidden.astype(np.float32)


@lru_cache(maxsize=4)
def _detail_bank(shape: tuple[int, int]) -> F32:
    rng = np.random.default_rng(11)
    bank = fractal_field((shape[0] + 256, shape[1] + 256), rng, beta=2.2)
    bank.setflags(write=False)
    return bank


def _roll(bank: F32, shape: tuple[int, int], rng: np.random.Generator) -> F32:
    r0, c0 = (int(v) for v in rng.integers(0, 256, size=2))
    return bank[r0 : r0 + shape[0], c0 : c0 + shape[1]]


def sky(
    reg: Region, info: SceneInfo, mostly_cloudy: bool, wind_from: float, rng: np.random.Generator
) -> Sky:
    """Draw the clouds of one scene over one site."""
    shape = (reg.height, reg.width)
    if mostly_cloudy:
        cover = float(rng.uniform(0.72, 1.0))
    elif rng.random() < 0.45:
        cover = 0.0
    else:
        cover = float(rng.beta(0.9, 2.6) * 0.55)
    zeros = np.zeros(shape, np.float32)
    cloud, shadow = zeros, zeros
    if cover > 0.005:
        height = float(rng.uniform(800, 2500))
        reach = height / math.tan(math.radians(max(info.sun_elevation, 10)))
        az = math.radians(info.sun_azimuth)
        dcol = round(reach * math.sin(az) / (10 * _COARSE))
        drow = round(-reach * math.cos(az) / (10 * _COARSE))
        pad = max(abs(dcol), abs(drow)) + 2
        rows, cols = reg.height // _COARSE + 1, reg.width // _COARSE + 1
        field = fractal_field((rows + 2 * pad, cols + 2 * pad), rng, beta=3.4, cutoff=1.5)
        inner = field[pad : pad + rows, pad : pad + cols]
        threshold = (
            float(np.quantile(inner, 1 - cover)) if cover < 0.999 else float(inner.min()) - 1
        )
        softness = 0.45 + 0.6 * float(rng.random())
        opacity = np.clip((field - threshold) / softness, 0, 1) ** 0.8
        body = opacity[pad : pad + rows, pad : pad + cols]
        cast = opacity[pad + drow : pad + drow + rows, pad + dcol : pad + dcol + cols]
        detail = _roll(_detail_bank(shape), shape, rng)
        cloud = np.clip(upsample(body, _COARSE, shape) * (1 + 0.22 * detail), 0, 1)
        shadow = np.clip(upsample(cast, _COARSE, shape) * (1 + 0.15 * detail) * 0.95, 0, 1)
    cirrus = zeros
    if rng.random() < CIRRUS_CHANCE:
        rows, cols = reg.height // 2 + 1, reg.width // 2 + 1
        angle = wind_from + 90 + float(rng.normal(0, 20))
        streaks = fractal_field((rows, cols), rng, beta=3.6, stretch=2.2, angle_deg=angle)
        threshold = float(np.quantile(streaks, 1 - rng.uniform(0.2, 0.8)))
        strength = float(rng.uniform(0.1, 0.32))
        veil = np.clip((streaks - threshold) / 1.5, 0, 1) ** 1.5 * strength
        cirrus = upsample(veil.astype(np.float32), 2, shape)
    return Sky(cloud=cloud.astype(np.float32), cirrus=cirrus, shadow=shadow.astype(np.float32))


def apply_sky(refl: F32, clouds: Sky) -> F32:
    """Composite shadows, thick cloud and cirrus over surface reflectance."""
    loss = sp.spec(sp.SHADOW_LOSS)
    out = refl * (1 - clouds.shadow[None] * loss)
    if clouds.cloud.any():
        brightness = 0.5 + 0.5 * clouds.cloud
        out = out * (1 - clouds.cloud[None]) + sp.spec(sp.CLOUD) * (clouds.cloud * brightness)[None]
    if clouds.cirrus.any():
        out = out * (1 - 0.6 * clouds.cirrus[None]) + sp.spec(sp.CIRRUS) * clouds.cirrus[None]
    return out.astype(np.float32)


def apply_haze(refl: F32, factor: float, sun_elevation: float) -> F32:
    """Reflectance seen through ``factor`` times the usual aerosol load (factor 1: unchanged)."""
    extra = AOT_550 * (factor - 1.0)
    tau = extra * (np.asarray(BAND_NM) / 550.0) ** -ANGSTROM
    air_mass = 1.0 / math.sin(math.radians(max(sun_elevation, 10.0))) + 1.0  # sun + nadir view
    trans = np.exp(-tau * air_mass * (1.0 - DIFFUSE_SHARE))
    path = PATH_PER_AOT * tau * air_mass
    out = refl * trans.astype(np.float32).reshape(5, 1, 1) + path.astype(np.float32).reshape(
        5, 1, 1
    )
    return out.astype(np.float32)

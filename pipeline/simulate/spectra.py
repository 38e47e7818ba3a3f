"""Surface reflectance of every material, and how the seasons change it.

Values are Sentinel-2 L2A bottom-of-atmosphere reflectances in band order
(blue B02, green B03, red B04, nir B08, swir16 B11), typical of the literature and of
real L2A scenes of the Korean/Russian Sea-of-Japan coast. Water is dark in NIR and SWIR
(0.005-0.03), as it must be for the baseline-offset check to mean anything.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

Spectrum = tuple[float, float, float, float, float]

# --- water -------------------------------------------------------------------------------
SEA: Final[Spectrum] = (0.052, 0.043, 0.019, 0.012, 0.008)
HARBOUR: Final[Spectrum] = (0.050, 0.052, 0.028, 0.016, 0.010)
RIVER: Final[Spectrum] = (0.050, 0.068, 0.058, 0.026, 0.014)
LAKE: Final[Spectrum] = (0.040, 0.052, 0.034, 0.018, 0.010)
ICE_SNOWY: Final[Spectrum] = (0.62, 0.61, 0.58, 0.50, 0.06)
ICE_BARE: Final[Spectrum] = (0.16, 0.16, 0.15, 0.11, 0.03)
# --- vegetation and soils ----------------------------------------------------------------
FOREST_SUMMER: Final[Spectrum] = (0.022, 0.045, 0.025, 0.330, 0.150)
FOREST_WINTER: Final[Spectrum] = (0.040, 0.055, 0.065, 0.170, 0.190)
AUTUMN_DELTA: Final[Spectrum] = (0.004, 0.018, 0.045, -0.060, 0.030)
GRASS_GREEN: Final[Spectrum] = (0.035, 0.070, 0.045, 0.300, 0.200)
GRASS_DRY: Final[Spectrum] = (0.060, 0.080, 0.100, 0.200, 0.270)
SOIL: Final[Spectrum] = (0.070, 0.095, 0.120, 0.190, 0.280)
SOIL_WET: Final[Spectrum] = (0.045, 0.060, 0.075, 0.120, 0.160)
PADDY_FLOODED: Final[Spectrum] = (0.055, 0.068, 0.060, 0.090, 0.060)
RICE_GREEN: Final[Spectrum] = (0.030, 0.065, 0.035, 0.380, 0.170)
RICE_RIPE: Final[Spectrum] = (0.055, 0.090, 0.100, 0.280, 0.250)
STUBBLE: Final[Spectrum] = (0.075, 0.095, 0.115, 0.210, 0.290)
REED_GREEN: Final[Spectrum] = (0.030, 0.060, 0.040, 0.270, 0.160)
REED_DRY: Final[Spectrum] = (0.075, 0.095, 0.125, 0.220, 0.290)
SAND: Final[Spectrum] = (0.140, 0.170, 0.200, 0.250, 0.330)
ROCK: Final[Spectrum] = (0.090, 0.105, 0.120, 0.160, 0.210)
SNOW: Final[Spectrum] = (0.800, 0.790, 0.770, 0.680, 0.080)
# --- built surfaces ----------------------------------------------------------------------
CONCRETE: Final[Spectrum] = (0.165, 0.180, 0.190, 0.220, 0.245)
ASPHALT: Final[Spectrum] = (0.075, 0.085, 0.092, 0.110, 0.130)
BALLAST: Final[Spectrum] = (0.135, 0.145, 0.155, 0.185, 0.215)
YARD_GROUND: Final[Spectrum] = (0.105, 0.115, 0.120, 0.165, 0.210)
COAL: Final[Spectrum] = (0.035, 0.037, 0.040, 0.048, 0.055)
ROOF_GREY: Final[Spectrum] = (0.120, 0.128, 0.135, 0.160, 0.190)
ROOF_DARK: Final[Spectrum] = (0.070, 0.075, 0.080, 0.110, 0.140)
ROOF_BLUE: Final[Spectrum] = (0.150, 0.120, 0.080, 0.140, 0.120)
ROOF_RED: Final[Spectrum] = (0.075, 0.075, 0.160, 0.230, 0.260)
ROOF_WHITE: Final[Spectrum] = (0.330, 0.340, 0.340, 0.360, 0.330)
ROOF_GREEN: Final[Spectrum] = (0.070, 0.110, 0.080, 0.150, 0.140)
# --- ships and railcars ------------------------------------------------------------------
HULL_DARK: Final[Spectrum] = (0.040, 0.040, 0.042, 0.055, 0.055)
HULL_RED: Final[Spectrum] = (0.055, 0.050, 0.110, 0.170, 0.190)
HULL_BLUE: Final[Spectrum] = (0.110, 0.080, 0.045, 0.090, 0.080)
PAINT_WHITE: Final[Spectrum] = (0.480, 0.490, 0.490, 0.520, 0.380)
DECK_RUST: Final[Spectrum] = (0.085, 0.090, 0.135, 0.230, 0.260)
DECK_GREEN: Final[Spectrum] = (0.055, 0.125, 0.070, 0.210, 0.170)
DECK_GREY: Final[Spectrum] = (0.190, 0.200, 0.210, 0.240, 0.230)
DECK_RED: Final[Spectrum] = (0.070, 0.060, 0.190, 0.240, 0.230)
CONTAINER_COLOURS: Final[tuple[Spectrum, ...]] = (
    (0.080, 0.070, 0.250, 0.350, 0.300),  # red
    (0.120, 0.100, 0.060, 0.200, 0.180),  # blue
    (0.480, 0.490, 0.490, 0.540, 0.400),  # white
    (0.070, 0.150, 0.350, 0.400, 0.350),  # orange
    (0.060, 0.120, 0.070, 0.180, 0.150),  # green
    (0.200, 0.200, 0.210, 0.230, 0.220),  # grey
    (0.060, 0.070, 0.100, 0.180, 0.200),  # brown
    (0.080, 0.300, 0.350, 0.450, 0.350),  # yellow
)
CAR_COAL: Final[Spectrum] = (0.032, 0.034, 0.037, 0.045, 0.052)
CAR_RUST: Final[Spectrum] = (0.055, 0.060, 0.105, 0.180, 0.230)
CAR_ORE: Final[Spectrum] = (0.060, 0.055, 0.110, 0.170, 0.210)
CAR_TANK: Final[Spectrum] = (0.035, 0.036, 0.038, 0.045, 0.050)
CAR_BOX: Final[Spectrum] = (0.060, 0.058, 0.095, 0.150, 0.180)
#: Light cars (issue 13 ``light_car_share``): white-painted refrigerated box cars and bare
#: aluminium or white tank cars, brighter than the ballast in every band.
CAR_LIGHT_BOX: Final[Spectrum] = (0.300, 0.310, 0.315, 0.340, 0.300)
CAR_LIGHT_TANK: Final[Spectrum] = (0.380, 0.385, 0.390, 0.410, 0.350)
# --- atmosphere ---------------------------------------------------------------------------
CLOUD: Final[Spectrum] = (0.72, 0.71, 0.70, 0.68, 0.46)
CIRRUS: Final[Spectrum] = (0.42, 0.41, 0.40, 0.39, 0.20)
#: Share of direct light lost per band in full cloud shadow (skylight is bluer).
SHADOW_LOSS: Final[Spectrum] = (0.55, 0.63, 0.68, 0.74, 0.78)


def spec(values: Spectrum) -> NDArray[np.float32]:
    """A spectrum as a ``(5, 1, 1)`` array, ready to broadcast over an image."""
    return np.asarray(values, dtype=np.float32).reshape(5, 1, 1)


def lerp(a: Spectrum, b: Spectrum, t: float) -> Spectrum:
    """Linear blend of two spectra (``t=0`` gives ``a``)."""
    return tuple(x + (y - x) * t for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _smooth(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def greenness(doy: float) -> float:
    """Deciduous canopy leaf-on fraction: bare Nov-Apr, full mid-June to September."""
    return _smooth((doy - 115) / 45) * (1 - _smooth((doy - 268) / 42))


def autumn(doy: float) -> float:
    """Autumn colour strength, peaking in mid-October."""
    return math.exp(-(((doy - 288) / 13) ** 2))


def forest(doy: float) -> Spectrum:
    """Mixed deciduous/pine hill forest."""
    base = lerp(FOREST_WINTER, FOREST_SUMMER, greenness(doy))
    return tuple(v + d * autumn(doy) for v, d in zip(base, AUTUMN_DELTA, strict=True))  # type: ignore[return-value]


def grass(doy: float) -> Spectrum:
    """Scrub and grass of the deforested hills: greens earlier and dries earlier."""
    return lerp(GRASS_DRY, GRASS_GREEN, _smooth((doy - 105) / 40) * (1 - _smooth((doy - 250) / 35)))


def paddy(doy: float) -> Spectrum:
    """Rice paddy: bare soil, flooded in May, green in summer, ripe, then stubble."""
    if doy < 115:
        return lerp(STUBBLE, SOIL_WET, _smooth((doy - 95) / 20))
    if doy < 160:
        return lerp(SOIL_WET, PADDY_FLOODED, _smooth((doy - 115) / 15))
    if doy < 230:
        return lerp(PADDY_FLOODED, RICE_GREEN, _smooth((doy - 160) / 40))
    if doy < 275:
        return lerp(RICE_GREEN, RICE_RIPE, _smooth((doy - 235) / 35))
    return lerp(RICE_RIPE, STUBBLE, _smooth((doy - 275) / 15))


def dry_crop(doy: float) -> Spectrum:
    """Maize or soybean: bare until June, green July-August, dry then harvested."""
    green = _smooth((doy - 155) / 45) * (1 - _smooth((doy - 245) / 30))
    plant = lerp(SOIL, GRASS_GREEN, green)
    if doy > 250:
        plant = lerp(plant, STUBBLE, _smooth((doy - 250) / 40))
    return plant


def reed(doy: float) -> Spectrum:
    """Reed marsh of the Tumen floodplain."""
    return lerp(REED_DRY, REED_GREEN, _smooth((doy - 135) / 40) * (1 - _smooth((doy - 255) / 30)))


#: Seasonal land-cover classes and their spectrum as a function of day of year.
SEASONAL = {
    "forest": forest,
    "grass": grass,
    "paddy": paddy,
    "crop": dry_crop,
    "reed": reed,
}

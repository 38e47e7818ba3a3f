"""Level-1C pixels: the simulated surface seen through a simple atmosphere (issue 17).

Before December 2018 ESA made no Level-2A globally, so a SIMULATED archive that reaches
back that far holds Level-1C items there: top-of-atmosphere (TOA) reflectance and no SCL.
They are derived from the very same rendered scene as the Level-2A item of that date
(clouds, ships, noise and all), so a detector can be compared on both levels of one scene.

The atmosphere is single scattering over a nadir view: Rayleigh optical depth from the
band centre (Bucholtz's fit), the aerosol of :data:`~pipeline.simulate.atmosphere.AOT_550`
with its Angstrom exponent, an air mass of ``1/sin(sun elevation) + 1``. The surface is
dimmed by the direct and most of the forward-scattered light, and the path reflectance is
added: ``toa = path + trans * surface``. Blue gains about 0.1 in summer and more in winter,
the SWIR barely changes.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.simulate.atmosphere import ANGSTROM, AOT_550, BAND_NM, DIFFUSE_SHARE, PATH_PER_AOT
from pipeline.simulate.noise import F32
from pipeline.simulate.render import BANDS, RenderedScene, quantise

#: Rayleigh path reflectance per unit optical depth and air mass (phase function ~1, /4).
RAYLEIGH_PATH: Final = 0.25
#: ESA's global Level-2A production starts on this date: before it, Level-1C only.
L2A_FROM: Final = date(2018, 12, 1)
#: Until this date (exclusive) an archive that starts before :data:`L2A_FROM` holds both
#: levels of each scene from :data:`L2A_FROM` on: the overlap to compare them on.
OVERLAP_UNTIL: Final = date(2019, 3, 1)


def products_of(day: date, *, scenario_start: date) -> tuple[str, ...]:
    """The product levels an archive holds for an acquisition on ``day``.

    ``("L1C",)`` before :data:`L2A_FROM`; both in the overlap, for archives that start
    before it; else ``("L2A",)`` (so archives that start later are exactly as before).
    """
    if day < L2A_FROM:
        return ("L1C",)
    if scenario_start < L2A_FROM and day < OVERLAP_UNTIL:
        return ("L2A", "L1C")
    return ("L2A",)


def rayleigh_depth(nm: float) -> float:
    """Rayleigh optical depth at sea level for a wavelength in nm (Bucholtz 1995 fit)."""
    um = nm / 1000.0
    return 0.008569 * um**-4 * (1.0 + 0.0113 * um**-2 + 0.00013 * um**-4)


def atmosphere(sun_elevation: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per band (blue, green, red, nir, swir16): path reflectance and transmittance."""
    air_mass = 1.0 / math.sin(math.radians(max(sun_elevation, 10.0))) + 1.0
    nm = np.asarray(BAND_NM)
    tau_r = np.array([rayleigh_depth(x) for x in BAND_NM])
    tau_a = AOT_550 * (nm / 550.0) ** -ANGSTROM
    path = (RAYLEIGH_PATH * tau_r + PATH_PER_AOT * tau_a) * air_mass
    trans = np.exp(-(0.5 * tau_r + (1.0 - DIFFUSE_SHARE) * tau_a) * air_mass)
    return path, trans


def to_toa(surface: F32, sun_elevation: float) -> F32:
    """``(5, rows, cols)`` surface reflectance to TOA reflectance."""
    path, trans = atmosphere(sun_elevation)
    out = surface * trans.astype(np.float32).reshape(5, 1, 1) + path.astype(np.float32).reshape(
        5, 1, 1
    )
    return out.astype(np.float32)


def to_surface(toa: F32, sun_elevation: float) -> F32:
    """The inverse of :func:`to_toa` (what an ideal correction would give back)."""
    path, trans = atmosphere(sun_elevation)
    out = (toa - path.astype(np.float32).reshape(5, 1, 1)) / trans.astype(np.float32).reshape(
        5, 1, 1
    )
    return out.astype(np.float32)


def l1c_baseline(day: date) -> str:
    """The Level-1C processing baseline of a date (02.06 until 2018-11-06, then 02.07)."""
    return "02.06" if day < date(2018, 11, 6) else "02.07"


def l1c_dn(scene: RenderedScene, band: str) -> NDArray[np.uint16]:
    """Full-window Level-1C DN of a band: the Level-2A DN's surface reflectance through
    :func:`to_toa`, quantised the same way (``round(toa * 10000)``, no offset before
    baseline 04.00); 0 (nodata) outside the painted regions."""
    index = BANDS.index(band)
    dn = scene.dn(band)
    painted = dn > 0
    surface = (dn.astype(np.float32) - np.float32(scene.info.dn_offset)) / np.float32(10000)
    path, trans = atmosphere(scene.info.sun_elevation)
    toa = surface * np.float32(trans[index]) + np.float32(path[index])
    out = quantise(toa.astype(np.float32), 0)
    out[~painted] = 0
    return out

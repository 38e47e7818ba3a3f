"""Level-1C chips brought to surface reflectance: the detectors' calibration for TOA input.

Pure numpy. The detectors compare a chip with its temporal reference, built from Level-2A
(surface) reflectance. A Level-1C chip is top of atmosphere (TOA): brightened by the light
the air scatters into the view (most in the blue, more under a low winter sun) and dimmed
by the light it scatters out. The molecular (Rayleigh) part of both is physics, known from
the wavelength and the sun alone, so it is taken out exactly as far as single scattering
goes (the first step of every atmospheric correction, e.g. ACOLITE and Sen2Cor):

* Rayleigh optical depth at sea level, Hansen & Travis (1974):
  ``tau = 0.008569 l^-4 (1 + 0.0113 l^-2 + 0.00013 l^-4)``, ``l`` in micrometres;
* path reflectance, single scattering, nadir view (Sentinel-2 looks within 12 degrees of
  nadir): ``tau P(theta) / (4 mu_s)`` with the Rayleigh phase function
  ``P = 3/4 (1 + cos^2 theta)`` at the scattering angle ``theta = 180 - sun zenith``;
* two-way transmittance, half the scattered light still reaching the ground:
  ``exp(-tau / 2 (1 / mu_s + 1))``;
* surface ``= (toa - path) / transmittance``.

What is *not* taken out is the aerosol, which varies from day to day and needs a per-scene
estimate this module does not make. The detectors subtract each scene's own water
background, so an offset left in a band matters little; what remains is measured on the
simulated overlap of both levels (``scripts/measure_l1c_counts.py``).

Earlier this module mapped each band linearly onto the reference by quantiles. On winter
dates with snow or harbour ice the scene's quantiles are not the reference's and the mapping
invented dozens of ships per scene (SIMULATED overlap: +26 per scene against Level-2A), so it
was replaced.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.detect.reference import Reference
from pipeline.detect.toa_mask import recheck_with_reference
from pipeline.types import Chip

#: Centre wavelengths (nm) of the bands the chips hold: B02, B03, B04, B08, B11 (S2A).
BAND_CENTRES_NM: Final = (492.4, 559.8, 664.6, 832.8, 1613.7)
#: The sun is never taken lower than this (degrees): the plane-parallel formulas diverge.
MIN_SUN_ELEVATION: Final = 5.0
#: Version of the Level-1C calibration, recorded with Level-1C observations.
TOA_METHOD: Final = "rayleigh-1"


def rayleigh_depth(nm: float) -> float:
    """Rayleigh optical depth of the whole atmosphere at sea level (Hansen & Travis 1974)."""
    um = nm / 1000.0
    return 0.008569 * um**-4 * (1.0 + 0.0113 * um**-2 + 0.00013 * um**-4)


def rayleigh_terms(sun_elevation: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per band: the Rayleigh path reflectance and the two-way transmittance, for a nadir
    view under a sun ``sun_elevation`` degrees above the horizon."""
    elevation = math.radians(max(sun_elevation, MIN_SUN_ELEVATION))
    mu_s = math.sin(elevation)
    cos_scatter = -mu_s  # scattering angle 180 degrees minus the sun's zenith angle
    phase = 0.75 * (1.0 + cos_scatter**2)
    tau = np.array([rayleigh_depth(nm) for nm in BAND_CENTRES_NM])
    path = tau * phase / (4.0 * mu_s)
    transmittance = np.exp(-0.5 * tau * (1.0 / mu_s + 1.0))
    return path, transmittance


def surface_from_toa(toa: NDArray[np.float32], sun_elevation: float) -> NDArray[np.float32]:
    """``(5, rows, cols)`` TOA reflectance (blue, green, red, nir, swir16) with the Rayleigh
    path taken out and the transmittance undone; no-data (non-finite) stays as it is."""
    if toa.ndim != 3 or toa.shape[0] != len(BAND_CENTRES_NM):
        raise ValueError(f"expected ({len(BAND_CENTRES_NM)}, rows, cols) bands, got {toa.shape}")
    path, transmittance = rayleigh_terms(sun_elevation)
    surface = (toa - path.reshape(-1, 1, 1)) / transmittance.reshape(-1, 1, 1)
    return surface.astype(np.float32)


def chip_to_surface(chip: Chip, sun_elevation: float, reference: Reference | None) -> Chip:
    """A Level-1C chip at surface reflectance, its cloud mask rechecked against the
    reference where one fits (:func:`pipeline.detect.toa_mask.recheck_with_reference`)."""
    surface = surface_from_toa(chip.reflectance, sun_elevation)
    scl = chip.scl
    if reference is not None and reference.fits(chip):
        scl = recheck_with_reference(scl, surface, reference.median, chip.valid)
    return replace(chip, reflectance=surface, scl=scl)

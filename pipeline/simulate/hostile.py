"""Rendering of the hostile world (issue 13 part B): misregistration and harbour ice.

- **Misregistration.** Each scene is shifted against the true grid by its drawn ``(dx, dy)``
  (:func:`pipeline.simulate.conditions.scene_shift`, 10 m pixels, east and north). The ground
  (surface, objects and the static inputs of the SCL) is resampled on the shifted grid (a
  Fourier phase ramp) before the 20 m bands are averaged, so every band moves alike (the 20 m
  bands by half as many of their pixels). Clouds are drawn afterwards, in image coordinates:
  they are random per scene anyway. The regions are windows of a larger world, so their edges
  are padded by reflection: the shift never brings nodata (DN 0) into a region. The truth
  (ship and railcar positions) stays on the true grid, as a real archive's would.
- **Harbour ice** in ``sea_ice_months``: the sheltered basin of Rajin (north of the
  breakwaters) freezes over, bright in the visible and dark in the SWIR like snow, with leads of
  open water; it is snow/ice (11) in the SCL where the cover reaches half a pixel. Ships in the
  basin are drawn on top of it and are the only ships in the truth.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import scipy.fft
from numpy.typing import NDArray
from scipy import ndimage

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import SiteMap
from pipeline.simulate.noise import F32, fractal_field, smoothstep
from pipeline.simulate.rajin import BREAKWATERS

#: Fast ice: snowy, then bare where the wind swept it, by a rough field.
SEA_ICE_SNOWY: Final = sp.ICE_SNOWY
SEA_ICE_BARE: Final = sp.ICE_BARE
#: Southern limit of the basin (the western breakwater) and its western shore, UTM metres.
_BASIN_SOUTH: Final = 4676300.0
_BASIN_WEST: Final = 605400.0
#: Reflection padding of a shifted array, pixels (more than any drawn shift).
_PAD: Final = 16


def misregister(stack: F32, shift_px: tuple[float, float]) -> F32:
    """Resample ``(..., rows, cols)`` 10 m arrays on a grid shifted by ``(dx, dy)`` pixels.

    The content moves ``dx`` pixels east and ``dy`` north. The shift is applied as a phase
    ramp (exact for the band-limited, PSF-blurred image; bilinear resampling would pull the
    measured shift towards whole pixels by ~0.15 px) on the array padded by reflection, so
    the edges neither wrap around nor bring in nodata.
    """
    dx, dy = shift_px
    lead = stack.ndim - 2
    padded = np.pad(stack, [(0, 0)] * lead + [(_PAD, _PAD), (_PAD, _PAD)], mode="reflect")
    spectrum = scipy.fft.rfftn(padded, axes=(-2, -1))
    moved = ndimage.fourier_shift(spectrum, (0.0,) * lead + (-dy, dx), n=padded.shape[-1])
    out = scipy.fft.irfftn(moved, s=padded.shape[-2:], axes=(-2, -1))
    shifted: F32 = np.ascontiguousarray(out[..., _PAD:-_PAD, _PAD:-_PAD], dtype=np.float32)
    return shifted


def basin(site: SiteMap) -> F32:
    """Share of each pixel that is sheltered harbour-basin water at Rajin."""
    reg = site.region
    xs, ys = reg.pixel_centres()
    gx, gy = np.meshgrid(xs, ys)
    (x0, y0), (x1, y1), _ = BREAKWATERS[0]
    breakwater_x = x1 + (gy - y1) * (x0 - x1) / (y0 - y1)
    inside = (
        smoothstep(gy, _BASIN_SOUTH - 30, _BASIN_SOUTH + 30)
        * smoothstep(gx, _BASIN_WEST - 30, _BASIN_WEST + 30)
        * (1 - smoothstep(gx, breakwater_x - 30, breakwater_x + 30))
    )
    water = site.water["harbour"] + site.water["sea"]
    cover: F32 = (inside * water).astype(np.float32)
    return cover


def harbour_ice(site: SiteMap, rng: np.random.Generator) -> F32:
    """This scene's ice cover (0-1): the basin, less a few leads of open water."""
    shape = site.fixed_fraction.shape
    leads = fractal_field(shape, rng, beta=2.4, stretch=4.0, angle_deg=float(rng.uniform(0, 180)))
    share = float(rng.uniform(0.75, 1.0))
    solid = np.clip((leads + 2.2 - 2.5 * (1 - share)) * 2.0, 0.0, 1.0)
    cover: F32 = (basin(site) * solid).astype(np.float32)
    return cover


def paint_ice(refl: F32, snow: F32, cover: F32, rng: np.random.Generator) -> None:
    """Lay ice of cover ``cover`` over ``refl`` and add it to the snow/ice ``snow`` (in place)."""
    snowy = float(rng.uniform(0.2, 1.0))
    colour = sp.spec(sp.lerp(SEA_ICE_BARE, SEA_ICE_SNOWY, snowy))
    refl *= 1 - cover
    refl += colour * cover
    np.maximum(snow, cover, out=snow)


def as_mask(values: F32) -> NDArray[np.bool_]:
    """A resampled 0/1 layer back to a mask (half a pixel or more)."""
    mask: NDArray[np.bool_] = values >= 0.5
    return mask

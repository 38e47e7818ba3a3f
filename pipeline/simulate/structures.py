"""Structures built mid-series (issue 13, ``[[aoi.structure]]``): drawn from their ``from`` date.

A structure is part of the ground, not an object: it is in no truth file, and the references
built from the scenes before its ``from`` date do not contain it. Each kind has fixed slots in
the site geometry (UTM 52N metres); the k-th structure of a kind at an AOI takes slot
``k mod len(slots)`` (a repeated kind beyond the slots is drawn again in the same place):

- ``pier-extension`` (Rajin only): a concrete extension :data:`PIER_EXTENSION_M` long, as
  wide as the pier, at the seaward tip of pier 2, then pier 1, then pier 3
  (:data:`pipeline.simulate.rajin.PIERS`), over the harbour water;
- ``building``: a bright-roofed (white) block 60 x 40 m on land near the port, north-east of
  the Rajin apron at (609100, 4678530); at Tumangang south of the station yard at
  (632900, 4697470);
- ``stockpile``: a heap about 80 x 50 m on a quay: coal on the free east half of pier 1 at
  Rajin, iron ore at the east end of the Tumangang yard's graded ground (633200, 4697650).
  Its length and width vary by up to +-10 % from scene to scene (stream ``"structures"``).

Structures are painted on the surface (after harbour ice, before shadows, objects, the PSF
and the misregistration shift) over whatever lies there; they take the season's snow like
other fixed surfaces, and a pier extension is no longer water for the SCL. They cast no
shadows of their own. Without ``[[aoi.structure]]`` nothing here runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from pipeline.simulate import spectra as sp
from pipeline.simulate.geography import SiteMap
from pipeline.simulate.grid import fine_coords, pixel_window
from pipeline.simulate.noise import F32, oriented_coords
from pipeline.simulate.rajin import PIER_HEADING, PIERS, quay_y
from pipeline.simulate.scenario_keys import StructureSpec
from pipeline.simulate.spectra import Spectrum

#: How far a pier extension reaches beyond the pier's tip, m.
PIER_EXTENSION_M: Final = 80.0
#: Share of a structure a snowfall covers (as other fixed surfaces, ``1 - 0.6``).
SNOW_SHARE: Final = 0.4
#: Scene-to-scene size change of a stockpile (uniform factor on length and width).
STOCKPILE_VARIATION: Final = 0.1
ORE: Final[Spectrum] = (0.070, 0.062, 0.130, 0.200, 0.240)
_SUB: Final = 8


@dataclass(frozen=True)
class Footprint:
    """An oriented rectangle on the ground and what covers it."""

    cx: float
    """Centre easting (UTM m)."""
    cy: float
    """Centre northing."""
    length: float
    """Along ``heading``, m."""
    width: float
    """Across, m."""
    heading: float
    """Degrees clockwise from grid north."""
    colour: Spectrum
    """Reflectance of the surface."""


def _pier_tip(index: int) -> Footprint:
    base_x, length, width, _ = PIERS[index]
    rad = math.radians(PIER_HEADING)
    s = length + PIER_EXTENSION_M / 2
    cx, cy = base_x + math.sin(rad) * s, quay_y(base_x) + math.cos(rad) * s
    return Footprint(cx, cy, PIER_EXTENSION_M, width, PIER_HEADING, sp.CONCRETE)


def _on_pier_1(s: float, t: float) -> tuple[float, float]:
    """A point ``s`` m along pier 1 from its root and ``t`` m to its east face."""
    base_x = PIERS[0][0]
    along, across = math.radians(PIER_HEADING), math.radians(PIER_HEADING - 90)
    x = base_x + math.sin(along) * s + math.sin(across) * t
    return x, quay_y(base_x) + math.cos(along) * s + math.cos(across) * t


_COAL_HEAP: Final = Footprint(*_on_pier_1(600.0, 30.0), 80.0, 50.0, PIER_HEADING, sp.COAL)
#: Per AOI and kind, the slots structures take in order.
SLOTS: Final[Mapping[str, Mapping[str, tuple[Footprint, ...]]]] = {
    "rajin-port": {
        "pier-extension": (_pier_tip(1), _pier_tip(0), _pier_tip(2)),
        "building": (Footprint(609100.0, 4678530.0, 60.0, 40.0, 88.7, sp.ROOF_WHITE),),
        "stockpile": (_COAL_HEAP,),
    },
    "tumangang-rail": {
        "building": (Footprint(632900.0, 4697470.0, 60.0, 40.0, 89.0, sp.ROOF_WHITE),),
        "stockpile": (Footprint(633200.0, 4697650.0, 80.0, 50.0, 89.0, ORE),),
    },
}


def footprints(aoi: str, structures: tuple[StructureSpec, ...]) -> tuple[Footprint, ...]:
    """Where each structure of an AOI stands (in the order given), by its kind's slots."""
    seen: dict[str, int] = {}
    out = []
    for st in structures:
        slots = SLOTS[aoi][st.kind]
        k = seen.get(st.kind, 0)
        seen[st.kind] = k + 1
        out.append(slots[k % len(slots)])
    return tuple(out)


def footprint_cover(site: SiteMap, fp: Footprint) -> tuple[F32, tuple[slice, slice]]:
    """Area share of each pixel the footprint covers, and the pixel window it lies in."""
    reach = 0.5 * math.hypot(fp.length, fp.width)
    window = pixel_window(site.region, fp.cx - reach, fp.cy - reach, fp.cx + reach, fp.cy + reach)
    gx, gy = fine_coords(site.region, window, _SUB)
    u, v = oriented_coords(gx, gy, fp.cx, fp.cy, fp.heading)
    inside = ((np.abs(u) <= fp.length / 2) & (np.abs(v) <= fp.width / 2)).astype(np.float32)
    rows, cols = window[0].stop - window[0].start, window[1].stop - window[1].start
    cover = inside.reshape(rows, _SUB, cols, _SUB).mean(axis=(1, 3), dtype=np.float32)
    return cover, window


def paint_structures(
    refl: F32,
    snow: F32,
    site: SiteMap,
    aoi: str,
    structures: tuple[StructureSpec, ...],
    day: date,
    snowfall: float,
    rng: np.random.Generator,
) -> F32 | None:
    """Paint the structures standing on ``day`` over ``refl`` and ``snow`` (in place).

    ``snowfall`` is the scene's snow on the ground (0-1). Returns the share of each pixel
    they cover (for the SCL's water fraction), or None when none stands yet.
    """
    built = [
        (st, fp) for st, fp in zip(structures, footprints(aoi, structures), strict=True)
        if st.start <= day
    ]  # fmt: skip
    if not built:
        return None
    covered = np.zeros(snow.shape, np.float32)
    white = min(1.0, snowfall) * SNOW_SHARE
    for st, fp in built:
        if st.kind == "stockpile":
            scale = rng.uniform(1 - STOCKPILE_VARIATION, 1 + STOCKPILE_VARIATION, size=2)
            fp = Footprint(
                fp.cx, fp.cy, fp.length * scale[0], fp.width * scale[1], fp.heading, fp.colour
            )
        cover, window = footprint_cover(site, fp)
        colour = sp.spec(sp.lerp(fp.colour, sp.SNOW, white)) * site.texture[window]
        part = refl[(slice(None), *window)]
        part *= 1 - cover
        part += colour * cover
        snow[window] = snow[window] * (1 - cover) + white * cover
        np.maximum(covered[window], cover, out=covered[window])
    return covered

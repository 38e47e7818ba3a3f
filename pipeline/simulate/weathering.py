"""Weather on the ground and on the objects (issue 13, "The world looks real").

- **Wet ballast.** After rain, or in the thaw, the loose ground of the Tumangang-Khasan yards
  (track ballast and graded yard ground, :attr:`pipeline.simulate.geography.SiteMap.loose_ground`)
  is darker: wet gravel and soil reflect 20-40 % less in the visible and NIR and more in the
  SWIR, where the water in the pores absorbs. A scene is wet with its month's chance
  (:data:`WET_CHANCE_BY_MONTH`: 0.5 in the summer monsoon, July-August; 0.35 in the thaw,
  March-April; never in the frozen months December-February) and never with snow on the
  ground; a wet scene's wetness (uniform 0.6-1) scales :data:`WET_LOSS` (so 21-35 % less in
  the visible, 19-32 % in the NIR, 30-50 % in the SWIR). Both sites share it, like the rest
  of the weather; forest, fields, water, roads and concrete keep their reflectance.
- **Snow on decks and car roofs.** In a scene with snow on the ground
  (:attr:`pipeline.simulate.surface.Weather.snow` > 0), a ship (chance
  :data:`DECK_SNOW_CHANCE`) or a railcar string (:data:`ROOF_SNOW_CHANCE`) carries snow; the
  others came in after the snowfall, or were swept, and are clean. The snow lies in
  :data:`SNOW_CELL_M` cells over a share (the scene's snow cover x uniform 0.6-1) of the open
  deck, hatch covers and container tops, or of the car roofs and open loads; a snowy cell is
  blended :data:`SNOW_WHITENESS` of the way to :data:`pipeline.simulate.spectra.SNOW`. A
  snowy deck looks like snow-covered land or ice, and adds to the snow cover the SCL reads.

Gating, so that a scenario without the keys of issue 13 renders exactly as before: snow on
the objects needs ``snow_probability_by_month`` (the realistic snow regime; the built-in
snow chances keep clean objects), wet ground needs ``cloud_probability_by_month`` (the
monsoon's rain; its chances here are the season's, as above). Every draw comes from its
own streams, ``"wet-ground"`` per scene and ``"object-snow"`` per site, so no other draw moves.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.simulate import spectra as sp
from pipeline.simulate.noise import F32, cell_hash
from pipeline.simulate.scenario import Scenario
from pipeline.simulate.schedule import SceneInfo
from pipeline.simulate.spectra import Spectrum
from pipeline.simulate.streams import stream
from pipeline.simulate.surface import Weather

#: Chance that a scene's yards are wet, January to December (rain, thaw; frozen in winter).
WET_CHANCE_BY_MONTH: Final = (0.0, 0.0, 0.35, 0.35, 0.2, 0.25, 0.5, 0.5, 0.3, 0.2, 0.1, 0.0)
#: Share of the reflectance wet ballast loses per band (blue, green, red, nir, swir16).
WET_LOSS: Final[Spectrum] = (0.35, 0.35, 0.35, 0.32, 0.50)
#: Range of a wet scene's wetness (the factor on :data:`WET_LOSS`).
WETNESS: Final = (0.6, 1.0)
#: Chance that a ship or a railcar string carries snow in a scene with snow on the ground.
DECK_SNOW_CHANCE: Final = 0.6
ROOF_SNOW_CHANCE: Final = 0.6
#: Side of the patches snow lies in on a deck or a roof, m.
SNOW_CELL_M: Final = 2.5
#: How far a snowy patch is blended towards fresh snow (trodden, sooty snow is greyer).
SNOW_WHITENESS: Final = 0.85
_SNOW: Final = np.asarray(sp.SNOW, np.float32).reshape(5, 1)


def wet_ground(scenario: Scenario, info: SceneInfo, sky: Weather) -> Spectrum | None:
    """The scene's reflectance factor per band of wet ballast and yard ground, or None (dry)."""
    if scenario.world.cloud_probability_by_month is None or sky.snow > 0:
        return None
    rng = stream(scenario, info.date, "wet-ground")
    wet, wetness = rng.random(), float(rng.uniform(*WETNESS))
    if wet >= WET_CHANCE_BY_MONTH[info.date.month - 1]:
        return None
    return tuple(1.0 - loss * wetness for loss in WET_LOSS)  # type: ignore[return-value]


def object_snow(
    scenario: Scenario, day: date, site: int, count: int, snowfall: float, chance: float
) -> tuple[float, ...] | None:
    """Per object (ship or railcar string), the share of its deck or roofs under snow.

    Args:
        scenario: The scenario (snow on objects needs its ``snow_probability_by_month``).
        day: The scene's date.
        site: The site's index (its random stream).
        count: Number of objects drawn at the site.
        snowfall: The scene's snow cover on open land (0-1).
        chance: Chance that an object carries snow.

    Returns:
        One share (0: clean) per object, or None when the scene puts no snow on objects.
    """
    if scenario.world.snow_probability_by_month is None or snowfall <= 0 or count == 0:
        return None
    draws = stream(scenario, day, "object-snow", site).random((count, 2))
    return tuple(
        float(snowfall * (0.6 + 0.4 * amount)) if carries < chance else 0.0
        for carries, amount in draws
    )


def snow_patches(
    surface: NDArray[np.bool_],
    along: NDArray[np.int64],
    across: NDArray[np.int64],
    share: float,
    salt: int,
) -> NDArray[np.bool_]:
    """The sub-pixels of ``surface`` under snow: a ``share`` of the cells ``(along, across)``."""
    snowy: NDArray[np.bool_] = surface & (cell_hash(along, across, salt) < share)
    return snowy


def cells(values: F32) -> NDArray[np.int64]:
    """Index of the :data:`SNOW_CELL_M` cell each coordinate (m) falls in."""
    index: NDArray[np.int64] = np.floor(values / SNOW_CELL_M).astype(np.int64)
    return index


def lay_snow(colour: F32, snowy: NDArray[np.bool_]) -> None:
    """Blend the (premultiplied, fully covered) ``colour`` of the snowy sub-pixels to snow."""
    colour[:, snowy] += (_SNOW - colour[:, snowy]) * np.float32(SNOW_WHITENESS)

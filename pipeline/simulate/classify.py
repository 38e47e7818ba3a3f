"""The Scene Classification Layer (SCL) at 20 m, consistent with what was rendered.

Classes follow ESA's L2A: 2 dark, 3 cloud shadow, 4 vegetation, 5 bare/built, 6 water,
7 unclassified, 8/9 cloud medium/high probability, 10 thin cirrus, 11 snow/ice
(0 nodata is left to the archive writer outside the painted regions). Cloud, cirrus and
shadow use the same thresholds as the truth's ``clear_fraction``. Like the real SCL, it
errs in known ways: ships on water are "bare", some bright ship decks and container stacks
are "cloud", and thin cloud edges are "unclassified".
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pipeline.simulate.atmosphere import CIRRUS_MIN, CLOUD_HIGH, CLOUD_MIN, SHADOW_MIN, Sky
from pipeline.simulate.noise import F32, block_mean

NODATA: Final = 0
DARK: Final = 2
SHADOW: Final = 3
VEGETATION: Final = 4
BARE: Final = 5
WATER: Final = 6
UNCLASSIFIED: Final = 7
CLOUD_MEDIUM: Final = 8
CLOUD_HIGH_PROBABILITY: Final = 9
CIRRUS: Final = 10
SNOW: Final = 11


def classify(
    surface: F32,
    water: F32,
    snow: F32,
    ships: F32,
    ships_as_cloud: F32,
    stacks_as_cloud: NDArray[np.bool_],
    clouds: Sky,
    rng: np.random.Generator,
) -> NDArray[np.uint8]:
    """SCL at 20 m from 10 m inputs (all ``(rows, cols)`` except ``surface``).

    Args:
        surface: Cloud-free surface reflectance ``(5, rows, cols)`` with objects drawn.
        water: Static water fraction.
        snow: Snow and ice cover.
        ships: Ship coverage.
        ships_as_cloud: Coverage of the ships this scene's SCL calls cloud.
        stacks_as_cloud: Container stacks and white roofs this scene's SCL calls cloud.
        clouds: The scene's cloud fields.
        rng: For the scattered "unclassified" pixels at cloud edges.
    """

    def down(a: NDArray[Any]) -> F32:
        return block_mean(a.astype(np.float32), 2)

    blue, _, red, nir, _ = (down(b) for b in surface)
    ndvi = (nir - red) / np.maximum(nir + red, 1e-4)
    scl = np.full(blue.shape, BARE, np.uint8)
    scl[ndvi > 0.42] = VEGETATION
    scl[(blue < 0.045) & (nir < 0.07) & (ndvi < 0.3)] = DARK
    scl[down(water) >= 0.5] = WATER
    scl[down(ships) >= 0.3] = BARE
    scl[down(snow) >= 0.5] = SNOW
    cloud, cirrus, shadow = down(clouds.cloud), down(clouds.cirrus), down(clouds.shadow)
    scl[(shadow >= SHADOW_MIN) & (cloud < CLOUD_MIN)] = SHADOW
    edge = (cloud >= 0.12) & (cloud < CLOUD_MIN) & (rng.random(cloud.shape) < 0.5)
    scl[edge] = UNCLASSIFIED
    scl[(cirrus >= CIRRUS_MIN) & (cloud < CLOUD_MIN)] = CIRRUS
    scl[cloud >= CLOUD_MIN] = CLOUD_MEDIUM
    scl[cloud >= CLOUD_HIGH] = CLOUD_HIGH_PROBABILITY
    scl[down(ships_as_cloud) >= 0.3] = CLOUD_MEDIUM
    scl[down(stacks_as_cloud) >= 0.5] = CLOUD_MEDIUM
    return scl

"""Issue 14, point 4 (co-registration) under the sun's seasons: shading and shadows that
change from summer to winter must not pull the shift. A textured coast whose hills are shaded
by a low winter sun (the reference is made mostly of clear winter looks) and lit by a high
summer one, with a row of buildings whose shadows fall north, long in winter, short in
summer."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from pipeline.detect.coregister import measure_shift, stable_pixels
from pipeline.simulate.hostile import misregister
from pipeline.simulate.noise import fractal_field

F32 = NDArray[np.float32]
SHAPE = (200, 240)
#: Each building's south edge row and its columns; shadows fall north (up) from it.
BUILDINGS = [(120 + 9 * (k % 3), slice(12 + 19 * k, 24 + 19 * k)) for k in range(12)]


def _look(shadow_px: int, seed: int) -> F32:
    """The coast with every building's shadow ``shadow_px`` long (and the hills shaded as
    much as a sun that low shades them), plus sensor noise."""
    rng = np.random.default_rng(7)
    land = (np.arange(SHAPE[0])[:, None] > 60).astype(np.float32) * np.ones(SHAPE, np.float32)
    texture = fractal_field(SHAPE, rng, beta=2.4)
    hills = ndimage.gaussian_filter(fractal_field(SHAPE, rng, beta=3.5), 3)
    slope = np.gradient(hills, axis=0)  # facing north (up) or south
    shading = 1.0 + 0.25 * shadow_px * slope / float(np.abs(slope).max())
    nir = 0.02 + land * (0.25 + 0.05 * texture) * shading
    for row, cols in BUILDINGS:
        nir[row - 4 : row, cols] = 0.4  # the roof
        nir[row - 4 - shadow_px : row - 4, cols] *= 0.3  # its shadow, north of it
    cube = np.stack([nir * k for k in (0.5, 0.6, 0.7, 1.0, 0.8)]).astype(np.float32)
    blurred = ndimage.gaussian_filter(cube, sigma=(0, 0.5, 0.5)).astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, 0.002, blurred.shape).astype(np.float32)
    out: F32 = (blurred + noise).astype(np.float32)
    return out


def _reference_and_summer() -> tuple[F32, F32, F32]:
    winter = [_look(8, seed) for seed in range(6)]  # low sun: long shadows
    summer = [_look(2, 10 + seed) for seed in range(5)]
    looks = winter + summer
    median = np.median(np.stack(looks), axis=0).astype(np.float32)
    q25, q75 = np.percentile(np.stack(looks).mean(axis=1), [25, 75], axis=0)
    spread = (q75 - q25).astype(np.float32)  # as the reference keeps it
    scene = misregister(_look(2, 99), (0.0, 0.3))  # a summer scene 0.3 px north
    return median, spread, scene.astype(np.float32)


def test_aligning_on_steady_land_finds_the_true_shift() -> None:
    median, spread, scene = _reference_and_summer()
    steady = stable_pixels(spread, median[3])
    shadowed = np.zeros(SHAPE, bool)
    for row, cols in BUILDINGS:
        shadowed[row - 11 : row - 7, cols] = True  # shadowed in winter only
    land = median[3] >= 0.06
    # The moving shadows are left out (but a few of their edge pixels).
    assert (steady & shadowed & land).sum() <= 0.02 * (shadowed & land).sum()
    shift = measure_shift(scene[3], median[3], steady)
    assert abs(shift.rows - 0.3) < 0.05
    assert abs(shift.cols) < 0.05
    # On all the land, the seasons pull it further off.
    everything = measure_shift(scene[3], median[3], np.ones(SHAPE, bool))
    assert max(abs(everything.rows - 0.3), abs(everything.cols)) > 0.05

"""Level-1C bands mapped onto the reference's scale (issue 17)."""

from __future__ import annotations

import numpy as np

from pipeline.detect.toa_calibrate import fit_bands, to_reference_scale


def test_a_linear_atmosphere_is_undone_and_few_pixels_are_refused() -> None:
    rng = np.random.default_rng(3)
    surface = rng.uniform(0.01, 0.3, (5, 40, 40)).astype(np.float32)
    path = np.array([0.1, 0.07, 0.04, 0.02, 0.005], np.float32).reshape(5, 1, 1)
    trans = np.array([0.8, 0.85, 0.9, 0.94, 0.97], np.float32).reshape(5, 1, 1)
    toa = path + trans * surface
    toa[:, 5, 5] = 0.9  # a bright ship: too few pixels to move the quantiles
    clear = np.ones((40, 40), bool)
    fit = fit_bands(toa, surface, clear)
    assert fit is not None
    mapped = to_reference_scale(toa, fit)
    inside = np.ones((40, 40), bool)
    inside[5, 5] = False
    assert np.abs(mapped[:, inside] - surface[:, inside]).max() < 0.01
    assert fit_bands(toa, surface, np.zeros((40, 40), bool)) is None

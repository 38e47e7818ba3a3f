"""Level-1C chips brought to surface reflectance: the Rayleigh correction (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect.toa_calibrate import rayleigh_depth, rayleigh_terms, surface_from_toa


def test_rayleigh_depth_matches_the_published_values() -> None:
    # Sea-level Rayleigh optical depths tabulated by Bucholtz (1995), US standard atmosphere.
    assert rayleigh_depth(550.0) == pytest.approx(0.0973, rel=0.02)
    assert rayleigh_depth(450.0) == pytest.approx(0.2245, rel=0.03)
    assert rayleigh_depth(1600.0) == pytest.approx(0.00129, rel=0.05)


def test_the_path_is_largest_in_the_blue_and_under_a_low_sun() -> None:
    summer, summer_t = rayleigh_terms(70.0)
    winter, winter_t = rayleigh_terms(25.0)
    assert list(summer) == sorted(summer, reverse=True)  # blue > green > ... > SWIR
    assert np.all(winter > summer)
    assert np.all(winter_t < summer_t)
    assert 0.05 < summer[0] < 0.1  # blue under a high sun: a few hundredths to a tenth
    assert winter[4] < 0.005  # SWIR barely scatters


def test_a_molecular_atmosphere_is_taken_out_exactly() -> None:
    rng = np.random.default_rng(3)
    surface = rng.uniform(0.0, 0.4, (5, 30, 30)).astype(np.float32)
    path, trans = rayleigh_terms(28.0)
    toa = (path.reshape(5, 1, 1) + trans.reshape(5, 1, 1) * surface).astype(np.float32)
    back = surface_from_toa(toa, 28.0)
    assert np.abs(back - surface).max() < 1e-5
    # the sun's elevation matters: the summer correction on a winter scene leaves dark water
    # (where the path is all there is) bright in the blue
    wrong = surface_from_toa(toa, 70.0)
    dark = surface[0] < 0.05
    assert float((wrong[0] - surface[0])[dark].mean()) > 0.01


def test_no_data_stays_and_a_wrong_shape_is_refused() -> None:
    toa = np.full((5, 4, 4), np.nan, np.float32)
    assert np.isnan(surface_from_toa(toa, 40.0)).all()
    with pytest.raises(ValueError, match="expected"):
        surface_from_toa(np.zeros((4, 4, 4), np.float32), 40.0)

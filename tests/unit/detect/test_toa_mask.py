"""The Level-1C cloud mask without SCL (issue 17): tiny TOA spectra with a known class."""

from __future__ import annotations

import numpy as np

from pipeline.detect.masks import clear_mask
from pipeline.detect.toa_mask import scl_from_toa

#: TOA (blue, green, red, nir, swir16) of each kind of pixel, as the SIMULATED Level-1C
#: items of December 2018 show them (medians over each SCL class).
SPECTRA = {
    "cloud": (0.639, 0.637, 0.640, 0.634, 0.425),
    "snow": (0.371, 0.345, 0.316, 0.260, 0.061),
    "water": (0.204, 0.140, 0.078, 0.042, 0.016),
    "winter bare land": (0.215, 0.171, 0.146, 0.194, 0.216),  # blue lifted by the low sun
    "dark land": (0.090, 0.070, 0.050, 0.070, 0.050),  # a field in shade
}


def _chip(kind: str, shape: tuple[int, int] = (4, 4)) -> np.ndarray:
    return np.broadcast_to(np.array(SPECTRA[kind], np.float32)[:, None, None], (5, *shape)).copy()


def test_each_kind_gets_its_scl_class() -> None:
    valid = np.ones((4, 4), bool)
    got = {kind: int(scl_from_toa(_chip(kind), valid)[0, 0]) for kind in SPECTRA}
    assert got == {"cloud": 9, "snow": 11, "water": 6, "winter bare land": 4, "dark land": 4}


def test_dark_land_near_a_cloud_is_its_shadow_and_nodata_stays_nodata() -> None:
    toa = _chip("dark land", (40, 40))
    toa[:, :10, :10] = _chip("cloud", (10, 10))
    valid = np.ones((40, 40), bool)
    valid[-1, -1] = False
    scl = scl_from_toa(toa, valid)
    assert scl[0, 0] == 9
    assert scl[20, 20] == 3
    assert scl[-1, -1] == 0
    clear = clear_mask(scl)
    assert not clear[:10, :10].any()
    assert not clear[20, 20]


def test_a_cloudless_chip_has_no_shadow() -> None:
    scl = scl_from_toa(_chip("dark land", (20, 20)), np.ones((20, 20), bool))
    assert set(np.unique(scl)) == {4}

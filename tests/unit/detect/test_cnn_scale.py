"""The learned detector reads every chip at 10 m ground pixels and maps ships back."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect.cnn import Peak
from pipeline.detect.cnn_scale import (
    WORKING_PIXEL_M,
    peak_to_input,
    to_working_scale,
    working_factor,
)


def _blob(shape: tuple[int, int], row: float, col: float, sigma: float) -> np.ndarray:
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    blob: np.ndarray = np.exp(-((rr - row) ** 2 + (cc - col) ** 2) / (2 * sigma**2))
    return blob


def _centroid(image: np.ndarray) -> tuple[float, float]:
    rr, cc = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    total = float(image.sum())
    return float((rr * image).sum()) / total, float((cc * image).sum()) / total


def test_a_chip_at_ten_metres_passes_through_untouched() -> None:
    refl = np.ones((5, 40, 30), dtype=np.float32)
    valid = np.ones((40, 30), dtype=bool)
    work = to_working_scale(refl, valid, 10.1)
    assert work.factor == 1.0
    assert work.reflectance is refl
    assert work.valid is valid


@pytest.mark.parametrize("pixel_m", [5.8, 7.3, 12.5])
def test_a_ship_keeps_its_place_and_length_through_the_working_grid(pixel_m: float) -> None:
    # A bright 2-D Gaussian (a hull seen by a 10 m sensor) at a sub-pixel place, 90 m wide.
    row, col = 41.3, 57.8
    sigma_m = 30.0
    shape = (100, 120)
    band = _blob(shape, row, col, sigma_m / pixel_m).astype(np.float32)
    refl = np.stack([band] * 5)
    valid = np.ones(shape, dtype=bool)
    valid[:, :10] = False
    work = to_working_scale(refl, valid, pixel_m)
    factor = pixel_m / WORKING_PIXEL_M
    assert work.factor == pytest.approx(factor)
    assert work.reflectance.shape == (5, round(100 * factor), round(120 * factor))
    assert work.valid is not None
    assert work.valid.shape == work.reflectance.shape[1:]
    # The no-data strip keeps its ground width (100 m), to within a working pixel.
    assert abs(int((~work.valid[0]).sum()) - 10 * factor) <= 1
    wr, wc = _centroid(work.reflectance[3])
    peak = peak_to_input(Peak(wr, wc, 12.0, 3.0, 30.0, 0.9), work.factor)
    assert peak.row == pytest.approx(row, abs=0.05 / factor)
    assert peak.col == pytest.approx(col, abs=0.05 / factor)
    # A length read on the working grid is the same ground length in the chip's pixels.
    assert peak.length_px * pixel_m == pytest.approx(12.0 * WORKING_PIXEL_M)
    assert peak.width_px * pixel_m == pytest.approx(3.0 * WORKING_PIXEL_M)
    assert (peak.heading_deg, peak.score) == (30.0, 0.9)


def test_no_data_does_not_poison_the_resampled_chip() -> None:
    refl = np.full((5, 50, 50), 0.03, dtype=np.float32)
    refl[:, :5] = np.nan
    work = to_working_scale(refl, None, 6.0)
    assert np.isfinite(work.reflectance).all()
    assert work.valid is None


def test_factor_is_one_only_near_ten_metres() -> None:
    assert working_factor(10.0) == 1.0
    assert working_factor(9.9) == 1.0
    assert working_factor(6.0) == pytest.approx(0.6)

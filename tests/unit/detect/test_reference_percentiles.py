"""The vectorised percentiles behind the references equal NumPy's, bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.detect.reference import nanmedian0, nanpercentile0


def _stack(n: int, seed: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    values = rng.random((n, 3, 9, 11)) ** 4 * rng.choice([1e-3, 1.0, 300.0], (n, 3, 9, 11))
    stack: NDArray[np.float32] = values.astype(np.float32)
    stack[rng.random(stack.shape) < 0.3] = np.nan
    stack[:, :, 0, 0] = np.nan  # never seen
    stack[1:, :, 0, 1] = np.nan  # seen once
    return stack


@pytest.mark.parametrize("n", [1, 2, 5, 8, 40])
@pytest.mark.parametrize("q", [0.0, 10.0, 37.3, 90.0, 100.0, [25.0, 75.0]])
def test_nanpercentile0_is_numpys(n: int, q: float | list[float]) -> None:
    stack = _stack(n, seed=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        expected = np.nanpercentile(stack, q, axis=0).astype(np.float32)
    found = nanpercentile0(stack, q)
    assert found.dtype == np.float32
    assert found.shape == expected.shape
    assert np.array_equal(found, expected, equal_nan=True)


@pytest.mark.parametrize("n", [1, 2, 3, 8, 40])
def test_nanmedian0_is_numpys(n: int) -> None:
    stack = _stack(n, seed=100 + n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(stack, axis=0).astype(np.float32)
    assert np.array_equal(nanmedian0(stack), expected, equal_nan=True)

"""The numpy convolutions of the learned detector against a direct reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from pipeline.detect.cnn import ConvSpec, _conv


def _reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
    """Cross-correlation with zero padding, one input-output channel pair at a time."""
    c_out, c_in = w.shape[:2]
    kernel = np.zeros((c_out, c_in, 2 * dilation + 1, 2 * dilation + 1), dtype=np.float64)
    kernel[:, :, ::dilation, ::dilation] = w
    out = np.zeros((c_out, *x.shape[1:]))
    for o in range(c_out):
        for i in range(c_in):
            out[o] += ndi.correlate(x[i].astype(np.float64), kernel[o, i], mode="constant")
        out[o] += b[o]
    return np.maximum(out, 0.0)


@pytest.mark.parametrize("dilation", [1, 2, 4])
@pytest.mark.parametrize("shape", [(3, 17, 23), (2, 8, 8)])
def test_a_same_size_3x3_convolution_equals_the_direct_sum(
    dilation: int, shape: tuple[int, int, int]
) -> None:
    rng = np.random.default_rng(dilation)
    x = rng.normal(size=shape).astype(np.float32)
    w = rng.normal(size=(4, shape[0], 3, 3)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    spec = ConvSpec("t", shape[0], 4, 3, dilation=dilation)
    got = _conv(x, w, b, spec)
    assert got.shape == (4, *shape[1:])
    np.testing.assert_allclose(got, _reference(x, w, b, dilation), atol=1e-4)

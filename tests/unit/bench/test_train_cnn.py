"""The numpy detector computes what the PyTorch network it was trained as computes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need the [train] extra (PyTorch)")

from pipeline.bench.train_cnn import Net  # noqa: E402
from pipeline.detect.cnn import DEFAULT_CNN_PATH, ShipCnn, forward  # noqa: E402


def _torch_out(net: Net, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = net(torch.from_numpy(x[None])).numpy()[0]
    return out


def test_numpy_forward_equals_torch_on_fixed_inputs() -> None:
    torch.manual_seed(0)
    net = Net()
    x = np.random.default_rng(1).normal(0, 1, (7, 52, 64)).astype(np.float32)
    ours = forward(net.export({}), x)
    theirs = _torch_out(net, x)
    assert ours.shape == theirs.shape == (7, 26, 32)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_committed_weights_run_the_same_in_torch() -> None:
    cnn = ShipCnn.load(DEFAULT_CNN_PATH)
    net = Net()
    net.load_state_dict({f"convs.{k}": torch.from_numpy(v) for k, v in cnn.weights.items()})
    x = np.random.default_rng(2).normal(0, 1, (7, 40, 44)).astype(np.float32)
    np.testing.assert_allclose(forward(cnn, x), _torch_out(net, x), atol=1e-4)

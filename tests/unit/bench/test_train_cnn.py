"""The numpy detector computes what the PyTorch network it was trained as computes."""

from __future__ import annotations

import numpy as np
import pytest

#: Importing torch takes seconds: these run in ``make test``, not in ``make test-fast``.
pytestmark = pytest.mark.slow

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
    # Give batch normalisation statistics that are not the identity, so folding is tested.
    with torch.no_grad():
        for bn in net.norms.values():
            assert isinstance(bn, torch.nn.BatchNorm2d)
            assert bn.running_mean is not None
            assert bn.running_var is not None
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    net.eval()
    x = np.random.default_rng(1).normal(0, 1, (7, 52, 64)).astype(np.float32)
    ours = forward(net.export({}), x)
    theirs = _torch_out(net, x)
    assert ours.shape == theirs.shape == (7, 26, 32)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_committed_weights_run_the_same_in_torch() -> None:
    cnn = ShipCnn.load(DEFAULT_CNN_PATH)
    net = Net()
    convs = {f"convs.{k}": torch.from_numpy(v) for k, v in cnn.weights.items()}
    missing, unexpected = net.load_state_dict(convs, strict=False)
    assert not unexpected
    assert all(k.startswith(("norms.", "hull.")) for k in missing)  # hull: training only
    for bn in net.norms.values():
        assert isinstance(bn, torch.nn.BatchNorm2d)
        bn.eps = 0.0  # the committed weights have it folded in: make it the identity
    net.eval()
    x = np.random.default_rng(2).normal(0, 1, (7, 40, 44)).astype(np.float32)
    np.testing.assert_allclose(forward(cnn, x), _torch_out(net, x), atol=1e-4)

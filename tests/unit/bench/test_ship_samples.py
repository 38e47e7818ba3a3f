"""Training samples of the learned ship detector: flips keep headings, targets land where
the ships are, pasted hulls sit on water."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.bench.sen2ships import Port
from pipeline.bench.ship_samples import (
    PATCH,
    Sampler,
    Stamp,
    Target,
    _axis,
    dihedral,
    paste,
    render_hulls,
    render_targets,
)
from pipeline.detect.cnn import STRIDE


def _bar(rows: int, cols: int) -> tuple[np.ndarray, Target]:
    """A diagonal hull on a small grid, and its target."""
    mask = np.zeros((rows, cols), bool)
    for i in range(8):
        mask[2 + i, 3 + i // 2] = True
    rr, cc = np.nonzero(mask)
    return mask, Target(float(rr.mean()), float(cc.mean()), 8.0, 1.0, _axis(rr, cc))


@pytest.mark.parametrize("k", range(8))
def test_dihedral_moves_targets_with_the_pixels(k: int) -> None:
    mask, target = _bar(14, 10)
    moved, [t] = dihedral(mask, [target], k)
    rr, cc = np.nonzero(moved)
    assert t.row == pytest.approx(rr.mean())
    assert t.col == pytest.approx(cc.mean())
    diff = abs(t.heading_deg - _axis(rr, cc)) % 180
    assert min(diff, 180 - diff) < 1e-6


def test_render_targets_puts_a_peak_and_the_regressions_at_the_centre_cell() -> None:
    t = Target(row=20.0, col=41.0, length_px=12.0, width_px=3.0, heading_deg=90.0)
    heat, reg, mask = render_targets([t], PATCH)
    i, j = int((20.5) / STRIDE), int((41.5) / STRIDE)
    assert heat[i, j] == 1.0
    assert mask.sum() == 1
    assert mask[i, j]
    assert reg[0, i, j] == pytest.approx(20.5 / STRIDE - (i + 0.5))
    assert reg[1, i, j] == pytest.approx(41.5 / STRIDE - (j + 0.5))
    assert math.exp(reg[2, i, j]) == pytest.approx(12.0)
    assert reg[4, i, j] == pytest.approx(-1.0)  # cos 180°


def test_render_hulls_covers_the_hull_and_follows_its_heading() -> None:
    east_west = Target(row=20.0, col=41.0, length_px=12.0, width_px=2.0, heading_deg=90.0)
    hulls = render_hulls([east_west], PATCH)
    assert hulls.shape == (PATCH // STRIDE, PATCH // STRIDE)
    rows, cols = np.nonzero(hulls)
    # Cell centres at 2i + 0.5 pixels: columns 35..47 and rows 19..21 are on the hull.
    assert set(cols.tolist()) == set(range(17, 24))
    assert set(rows.tolist()) == {9, 10}
    north_south = Target(row=41.0, col=20.0, length_px=12.0, width_px=2.0, heading_deg=0.0)
    np.testing.assert_array_equal(render_hulls([north_south], PATCH), hulls.T)


def _port() -> Port:
    """Water east of a quay at column 40, one labelled hull on the water."""
    refl = np.zeros((5, 120, 120), np.float32)
    refl[:] = np.array([0.05, 0.05, 0.03, 0.02, 0.01], np.float32)[:, None, None]
    refl[:, :, :40] = np.array([0.2, 0.2, 0.2, 0.25, 0.3], np.float32)[:, None, None]
    ship = np.zeros((120, 120), bool)
    ship[60:63, 70:82] = True
    refl[:, ship] = np.array([0.12, 0.13, 0.12, 0.16, 0.12], np.float32)[:, None]
    boxes = np.array([[70.0, 60.0, 12.0, 3.0]])
    return Port("test", refl, np.ones((120, 120), bool), 10.0, boxes, ship)


def test_paste_along_the_quay_lies_flush_and_mostly_on_water() -> None:
    port = _port()
    stamp = Stamp(
        port.reflectance[:, 60:63, 70:82].copy(),
        np.ones((3, 12), bool),
        Target(1.0, 5.5, 12.0, 3.0, 90.0),
    )
    refl = port.reflectance[:, :96, :96].copy()
    refl[:, 60:63, 70:82] = refl[:, 10:13, 70:82]  # wipe the label from this copy
    water = refl[1] > refl[3]
    targets: list[Target] = []
    assert paste(refl, water, targets, stamp, np.random.default_rng(3), quay=True)
    (t,) = targets
    assert 40 <= t.col - 1 <= 45  # the hull's near side within ~3 px of the quay
    assert abs(t.heading_deg % 180) < 1e-6  # turned to lie along the north-south quay
    assert paste(refl, water, targets, stamp, np.random.default_rng(4), quay=False)
    assert targets[1].col > 46


def test_sampler_is_reproducible_and_patches_hold_their_targets() -> None:
    port = _port()
    a = Sampler([port], seed=5).batch(4)
    b = Sampler([port], seed=5).batch(4)
    np.testing.assert_array_equal(a.features, b.features)
    assert a.features.shape == (4, 7, PATCH, PATCH)
    assert a.heat.shape == (4, PATCH // STRIDE, PATCH // STRIDE)
    assert a.mask.sum() >= 1

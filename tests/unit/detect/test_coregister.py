"""Co-registration: sub-pixel shifts found, applied to every band, and refused when unsure."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage

from pipeline.detect.coregister import (
    MAX_DISAGREEMENT_PX,
    Shift,
    apply_shift,
    measure_shift,
    register_stack,
)
from pipeline.simulate.hostile import misregister
from pipeline.simulate.noise import fractal_field

F32 = NDArray[np.float32]


def _scene(seed: int = 3, shape: tuple[int, int] = (160, 200)) -> F32:
    """A textured 'coast': land (rough, bright) and water (dark), five bands alike."""
    rng = np.random.default_rng(seed)
    texture = fractal_field(shape, rng, beta=2.4)
    rows = np.arange(shape[0])[:, None]
    land = (rows > 60 + 20 * np.sin(np.arange(shape[1]) / 17.0)[None, :]).astype(np.float32)
    nir = 0.02 + land * (0.25 + 0.04 * texture)
    cube = np.stack([nir * k for k in (0.5, 0.6, 0.7, 1.0, 0.8)]).astype(np.float32)
    # The instrument's PSF (as the simulator's): edges are band-limited, as in any image.
    blurred: F32 = ndimage.gaussian_filter(cube, sigma=(0, 0.5, 0.5)).astype(np.float32)
    return blurred


def _moved(cube: F32, dx: float, dy: float, seed: int = 9) -> F32:
    """``cube`` with its content moved dx east and dy north, plus sensor-like noise."""
    out = misregister(cube, (dx, dy))
    noise = np.random.default_rng(seed).normal(0, 0.002, out.shape).astype(np.float32)
    return (out + noise).astype(np.float32)


@pytest.mark.parametrize(("dx", "dy"), [(0.5, 0.0), (-0.3, 0.7), (1.6, -1.2)])
def test_the_shift_is_found_to_a_twentieth_of_a_pixel(dx: float, dy: float) -> None:
    fixed = _scene()
    moving = _moved(fixed, dx, dy)
    usable = np.ones(fixed.shape[1:], bool)
    shift = measure_shift(moving[3], fixed[3], usable)
    assert shift.reliable, shift.reason
    # Content moved east by dx is put back by moving it west: cols = -dx; north dy: rows = +dy.
    assert shift.cols == pytest.approx(-dx, abs=0.05)
    assert shift.rows == pytest.approx(dy, abs=0.05)


def test_applying_the_shift_removes_the_edges_from_the_difference() -> None:
    fixed = _scene()
    moving = _moved(fixed, 0.5, 0.5)
    valid = np.ones(fixed.shape[1:], bool)
    before = np.abs(moving[3] - fixed[3])[5:-5, 5:-5]
    shift = measure_shift(moving[3], fixed[3], valid)
    back, kept = apply_shift(moving, valid, shift)
    after = np.abs(back[3] - fixed[3])[kept]
    assert before.max() > 0.05  # the coast lights up half a pixel off
    assert np.percentile(after, 99.9) < 0.012  # noise only (sigma 0.002 x sqrt 2)
    assert not kept[0].any()  # the edge the shift brings in from beyond the chip is dropped
    assert kept.mean() > 0.9
    for band in range(5):  # every band moves alike
        assert np.percentile(np.abs(back[band] - fixed[band])[kept], 99) < 0.01


def test_a_chip_mostly_under_cloud_is_not_registered() -> None:
    fixed = _scene()
    usable = np.zeros(fixed.shape[1:], bool)
    usable[:30] = True
    shift = measure_shift(_moved(fixed, 0.4, 0.0)[3], fixed[3], usable)
    assert not shift.reliable
    assert shift.reason is not None
    assert "clear" in shift.reason


def test_halves_that_disagree_make_the_shift_unreliable() -> None:
    """The left half moved one way, the right half another: no single shift fits."""
    fixed = _scene()
    left, right = _moved(fixed, 1.0, 0.0), _moved(fixed, -1.0, 0.0)
    moving = np.concatenate([left[:, :, :100], right[:, :, 100:]], axis=2)
    shift = measure_shift(moving[3], fixed[3], np.ones(fixed.shape[1:], bool))
    assert not shift.reliable
    assert shift.reason is not None
    assert "disagree" in shift.reason
    assert MAX_DISAGREEMENT_PX < 2.0


def test_a_stack_is_registered_to_its_mean_frame() -> None:
    """Three copies at +0.6, 0 and -0.6 px east: all land where the middle one is."""
    truth = _scene()
    cubes = [_moved(truth, dx, 0.0, seed=i) for i, dx in enumerate((0.6, 0.0, -0.6))]
    valid = [np.ones(truth.shape[1:], bool)] * 3
    moved, kept, shifts = register_stack(cubes, valid)
    assert [s.reliable for s in shifts] == [True, True, True]
    assert [round(s.cols, 1) for s in shifts] == [-0.6, 0.0, 0.6]
    for cube, mask in zip(moved, kept, strict=True):
        assert np.percentile(np.abs(cube[3] - truth[3])[mask], 99.9) < 0.012


def test_no_shift_changes_nothing() -> None:
    cube, valid = _scene(), np.ones((160, 200), bool)
    same, kept = apply_shift(cube, valid, Shift(0.0, 0.0, True))
    assert same is cube
    assert kept is valid


def test_what_changed_does_not_pull_the_shift() -> None:
    """A new pier and a frozen bay in the scene alone: the shift is the unchanged ground's."""
    fixed = _scene()
    moving = _moved(fixed, 0.6, -0.4)
    moving[:, 30:62, 0:200] = 0.3  # ice over the water along the shore, bright
    moving[:, 55:75, 150:160] = 0.25  # a pier built out from the shore
    shift = measure_shift(moving[3], fixed[3], np.ones(fixed.shape[1:], bool))
    assert shift.measured
    # Unweighted least squares lands 0.04 px off here; the biweight within 0.01.
    assert shift.cols == pytest.approx(-0.6, abs=0.02)
    assert shift.rows == pytest.approx(-0.4, abs=0.02)


def test_open_water_alone_gives_no_shift() -> None:
    """Nothing but water (a chip of the anchorage): nothing stays put to align on."""
    fixed = np.full((5, 160, 200), 0.02, np.float32) + _scene()[:, :, :] * 0.01
    moving = _moved(fixed, 0.5, 0.0)
    shift = measure_shift(moving[3], fixed[3], np.ones(fixed.shape[1:], bool))
    assert not shift.measured
    assert shift.reason == "too little clear land to align on"

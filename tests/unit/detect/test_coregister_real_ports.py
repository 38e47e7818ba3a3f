"""Co-registration on real Sentinel-2 quays: the sen2ships port crops, shifted by known
sub-pixel amounts as a misregistered scene would be. Skips without ``../shared``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.bench.sen2ships import Port, port_folders, read_port
from pipeline.detect.coregister import apply_shift, measure_shift
from pipeline.detect.ships import detect_ships_in_arrays
from pipeline.simulate.hostile import misregister

SHIFT = (0.5, -0.3)  # east, north: half a pixel, as Sentinel-2 scenes of a tile disagree


@pytest.fixture(scope="module")
def ports(shared_datasets: Path) -> list[Port]:
    return [read_port(folder) for folder in port_folders(shared_datasets / "sen2ships-dev")]


def _shifted(port: Port) -> np.ndarray:
    moved = misregister(np.nan_to_num(port.reflectance), SHIFT)
    noise = np.random.default_rng(3).normal(0, 0.002, moved.shape).astype(np.float32)
    return (moved + noise).astype(np.float32)


@pytest.mark.slow  # ~4.5 s: six real ports registered (make test runs it)
def test_the_shift_of_a_real_port_is_found(ports: list[Port]) -> None:
    for port in ports:
        shift = measure_shift(_shifted(port)[3], port.reflectance[3], port.valid)
        assert shift.measured, (port.name, shift.reason)
        assert shift.cols == pytest.approx(-SHIFT[0], abs=0.08), port.name
        assert shift.rows == pytest.approx(SHIFT[1], abs=0.08), port.name


@pytest.mark.slow  # ~5 s: six real ports through the ship detector twice (make test runs it)
def test_half_a_pixel_draws_ships_along_real_quays_and_registration_removes_them(
    ports: list[Port],
) -> None:
    """The scene is its own reference, shifted: every detection is a false one."""
    before = after = 0
    for port in ports:
        scene = _shifted(port)
        reference = np.nan_to_num(port.reflectance)
        size = port.pixel_size_m
        before += len(detect_ships_in_arrays(scene, reference=reference, pixel_size_m=size))
        shift = measure_shift(scene[3], reference[3], port.valid)
        moved, valid = apply_shift(scene, port.valid, shift)
        registered = np.nan_to_num(moved)
        after += len(
            detect_ships_in_arrays(registered, valid=valid, reference=reference, pixel_size_m=size)
        )
    assert before >= 10  # half a pixel is a row of false hulls at real quays
    assert after <= 1

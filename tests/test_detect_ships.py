"""Ship detector on tiny arrays with known answers, and a regression test on a real port."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from numpy.typing import NDArray

from pipeline.detect.classifier import Mlp, fit_mlp
from pipeline.detect.ships import (
    Detection,
    detect_ships,
    detect_ships_in_arrays,
    load_model,
    pixel_to_lonlat,
)
from pipeline.types import Chip

WATER = (0.04, 0.05, 0.03, 0.02, 0.01)
HULL = (0.12, 0.13, 0.12, 0.16, 0.12)
CONCRETE = (0.18, 0.20, 0.22, 0.25, 0.30)
REPO = Path(__file__).resolve().parents[1]
SEN2SHIPS = REPO.parent / "shared" / "datasets" / "sen2ships-dev"


def scene(rows: int = 80, cols: int = 80, seed: int = 0) -> NDArray[np.float32]:
    """Calm water with a little sensor noise, ``(5, rows, cols)``."""
    rng = np.random.default_rng(seed)
    base = np.array(WATER, np.float32)[:, None, None]
    noise = rng.normal(0, 0.002, (5, rows, cols)).astype(np.float32)
    out: NDArray[np.float32] = np.clip(base + noise, 0, 1).astype(np.float32)
    return out


def paint(refl: NDArray[np.float32], spectrum: tuple[float, ...], rs: slice, cs: slice) -> None:
    refl[:, rs, cs] = np.array(spectrum, np.float32)[:, None, None]


def test_one_hull_on_water_is_one_ship_of_120_m() -> None:
    refl = scene()
    paint(refl, HULL, slice(40, 43), slice(30, 42))  # 12 px x 3 px at 10 m
    dets = detect_ships_in_arrays(refl, pixel_size_m=10.0)
    assert len(dets) == 1
    d = dets[0]
    assert abs(d.length_m - 120.0) <= 20.0
    assert abs(d.width_m - 30.0) <= 15.0
    assert abs(d.row - 41.0) < 1
    assert abs(d.col - 35.5) < 1
    assert abs(d.heading_deg - 90.0) < 5  # east-west hull
    assert 0.0 < d.score <= 1.0
    assert len(d.outline) == 4


def test_hull_length_scales_with_pixel_size() -> None:
    refl = scene()
    paint(refl, HULL, slice(40, 43), slice(30, 42))
    (d,) = detect_ships_in_arrays(refl, pixel_size_m=8.0, use_shore=False)
    assert abs(d.length_m - 96.0) <= 16.0


def test_straight_quay_edge_is_no_ship() -> None:
    refl = scene()
    paint(refl, CONCRETE, slice(0, 80), slice(0, 30))  # land west of a straight quay
    assert detect_ships_in_arrays(refl, pixel_size_m=10.0) == []


def test_two_hulls_side_by_side_are_two_ships() -> None:
    refl = scene()
    paint(refl, HULL, slice(30, 33), slice(30, 42))
    paint(refl, HULL, slice(35, 38), slice(30, 42))  # parallel, 2 px of water between
    dets = detect_ships_in_arrays(refl, pixel_size_m=10.0)
    assert len(dets) == 2
    assert sorted(round(d.row) for d in dets) == [31, 36]


def test_two_hulls_one_pixel_apart_are_two_ships() -> None:
    refl = scene()
    paint(refl, HULL, slice(30, 33), slice(30, 42))
    paint(refl, HULL, slice(34, 37), slice(30, 42))
    assert len(detect_ships_in_arrays(refl, pixel_size_m=10.0)) == 2


def test_small_boat_is_not_a_ship() -> None:
    refl = scene()
    paint(refl, HULL, slice(40, 42), slice(40, 43))  # 30 m craft
    assert detect_ships_in_arrays(refl, pixel_size_m=10.0) == []


def test_hull_under_clear_mask_cloud_is_dropped() -> None:
    refl = scene()
    paint(refl, HULL, slice(40, 43), slice(30, 42))
    clear = np.ones((80, 80), bool)
    clear[20:60, 20:60] = False
    assert detect_ships_in_arrays(refl, pixel_size_m=10.0, clear=clear) == []


def _chip(refl: NDArray[np.float32], scl: NDArray[np.uint8]) -> Chip:
    transform = Affine(10.0, 0.0, 600_000.0, 0.0, -10.0, 4_700_000.0)
    return Chip("s", "a", refl, scl, np.ones(scl.shape, bool), transform, 32652)


def test_chip_hull_under_scl_cloud_is_dropped_but_a_bright_deck_is_kept() -> None:
    refl = scene()
    paint(refl, HULL, slice(40, 43), slice(30, 42))
    scl = np.full((80, 80), 6, np.uint8)
    scl[41, 33:38] = 9  # SCL calls part of the deck cloud: a small blob, kept
    dets = detect_ships(_chip(refl, scl))
    assert len(dets) == 1
    assert dets[0].lon is not None
    assert dets[0].lat is not None
    assert 130.0 < dets[0].lon < 132.0
    assert 42.0 < dets[0].lat < 43.0
    scl[20:60, 20:60] = 8  # a real cloud over the hull
    assert detect_ships(_chip(refl, scl)) == []


def test_reference_mode_finds_a_hull_moored_at_the_quay() -> None:
    reference = scene(seed=1)
    paint(reference, CONCRETE, slice(0, 80), slice(0, 30))
    refl = reference.copy()
    paint(refl, HULL, slice(30, 42), slice(30, 33))  # flush against the quay
    dets = detect_ships_in_arrays(refl, reference=reference, pixel_size_m=10.0)
    assert len(dets) == 1
    assert abs(dets[0].length_m - 120.0) <= 20.0
    assert detect_ships_in_arrays(reference, reference=reference, pixel_size_m=10.0) == []


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="reflectance must be"):
        detect_ships_in_arrays(np.zeros((4, 5, 5), np.float32))
    with pytest.raises(ValueError, match="valid mask"):
        detect_ships_in_arrays(np.zeros((5, 5, 5), np.float32), valid=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="score"):
        Detection(0, 0, (0, 0, 1, 1), (), 1.0, 1.0, 0.0, 1.5)


def test_pixel_to_lonlat_matches_transform() -> None:
    transform = Affine(10.0, 0.0, 600_000.0, 0.0, -10.0, 4_700_000.0)
    lon, lat = pixel_to_lonlat(0.0, 0.0, transform, 32652)
    lon2, lat2 = pixel_to_lonlat(0.0, 100.0, transform, 32652)
    assert lon2 > lon
    assert abs(lat2 - lat) < 1e-3


def test_committed_model_is_small_and_has_provenance() -> None:
    path = REPO / "pipeline" / "detect" / "ship_model.json"
    assert path.stat().st_size < 1_000_000
    model = load_model(path)
    prov = model.meta["provenance"]
    assert {"data", "date", "command", "lopo_at_chosen_threshold"} <= set(prov)
    assert 0.0 < float(model.meta["shore_threshold"]) < 1.0


def test_mlp_learns_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1]) > 0  # XOR-like: needs the hidden layer
    model = fit_mlp(x, y, feature_names=("a", "b"), n_hidden=6, l2=1e-4, max_iter=300)
    accuracy = float(((model.predict(x) > 0.5) == y).mean())
    assert accuracy > 0.9
    model.save(tmp_path / "m.json")
    again = Mlp.load(tmp_path / "m.json")
    assert np.allclose(again.predict(x), model.predict(x), atol=1e-4)


#: F1 of the committed detector on Casablanca measured at 0.537 (in-sample: the model saw
#: this port in training; its leave-one-port-out F1 is in ship_model.json), minus 0.05.
CASABLANCA_MIN_F1 = 0.48


@pytest.mark.shared
@pytest.mark.slow
def test_regression_on_casablanca() -> None:
    if not (SEN2SHIPS / "casablanca").is_dir():
        pytest.skip(f"sen2ships-dev not found at {SEN2SHIPS} (needs ../shared/datasets)")
    from pipeline.bench.matching import match_detections
    from pipeline.bench.sen2ships import detect_port, read_port

    port = read_port(SEN2SHIPS / "casablanca")
    score = match_detections(detect_port(port), port.boxes)
    assert score.f1 >= CASABLANCA_MIN_F1, score

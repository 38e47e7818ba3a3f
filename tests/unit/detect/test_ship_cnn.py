"""The learned single-date ship detector: its weights file, its figure on a real port,
hulls pasted on water and flush against a quay, and an empty chip of water and quay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from pipeline.bench.matching import match_detections
from pipeline.bench.sen2ships import Port, read_port
from pipeline.bench.ship_samples import Target, paste, port_stamps
from pipeline.detect.cnn import DEFAULT_CNN_PATH, LAYERS, ShipCnn, load_cnn
from pipeline.detect.detection import Detection, detections_from_maps
from pipeline.detect.ships import add_berth_ships, detect_ships, detect_ships_learned
from pipeline.types import Chip

#: The port whose figure the committed weights must reproduce (small: a fast test).
CHECK_PORT = "honolulu"
#: Side of the water-and-quay test chip, pixels.
CHIP = 96


def test_weights_are_small_and_carry_a_model_card() -> None:
    assert DEFAULT_CNN_PATH.stat().st_size < 1_000_000
    card = DEFAULT_CNN_PATH.with_suffix(".md").read_text()
    meta = load_cnn().meta
    assert meta["command"] in card
    assert f"{meta['lopo']['overall']['f1']:.3f}" in card


def test_weights_missing_a_layer_are_rejected(tmp_path: Path) -> None:
    cnn = load_cnn()
    broken = {k: v for k, v in cnn.weights.items() if not k.startswith(LAYERS[2].name)}
    with pytest.raises(ValueError, match=LAYERS[2].name):
        ShipCnn(broken, cnn.meta)


@pytest.mark.shared
def test_committed_weights_reproduce_the_model_card_on_one_port(shared_datasets: Path) -> None:
    port = read_port(shared_datasets / "sen2ships-dev" / CHECK_PORT)
    expected = load_cnn().meta["in_sample"]["ports"][CHECK_PORT]["f1"]
    dets = detect_ships_learned(port.reflectance, valid=port.valid, pixel_size_m=port.pixel_size_m)
    assert match_detections(dets, port.boxes).f1 >= expected - 0.05


def _empty_chip(port: Port) -> tuple[np.ndarray, np.ndarray]:
    """The first ``CHIP`` square (scanning rows, then columns, in steps of 16 px) that is all
    valid, 35–65 % water, and at least 10 px from every labelled ship."""
    water = (port.reflectance[1] > port.reflectance[3]) & port.valid
    rows, cols = port.valid.shape
    x, y, w, h = (port.boxes[:, i] for i in range(4))
    for r0 in range(0, rows - CHIP, 16):
        for c0 in range(0, cols - CHIP, 16):
            if not port.valid[r0 : r0 + CHIP, c0 : c0 + CHIP].all():
                continue
            share = water[r0 : r0 + CHIP, c0 : c0 + CHIP].mean()
            near = (
                (x + w > c0 - 10) & (x < c0 + CHIP + 10) & (y + h > r0 - 10) & (y < r0 + CHIP + 10)
            )
            if 0.35 <= share <= 0.65 and not near.any():
                refl = port.reflectance[:, r0 : r0 + CHIP, c0 : c0 + CHIP].copy()
                return refl, water[r0 : r0 + CHIP, c0 : c0 + CHIP].copy()
    raise AssertionError(f"{port.name} has no empty {CHIP} px chip of water and quay")


def _found(dets: list[Detection], t: Target) -> bool:
    return any(abs(d.row - t.row) <= 4 and abs(d.col - t.col) <= 4 for d in dets)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["casablanca", "genoa"])
def test_empty_water_and_quay_has_no_ship(shared_datasets: Path, name: str) -> None:
    port = read_port(shared_datasets / "sen2ships-dev" / name)
    refl, _ = _empty_chip(port)
    assert detect_ships_learned(refl, pixel_size_m=port.pixel_size_m) == []


#: A known miss of the committed weights, strict so that a model that fixes it says so:
#: in Genoa's chip the hull afloat is found (0.43), the one flush against the quay scores
#: 0.28 against the threshold of 0.4. In Casablanca's both are found (0.51 at the quay,
#: 0.47 afloat).
_GENOA_QUAY_MISS = pytest.mark.xfail(
    strict=True, reason="the committed weights score the hull flush against the quay 0.28 (< 0.4)"
)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["casablanca", pytest.param("genoa", marks=_GENOA_QUAY_MISS)])
def test_hulls_pasted_on_water_and_flush_against_a_quay_are_found(
    shared_datasets: Path, name: str
) -> None:
    port = read_port(shared_datasets / "sen2ships-dev" / name)
    refl, water = _empty_chip(port)
    donor = read_port(shared_datasets / "sen2ships-dev" / "busan")
    # A slender 10-16 px hull (100-160 m at 10 m, Rajin's traders).
    stamp = next(
        s
        for s in port_stamps(donor)
        if 10 <= s.target.length_px <= 16 and s.target.width_px < 0.5 * s.target.length_px
    )
    targets: list[Target] = []
    for quay in (True, False):
        assert any(
            paste(refl, water, targets, stamp, np.random.default_rng(seed), quay=quay)
            for seed in range(10)
        ), f"no site to paste a hull (quay={quay}) in {name}'s empty chip"
    dets = detect_ships_learned(refl, pixel_size_m=port.pixel_size_m)
    quay_hull, afloat = targets
    assert _found(dets, quay_hull), f"hull flush against the quay at {quay_hull} missed: {dets}"
    assert _found(dets, afloat), f"hull on open water at {afloat} missed: {dets}"


def _maps(peak: tuple[int, int], *, heading_deg: float, length_px: float) -> np.ndarray:
    maps = np.zeros((7, 20, 30), np.float32)
    i, j = peak
    maps[0, i, j] = 0.9
    maps[0, i, j + 1] = 0.5  # a shoulder, not a second peak
    maps[1, i, j], maps[2, i, j] = 0.25, -0.25
    maps[3, i, j], maps[4, i, j] = np.log(length_px), np.log(3.0)
    two = np.radians(2 * heading_deg)
    maps[5, i, j], maps[6, i, j] = np.cos(two), np.sin(two)
    return maps


def test_one_heat_peak_decodes_to_one_measured_ship() -> None:
    maps = _maps((5, 10), heading_deg=90.0, length_px=12.0)
    (d,) = detections_from_maps(
        maps, threshold=0.4, peak_cells=3, valid=None, pixel_size_m=10.0, shape=(40, 60)
    )
    assert d.row == pytest.approx(2 * (5 + 0.5 + 0.25) - 0.5)
    assert d.col == pytest.approx(2 * (10 + 0.5 - 0.25) - 0.5)
    assert d.length_m == pytest.approx(120.0, rel=1e-5)
    assert d.width_m == pytest.approx(30.0, rel=1e-5)
    assert d.heading_deg == pytest.approx(90.0)
    x0, y0, x1, y1 = d.bbox
    assert x1 - x0 == pytest.approx(13, abs=1)  # an east-west hull: wide, not tall
    assert y1 - y0 == pytest.approx(4, abs=1)
    assert d.source == "learned"
    assert (
        detections_from_maps(
            maps, threshold=0.95, peak_cells=3, valid=None, pixel_size_m=10.0, shape=(40, 60)
        )
        == []
    )


def _det(row: float, col: float, source: str = "reference") -> Detection:
    return Detection(row, col, (0, 0, 1, 1), (), 100.0, 20.0, 0.0, 0.5, source)


def test_learned_ships_are_added_only_on_berths_and_only_when_new() -> None:
    berths = np.zeros((50, 50), bool)
    berths[10:20, 10:40] = True
    found = [_det(15, 12)]
    learned = [
        _det(15, 14, "learned"),  # 20 m from the reference-mode hull: the same ship
        _det(15, 35, "learned"),  # a hull reference mode missed on the berth
        _det(40, 40, "learned"),  # off the berths: reference mode's business
    ]
    out = add_berth_ships(found, learned, berths, pixel_size_m=10.0)
    assert sorted((d.row, d.col, d.source) for d in out) == [
        (15, 12, "reference"),
        (15, 35, "learned"),
    ]


@pytest.mark.shared
def test_a_chip_without_reference_is_counted_by_the_learned_detector_when_asked(
    shared_datasets: Path,
) -> None:
    port = read_port(shared_datasets / "sen2ships-dev" / CHECK_PORT)
    rows, cols = port.valid.shape
    chip = Chip(
        "s",
        "a",
        port.reflectance,
        np.full((rows, cols), 6, np.uint8),  # SCL: water, all clear
        port.valid,
        Affine(10.0, 0.0, 600_000.0, 0.0, -10.0, 4_700_000.0),
        32652,
    )
    learned = detect_ships(chip, pixel_size_m=port.pixel_size_m, learned=True)
    direct = detect_ships_learned(
        port.reflectance, valid=port.valid, pixel_size_m=port.pixel_size_m
    )
    assert [(d.row, d.col) for d in learned] == [(d.row, d.col) for d in direct]
    assert all(d.source == "learned" and d.lon is not None for d in learned)
    older = detect_ships(chip, pixel_size_m=port.pixel_size_m, learned=False)
    assert all(d.source != "learned" for d in older)

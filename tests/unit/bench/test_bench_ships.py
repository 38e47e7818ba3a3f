"""The sen2ships bench: reading, matching and the ``bench ships --json`` document."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from numpy.typing import NDArray
from pyproj import CRS
from rasterio.transform import from_origin

from pipeline.bench.matching import PortScore, match_detections, matched_pairs, overall_score
from pipeline.bench.sen2ships import (
    BAND_FILES,
    BenchDatasetError,
    Port,
    ground_pixel_size_m,
    print_ship_bench,
    read_port,
    run_ship_bench,
)
from pipeline.bench.ship_eval import evaluate_maps, maps_detections
from pipeline.detect.detection import Detection

WATER = (0.04, 0.05, 0.03, 0.02, 0.01)
HULL = (0.12, 0.13, 0.12, 0.16, 0.12)


def det(row: float, col: float) -> Detection:
    return Detection(row, col, (0, 0, 1, 1), (), 100.0, 20.0, 0.0, 0.5)


def test_matching_uses_grown_bbox_and_is_one_to_one() -> None:
    boxes = np.array([[10.0, 10.0, 4.0, 2.0], [30.0, 30.0, 2.0, 2.0]])
    # Inside box 0 grown by 2 px (col 8..16, row 8..14); two detections in box 0.
    score = match_detections([det(13.9, 15.9), det(11, 11), det(50, 50)], boxes)
    assert score == PortScore(tp=1, fp=2, fn=1)
    assert match_detections([det(7.9, 12)], boxes).tp == 0


def test_matching_is_maximal_not_greedy() -> None:
    # Detection 0 fits both labels, detection 1 only label 0: both must match.
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [8.0, 0.0, 10.0, 10.0]])
    cents = np.array([[5.0, 9.0], [5.0, 2.0]])
    assert len(matched_pairs(cents, boxes)) == 2


def test_scores_and_overall() -> None:
    a, b = PortScore(3, 1, 2), PortScore(1, 1, 0)
    total = overall_score([a, b])
    assert (total.tp, total.fp, total.fn) == (4, 2, 2)
    assert total.precision == pytest.approx(4 / 6)
    assert total.f1 == pytest.approx(2 * (4 / 6) * (4 / 6) / (8 / 6))
    assert PortScore(0, 0, 0).as_dict()["f1"] == 0


def test_ground_pixel_size_of_web_mercator_shrinks_with_latitude() -> None:
    crs = CRS.from_epsg(3857)
    # Near 54.5° N (Gdynia), y ≈ 7.26e6 m in Web Mercator.
    size = ground_pixel_size_m(from_origin(2_060_000.0, 7_265_000.0, 10.0, 10.0), crs, (10, 10))
    assert size == pytest.approx(10.0 * np.cos(np.radians(54.5)), rel=0.02)


def write_port(folder: Path, refl: NDArray[np.float32], boxes: list[list[float]]) -> None:
    folder.mkdir(parents=True)
    rows, cols = refl.shape[1:]
    transform = from_origin(0.0, 0.0, 10.0, 10.0)  # at the equator: 10 m on the ground
    for band, name in zip(refl, BAND_FILES, strict=True):
        with rasterio.open(
            folder / name,
            "w",
            driver="GTiff",
            height=rows,
            width=cols,
            count=1,
            dtype="uint16",
            crs="EPSG:3857",
            transform=transform,
        ) as ds:
            ds.write(np.round(band * 65535).astype(np.uint16), 1)
    labels = {
        "info": {"port": folder.name, "date": "2023-01-01"},
        "images": [{"id": 1, "width": cols, "height": rows}],
        "categories": [{"id": 1, "name": "ship"}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": 1, "bbox": b, "area": b[2] * b[3]}
            for i, b in enumerate(boxes)
        ],
    }
    (folder / "labels.json").write_text(json.dumps(labels))


def synthetic_water(rows: int = 60, cols: int = 80) -> NDArray[np.float32]:
    rng = np.random.default_rng(0)
    base = np.array(WATER, np.float32)[:, None, None]
    out: NDArray[np.float32] = (base + rng.normal(0, 0.002, (5, rows, cols))).astype(np.float32)
    return np.clip(out, 0.001, 1).astype(np.float32)


def test_run_ship_bench_produces_the_design_document(tmp_path: Path) -> None:
    refl = synthetic_water()
    refl[:, 20:23, 30:42] = np.array(HULL, np.float32)[:, None, None]
    write_port(tmp_path / "alpha", refl, [[30, 20, 12, 3], [5, 50, 10, 3]])
    write_port(tmp_path / "beta", synthetic_water(), [])
    doc = run_ship_bench(tmp_path)
    assert {"ports", "overall", "detections"} <= set(doc)
    assert doc["detector"] == "legacy"
    assert doc["ms_per_megapixel"] > 0
    assert doc["scores"]["n_long"] == 0  # two labels 12 and 10 px long
    assert doc["scores"]["recall_small"] == 0.5
    assert doc["ports"]["alpha"] == {
        "tp": 1,
        "fp": 0,
        "fn": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
    }
    assert doc["ports"]["beta"]["tp"] == 0
    assert doc["ports"]["beta"]["fp"] == 0
    assert doc["overall"]["tp"] == 1
    assert doc["overall"]["fn"] == 1
    (d,) = doc["detections"]
    assert d["port"] == "alpha"
    assert set(d) == {"port", "row", "col", "bbox", "length_m", "score"}
    assert d["bbox"] == [30, 20, 12, 3]
    assert abs(d["length_m"] - 120) <= 20
    json.dumps(doc)  # plain JSON types only


def test_run_ship_bench_scores_the_learned_detector_and_refuses_others(tmp_path: Path) -> None:
    write_port(tmp_path / "beta", synthetic_water(), [])
    doc = run_ship_bench(tmp_path, detector="learned")
    assert doc["detector"] == "learned"
    assert doc["ports"]["beta"]["tp"] == 0
    with pytest.raises(BenchDatasetError, match="unknown detector"):
        run_ship_bench(tmp_path, detector="sharp-eyes")


def test_read_port_decodes_dn_and_rle(tmp_path: Path) -> None:
    refl = synthetic_water(8, 6)
    write_port(tmp_path / "p", refl, [[1, 2, 3, 1]])
    labels = json.loads((tmp_path / "p" / "labels.json").read_text())
    # Column-major RLE: 14 background pixels, then 2 ship pixels (rows 6-7 of column 1).
    labels["annotations"][0]["segmentation"] = {"counts": [14, 2, 32], "size": [8, 6]}
    (tmp_path / "p" / "labels.json").write_text(json.dumps(labels))
    port = read_port(tmp_path / "p")
    assert port.reflectance.shape == (5, 8, 6)
    assert np.allclose(port.reflectance, refl, atol=1 / 65535)
    assert port.pixel_size_m == pytest.approx(10.0, rel=0.01)  # WGS84 ellipsoid at 0°
    assert port.boxes.tolist() == [[1.0, 2.0, 3.0, 1.0]]
    assert port.ship_mask.sum() == 2
    assert port.ship_mask[6, 1]
    assert port.ship_mask[7, 1]
    assert port.date == "2023-01-01"


def test_bad_dataset_dirs_raise(tmp_path: Path) -> None:
    with pytest.raises(BenchDatasetError, match="not a folder"):
        run_ship_bench(tmp_path / "missing")
    with pytest.raises(BenchDatasetError, match="no port folder"):
        run_ship_bench(tmp_path)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "labels.json").write_text("{}")
    with pytest.raises(BenchDatasetError, match="lacks"):
        run_ship_bench(tmp_path)


def test_print_ship_bench_prints_every_port_and_overall(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refl = synthetic_water()
    refl[:, 20:23, 30:42] = np.array(HULL, np.float32)[:, None, None]
    write_port(tmp_path / "alpha", refl, [[30, 20, 12, 3]])
    print_ship_bench(run_ship_bench(tmp_path))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["port", "tp", "fp", "fn", "precision", "recall", "f1"]
    assert lines[1].split() == ["alpha", "1", "0", "0", "1.000", "1.000", "1.000"]
    assert lines[2].split()[0] == "overall"


def test_speed_windows_cover_big_and_small_crops() -> None:
    from pipeline.bench.speed import CHIP_PX, windows

    assert len(windows((1200, 900))) == 3 * 2  # rows 0/300/600, cols 0/300
    (small,) = windows((300, 400))
    assert small == (slice(0, CHIP_PX), slice(0, CHIP_PX))


def test_sim_reference_is_a_low_percentile_of_clear_pixels() -> None:
    from affine import Affine

    from pipeline.detect.analyse import clear_pixels
    from pipeline.detect.reference import build_reference
    from pipeline.types import Chip

    chips = []
    for i in range(10):
        refl = np.full((5, 20, 20), 0.01 * (i + 1), np.float32)
        scl = np.full((20, 20), 6, np.uint8)
        if i == 0:
            scl[:] = 9  # the darkest scene is all cloud (4 ha, not a deck): it must not count
        valid = np.ones((20, 20), bool)
        chips.append(Chip("s", "a", refl, scl, valid, Affine(10, 0, 0, 0, -10, 0), 32652))
    ref = build_reference(chips, [clear_pixels(c) for c in chips], percentile=0.0)
    assert ref.low.shape == (5, 20, 20)
    assert np.allclose(ref.low, 0.02)


def test_learned_outputs_on_the_working_grid_are_scored_in_the_ports_pixels() -> None:
    # A 6 m port is read on a 10 m working grid: 100 px become 60, outputs 30 cells a side.
    port = Port(
        "fine",
        np.zeros((5, 100, 100), np.float32),
        np.ones((100, 100), bool),
        6.0,
        np.array([[30.0, 30.0, 9.0, 9.0]]),
        np.zeros((100, 100), bool),
    )
    maps = np.zeros((7, 30, 30), np.float32)
    maps[0, 10, 10] = 0.9
    maps[3, 10, 10] = np.log(12.0)  # 12 working pixels long: 120 m
    maps[4, 10, 10] = np.log(3.0)
    maps[5, 10, 10] = 1.0
    (d,) = maps_detections([port], {"fine": maps}, threshold=0.5, peak_cells=3)["fine"]
    # Cell 10's centre is working pixel 20.5, the edge 21 working px = 21 / 0.6 port px in.
    assert d.row == pytest.approx(21 / 0.6 - 0.5)
    assert d.col == pytest.approx(21 / 0.6 - 0.5)
    assert d.length_m == pytest.approx(120.0)
    assert evaluate_maps([port], {"fine": maps}, threshold=0.5, peak_cells=3).overall.tp == 1

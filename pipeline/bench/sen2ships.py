"""Read a folder laid out like ``sen2ships-dev``, run the ship detector, score it.

Layout, one sub-folder per port: ``B02.tif B03.tif B04.tif B08.tif B11.tif`` (uint16,
DN = reflectance × 65535, all on one grid) and ``labels.json`` (COCO, bbox
``[x, y, w, h]`` in pixels of that grid). This is the only module of the ship bench that
touches rasterio; detection itself is :mod:`pipeline.detect`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import rasterio
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer

from pipeline.bench.matching import PortScore, match_detections, overall_score
from pipeline.detect.cnn import LEARNED_IN_PRODUCT
from pipeline.detect.cnn_scale import WORKING_PIXEL_M, resample_mask, to_working_scale
from pipeline.detect.detection import Detection
from pipeline.detect.ships import detect_ships_in_arrays, detect_ships_learned
from pipeline.errors import RasonWatchError

#: Band files in :data:`pipeline.types.REFLECTANCE_BANDS` order (blue, green, red, nir, swir16).
BAND_FILES: Final = ("B02.tif", "B03.tif", "B04.tif", "B08.tif", "B11.tif")
#: The "Raw" 16-bit export of EO Browser stores reflectance × 65535.
DN_PER_REFLECTANCE: Final = 65535.0
LABELS_FILE: Final = "labels.json"
#: Detectors ``bench ships`` can score: the learned CNN (default) and the older one.
DETECTORS: Final = ("learned", "legacy")
#: The one the flows use (:data:`pipeline.detect.cnn.LEARNED_IN_PRODUCT`).
DEFAULT_DETECTOR: Final = "learned" if LEARNED_IN_PRODUCT else "legacy"
#: Side of the chip whose detection time ``bench ships`` reports, and its repeats.
TIMING_CHIP_PX: Final = 600
TIMING_REPEATS: Final = 5


class BenchDatasetError(RasonWatchError, ValueError):
    """A bench folder is missing, empty, or a port in it is malformed."""


@dataclass(frozen=True, eq=False)
class Port:
    """One labelled port crop, ready for the detector."""

    name: str
    """Folder name (``busan``)."""
    reflectance: NDArray[np.float32]
    """Surface reflectance, ``(5, rows, cols)``: blue, green, red, nir, swir16."""
    valid: NDArray[np.bool_]
    """True where every band has data (DN 0 in all bands marks the export's nodata)."""
    pixel_size_m: float
    """Ground size of one pixel in metres at the crop centre (Web Mercator shrinks with
    latitude: a 10 m EPSG:3857 pixel is 5.8 m on the ground at Gdynia)."""
    boxes: NDArray[np.float64]
    """Labelled ships, ``(n, 4)`` as ``[x, y, w, h]`` in pixels."""
    ship_mask: NDArray[np.bool_]
    """Union of the labels' segmentation masks (empty where the file has none)."""
    date: str = ""
    """Acquisition date from ``labels.json`` (``info.date``)."""


def ground_pixel_size_m(transform: Any, crs: CRS, shape: tuple[int, int]) -> float:
    """Mean ground size of one pixel at the centre of a grid, in metres.

    Measures the geodesic length of one pixel step along rows and columns, so that a
    conformal grid such as Web Mercator (whose "metres" are ``1 / cos(lat)`` too long)
    gives the true size on the ground.

    Args:
        transform: The grid's affine pixel-to-map transform.
        crs: The grid's coordinate reference system.
        shape: ``(rows, cols)`` of the grid.

    Returns:
        The geometric mean of the ground lengths of a row step and a column step.
    """
    rows, cols = shape
    r0, c0 = rows / 2.0, cols / 2.0
    points = [transform @ (c0, r0), transform @ (c0 + 1, r0), transform @ (c0, r0 + 1)]
    to_lonlat = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    lonlat = [to_lonlat.transform(x, y) for x, y in points]
    geod = Geod(ellps="WGS84")
    _, _, dx = geod.inv(lonlat[0][0], lonlat[0][1], lonlat[1][0], lonlat[1][1])
    _, _, dy = geod.inv(lonlat[0][0], lonlat[0][1], lonlat[2][0], lonlat[2][1])
    return float(np.sqrt(abs(dx) * abs(dy)))


def _decode_rle(counts: list[int], size: list[int]) -> NDArray[np.bool_]:
    """Decode an uncompressed COCO RLE (column-major run lengths) into a mask."""
    rows, cols = size
    flat = np.zeros(rows * cols, dtype=bool)
    pos = 0
    for i, run in enumerate(counts):
        if i % 2 == 1:
            flat[pos : pos + run] = True
        pos += run
    return flat.reshape((cols, rows)).T


def read_port(folder: Path) -> Port:
    """Read one port folder.

    Args:
        folder: A folder holding the five band files and ``labels.json``.

    Returns:
        The port's reflectance, validity, ground pixel size and labels.

    Raises:
        BenchDatasetError: When a file is missing or the bands disagree in shape.
    """
    missing = [f for f in (*BAND_FILES, LABELS_FILE) if not (folder / f).is_file()]
    if missing:
        raise BenchDatasetError(f"port folder {folder} lacks {', '.join(missing)}")
    stack = []
    transform = crs = None
    for name in BAND_FILES:
        with rasterio.open(folder / name) as ds:
            stack.append(ds.read(1))
            if transform is None:
                transform, crs = ds.transform, CRS.from_user_input(ds.crs)
    shapes = {a.shape for a in stack}
    if len(shapes) != 1:
        raise BenchDatasetError(f"bands of {folder} are on different grids: {sorted(shapes)}")
    if crs is None:
        raise BenchDatasetError(f"{folder / BAND_FILES[0]} has no CRS; the bench needs one")
    dn = np.stack(stack)
    reflectance = (dn.astype(np.float32) / np.float32(DN_PER_REFLECTANCE)).astype(np.float32)
    valid = np.any(dn > 0, axis=0)
    shape = (int(dn.shape[1]), int(dn.shape[2]))
    pixel_size = ground_pixel_size_m(transform, crs, shape)

    labels = json.loads((folder / LABELS_FILE).read_text())
    boxes = np.array([a["bbox"] for a in labels.get("annotations", [])], dtype=np.float64).reshape(
        -1, 4
    )
    ship_mask = np.zeros(shape, dtype=bool)
    for ann in labels.get("annotations", []):
        seg = ann.get("segmentation")
        if isinstance(seg, dict) and isinstance(seg.get("counts"), list):
            ship_mask |= _decode_rle(seg["counts"], seg["size"])
    date = str(labels.get("info", {}).get("date", ""))
    return Port(folder.name, reflectance, valid, pixel_size, boxes, ship_mask, date)


def port_folders(dataset_dir: Path) -> list[Path]:
    """Port sub-folders of a bench dataset, sorted by name.

    Raises:
        BenchDatasetError: When the folder does not exist or holds no port.
    """
    if not dataset_dir.is_dir():
        raise BenchDatasetError(f"bench dataset {dataset_dir} is not a folder")
    folders = sorted(p for p in dataset_dir.iterdir() if (p / LABELS_FILE).is_file())
    if not folders:
        raise BenchDatasetError(
            f"bench dataset {dataset_dir} holds no port folder with {LABELS_FILE}"
        )
    return folders


def working_scale_ports(ports: Sequence[Port]) -> list[Port]:
    """The ports resampled to the network's 10 m ground pixels, as the detector resamples
    a chip (:func:`to_working_scale`), with their labels and hull masks."""
    out = []
    for p in ports:
        work = to_working_scale(p.reflectance, p.valid, p.pixel_size_m)
        assert work.valid is not None
        hulls = resample_mask(p.ship_mask, work.factor)
        out.append(
            replace(
                p,
                reflectance=work.reflectance,
                valid=work.valid,
                pixel_size_m=p.pixel_size_m / work.factor,
                boxes=p.boxes * work.factor,
                ship_mask=hulls,
            )
        )
    return out


def detect_port(port: Port, *, detector: str = DEFAULT_DETECTOR) -> list[Detection]:
    """Run a single-date ship detector (one of :data:`DETECTORS`) on one port.

    Raises:
        BenchDatasetError: When the detector is unknown.
    """
    if detector == "learned":
        return detect_ships_learned(
            port.reflectance, valid=port.valid, pixel_size_m=port.pixel_size_m
        )
    if detector == "legacy":
        return detect_ships_in_arrays(
            port.reflectance, valid=port.valid, pixel_size_m=port.pixel_size_m
        )
    raise BenchDatasetError(f"unknown detector {detector!r}; use one of {', '.join(DETECTORS)}")


def chip_ms(port: Port, *, detector: str) -> float:
    """Fastest of :data:`TIMING_REPEATS` detections on a :data:`TIMING_CHIP_PX` square chip
    of Rajin's 10 m pixels (the port's pixels, tiled up to that size when smaller, read as
    10 m ones: the learned detector resamples nothing), milliseconds of wall time."""
    reps = (
        -(-TIMING_CHIP_PX // port.valid.shape[0]),
        -(-TIMING_CHIP_PX // port.valid.shape[1]),
    )
    refl = np.tile(port.reflectance, (1, *reps))[:, :TIMING_CHIP_PX, :TIMING_CHIP_PX]
    valid = np.tile(port.valid, reps)[:TIMING_CHIP_PX, :TIMING_CHIP_PX]
    chip = Port(port.name, refl, valid, WORKING_PIXEL_M, port.boxes[:0], valid & False)
    best = float("inf")
    for _ in range(TIMING_REPEATS):
        started = time.perf_counter()
        detect_port(chip, detector=detector)
        best = min(best, time.perf_counter() - started)
    return best * 1000.0


def run_ship_bench(dataset_dir: Path, *, detector: str = DEFAULT_DETECTOR) -> dict[str, Any]:
    """Detect ships in every port of a bench folder and score them against the labels.

    Args:
        dataset_dir: A folder laid out like ``../shared/datasets/sen2ships-dev``.
        detector: ``learned`` (the CNN) or ``legacy`` (the older detector); default the
            one the flows use (:data:`DEFAULT_DETECTOR`).

    Returns:
        The ``bench ships --json`` document: ``ports`` (per-port tp, fp,
        fn, precision, recall, f1), ``overall`` and ``detections``; beside them
        ``detector``, ``ms_per_megapixel`` (detection time over all ports, wall clock),
        ``ms_per_600px_chip`` and ``scores`` (recall by size, false alarms per km² of
        water, length error: :class:`pipeline.bench.ship_eval.EvalResult`). The committed
        learned model was trained on sen2ships-dev, so its scores there are in-sample;
        its leave-one-port-out figures are in its model card.

    Raises:
        BenchDatasetError: When the folder or one of its ports is malformed.
    """
    from pipeline.bench.ship_eval import evaluate

    ports: dict[str, PortScore] = {}
    detections: list[dict[str, Any]] = []
    read: list[Port] = []
    found_by_port: dict[str, list[Detection]] = {}
    seconds = 0.0
    pixels = 0
    for folder in port_folders(dataset_dir):
        port = read_port(folder)
        started = time.perf_counter()
        found = detect_port(port, detector=detector)
        seconds += time.perf_counter() - started
        pixels += port.valid.size
        read.append(port)
        found_by_port[port.name] = found
        ports[port.name] = match_detections(found, port.boxes)
        for d in found:
            x0, y0, x1, y1 = d.bbox
            detections.append(
                {
                    "port": port.name,
                    "row": round(d.row, 2),
                    "col": round(d.col, 2),
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "length_m": round(d.length_m, 1),
                    "score": round(d.score, 4),
                }
            )
    scores = evaluate(read, found_by_port).as_dict()
    del scores["ports"], scores["overall"]
    return {
        "ports": {name: s.as_dict() for name, s in ports.items()},
        "overall": overall_score(ports.values()).as_dict(),
        "detections": detections,
        "detector": detector,
        "ms_per_megapixel": round(seconds * 1000.0 / (pixels / 1e6), 1),
        "ms_per_600px_chip": round(chip_ms(read[0], detector=detector), 1),
        "scores": scores,
    }


def print_ship_bench(result: dict[str, Any]) -> None:
    """Print a :func:`run_ship_bench` document as a small table on stdout."""
    header = f"{'port':<16}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}{'f1':>7}"
    print(header)
    rows = [*result["ports"].items(), ("overall", result["overall"])]
    for name, s in rows:
        print(
            f"{name:<16}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}"
            f"{s['precision']:>11.3f}{s['recall']:>8.3f}{s['f1']:>7.3f}"
        )
    sc = result["scores"]
    print(
        f"detector {result['detector']}: {result['ms_per_megapixel']} ms per megapixel, "
        f"{result['ms_per_600px_chip']} ms per 600 x 600 chip; recall < 15 px "
        f"{sc['recall_small']:.3f}, >= 15 px {sc['recall_long']:.3f}; "
        f"{sc['fa_per_km2_water']:.2f} false alarms per km2 of water; "
        f"length error median {sc['length_abs_err_median_m']} m"
    )

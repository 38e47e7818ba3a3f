"""Score ship detections on labelled ports the way the issue asks: per port, by size,
false alarms per km² of water, length error; and draw the worst failures.

Used for the learned detector's leave-one-port-out figures (:mod:`pipeline.bench.train_cnn`)
and for ``rasonwatch bench ships``. Plain numpy: no training framework.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pipeline.bench.matching import PortScore, match_detections, matched_pairs, overall_score
from pipeline.bench.overlays import draw_overlay
from pipeline.bench.sen2ships import Port
from pipeline.bench.ship_samples import port_targets
from pipeline.detect.cnn_scale import resample_mask, working_factor
from pipeline.detect.detection import Detection, detections_from_maps
from pipeline.detect.masks import water_mask

#: Heat thresholds and peak windows (output cells) tried on the held-out outputs.
THRESHOLDS: Final = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
PEAK_CELLS: Final = (3, 5)
#: The issue's size classes: labels at least this many pixels long are "long".
LONG_SHIP_PX: Final = 15
#: Half side of the failure crops, pixels.
FAILURE_HALF_PX: Final = 40
#: Failure crops written per port, at most.
FAILURES_PER_PORT: Final = 6


def water_km2(port: Port) -> float:
    """Open water of a port (NDWI mask), km²."""
    water = water_mask(port.reflectance, port.valid)
    return float(water.sum()) * port.pixel_size_m**2 / 1e6


@dataclass(frozen=True)
class EvalResult:
    """Scores of one detector on some ports."""

    ports: dict[str, PortScore]
    """Per-port counts."""
    n_small: int
    """Labels shorter than :data:`LONG_SHIP_PX` (bbox long side)."""
    found_small: int
    """... of which matched."""
    n_long: int
    """Labels at least :data:`LONG_SHIP_PX` long."""
    found_long: int
    """... of which matched."""
    water_km2: float
    """Open water of all ports."""
    length_errors_m: tuple[float, ...]
    """Detected minus labelled length of each matched ship, metres."""
    length_rel_errors: tuple[float, ...]
    """The same, relative to the labelled length."""

    @property
    def overall(self) -> PortScore:
        """Counts summed over ports."""
        return overall_score(self.ports.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON form: ``ports``, ``overall``, size recalls, false alarms, length errors."""
        err = np.abs(np.array(self.length_errors_m or (np.nan,)))
        rel = np.abs(np.array(self.length_rel_errors or (np.nan,)))
        return {
            "ports": {n: s.as_dict() for n, s in self.ports.items()},
            "overall": self.overall.as_dict(),
            "n_small": self.n_small,
            "recall_small": round(self.found_small / max(self.n_small, 1), 4),
            "n_long": self.n_long,
            "recall_long": round(self.found_long / max(self.n_long, 1), 4),
            "water_km2": round(self.water_km2, 3),
            "fa_per_km2_water": round(self.overall.fp / max(self.water_km2, 1e-9), 3),
            "length_abs_err_median_m": round(float(np.median(err)), 1),
            "length_abs_err_mean_m": round(float(np.mean(err)), 1),
            "length_bias_m": round(float(np.mean(self.length_errors_m or (np.nan,))), 1),
            "length_rel_err_median": round(float(np.median(rel)), 3),
        }


def evaluate(ports: Sequence[Port], detections: Mapping[str, Sequence[Detection]]) -> EvalResult:
    """Score each port's detections against its labels.

    Args:
        ports: Labelled ports.
        detections: Each port's detections, by port name.
    """
    scores: dict[str, PortScore] = {}
    n_small = found_small = n_long = found_long = 0
    water = 0.0
    errors: list[float] = []
    rel: list[float] = []
    for port in ports:
        dets = detections[port.name]
        scores[port.name] = match_detections(dets, port.boxes)
        cents = np.array([[d.row, d.col] for d in dets], dtype=np.float64).reshape(-1, 2)
        pairs = matched_pairs(cents, port.boxes)
        hit = {lab for _, lab in pairs}
        long = np.maximum(port.boxes[:, 2], port.boxes[:, 3]) >= LONG_SHIP_PX
        n_long += int(long.sum())
        n_small += int((~long).sum())
        found_long += sum(1 for i in hit if long[i])
        found_small += sum(1 for i in hit if not long[i])
        targets = port_targets(port)
        for d, lab in pairs:
            truth = targets[lab].length_px * port.pixel_size_m
            errors.append(dets[d].length_m - truth)
            rel.append((dets[d].length_m - truth) / truth)
        water += water_km2(port)
    return EvalResult(
        scores, n_small, found_small, n_long, found_long, water, tuple(errors), tuple(rel)
    )


def maps_detections(
    ports: Sequence[Port],
    maps: Mapping[str, NDArray[np.float32]],
    *,
    threshold: float,
    peak_cells: int,
) -> dict[str, list[Detection]]:
    """Each port's detections decoded from its network outputs, in the port's own pixels.

    The outputs are on the network's working grid (:mod:`pipeline.detect.cnn_scale`), so a
    port on another grid is scored as the detector sees it: its ships are mapped back and
    matched against its own labels.
    """
    out = {}
    for p in ports:
        factor = working_factor(p.pixel_size_m)
        out[p.name] = detections_from_maps(
            maps[p.name],
            threshold=threshold,
            peak_cells=peak_cells,
            valid=resample_mask(p.valid, factor),
            pixel_size_m=p.pixel_size_m,
            shape=p.valid.shape,
            factor=factor,
        )
    return out


def evaluate_maps(
    ports: Sequence[Port],
    maps: Mapping[str, NDArray[np.float32]],
    *,
    threshold: float,
    peak_cells: int,
) -> EvalResult:
    """:func:`evaluate` of the detections decoded from network outputs."""
    return evaluate(ports, maps_detections(ports, maps, threshold=threshold, peak_cells=peak_cells))


def write_failures(
    ports: Sequence[Port], detections: Mapping[str, Sequence[Detection]], folder: Path
) -> list[Path]:
    """Overlays of each port (whole) and crops around its misses and false alarms.

    Green box: label found; red box: missed; magenta ring: false alarm. The ports with the
    lowest F1 come first in the file names (``00-genoa.png``...).

    Returns:
        The PNGs written.
    """
    ranked = sorted(ports, key=lambda p: match_detections(detections[p.name], p.boxes).f1)
    written = []
    for rank, port in enumerate(ranked):
        dets = list(detections[port.name])
        out = folder / f"{rank:02d}-{port.name}.png"
        draw_overlay(port.reflectance, port.boxes, dets, out, zoom=2)
        written.append(out)
        cents = np.array([[d.row, d.col] for d in dets], dtype=np.float64).reshape(-1, 2)
        pairs = matched_pairs(cents, port.boxes)
        hit_det = {d for d, _ in pairs}
        hit_lab = {lab for _, lab in pairs}
        spots = [
            ("miss", float(y + h / 2), float(x + w / 2))
            for i, (x, y, w, h) in enumerate(port.boxes)
            if i not in hit_lab
        ] + [("false", d.row, d.col) for i, d in enumerate(dets) if i not in hit_det]
        rows, cols = port.valid.shape
        for k, (kind, r, c) in enumerate(spots[:FAILURES_PER_PORT]):
            r0 = max(0, round(r) - FAILURE_HALF_PX)
            c0 = max(0, round(c) - FAILURE_HALF_PX)
            window = (
                r0,
                c0,
                min(rows, r0 + 2 * FAILURE_HALF_PX),
                min(cols, c0 + 2 * FAILURE_HALF_PX),
            )
            crop = folder / f"{rank:02d}-{port.name}-{k}-{kind}.png"
            draw_overlay(port.reflectance, port.boxes, dets, crop, window=window, zoom=4)
            written.append(crop)
    return written

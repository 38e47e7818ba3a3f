"""Train the ship models on a sen2ships-like folder, with leave-one-port-out scores.

Run ``python -m pipeline.bench.train_ships ../shared/datasets/sen2ships-dev`` to
re-create ``pipeline/detect/ship_model.json`` (about 2 minutes on one core). It:

1. computes the waterline-band pixel features of every port and labels each pixel by
   the union of the labelled ships' segmentation masks; finds the offshore (CFAR)
   objects and labels each by whether its centroid matches a label box;
2. for each port, fits the shore MLP and the offshore logistic model on the other
   ports and scores the held-out port (leave-one-port-out, LOPO) under every grouping
   setting (peak threshold, smoothing, spacing, offshore threshold);
3. picks the grouping with the best pooled LOPO F1, fits the final models on every
   port, and writes them with their provenance (data, date, command, LOPO and
   in-sample scores). ``--failures DIR`` also writes the LOPO overlays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.bench.matching import (
    PortScore,
    match_detections,
    match_matrix,
    matched_pairs,
    overall_score,
)
from pipeline.bench.overlays import draw_overlay
from pipeline.bench.sen2ships import Port, port_folders, read_port
from pipeline.bench.ship_eval import evaluate
from pipeline.detect.candidates import (
    Candidate,
    offshore_candidates,
    shore_candidates,
    waterline_band,
)
from pipeline.detect.classifier import Logistic, Mlp, fit_logistic, fit_mlp
from pipeline.detect.detection import Detection, measure
from pipeline.detect.features import FEATURE_NAMES, band_features
from pipeline.detect.masks import sea_mask, water_mask
from pipeline.detect.offshore import OFFSHORE_FEATURES, offshore_features
from pipeline.detect.ships import DEFAULT_MODEL_PATH

#: Negatives kept per positive pixel: the shore band is >95 % non-ship.
NEG_PER_POS: Final = 8
#: Cap on training rows per port, so that one big port does not dominate.
MAX_ROWS_PER_PORT: Final = 40_000
#: Peak thresholds tried in LOPO.
THRESHOLDS: Final = (0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
#: Smoothing of the shore score tried in LOPO (metres; 0 = none).
SMOOTHINGS_M: Final = (0.0, 10.0)
#: Peak spacings tried in LOPO: half a small hull to a short hull.
SPACINGS_M: Final = (60.0, 90.0, 120.0)
#: Offshore-object probability thresholds tried in LOPO (0 keeps every CFAR object).
OFFSHORE_THRESHOLDS: Final = (0.0, 0.3, 0.4, 0.5, 0.6)
#: Weight penalty of the offshore logistic model (few objects: keep it simple).
OFFSHORE_L2: Final = 1.0
#: The issue's "long ship" class: labels at least this many pixels long.
LONG_SHIP_PX: Final = 15
#: Hidden units and weight decay of the MLP.
N_HIDDEN: Final = 12
L2: Final = 1e-3


@dataclass(frozen=True, eq=False)
class PortData:
    """A port with the arrays training needs."""

    port: Port
    index: NDArray[np.intp]
    band: NDArray[np.bool_]
    x: NDArray[np.float32]
    y: NDArray[np.bool_]
    offshore: list[Candidate]
    off_x: NDArray[np.float32]
    off_y: NDArray[np.bool_]


def prepare(port: Port) -> PortData:
    """Features and labels of the shore-band pixels, and the offshore candidates."""
    refl, px = port.reflectance, port.pixel_size_m
    water = water_mask(refl, port.valid)
    sea = sea_mask(water, pixel_size_m=px)
    band = waterline_band(sea, water, port.valid, pixel_size_m=px)
    rows, cols = np.nonzero(band)
    index = np.ravel_multi_index((rows, cols), band.shape)
    x = band_features(refl, water, sea, rows, cols, pixel_size_m=px)
    y = port.ship_mask[rows, cols]
    off = offshore_candidates(refl[3], water, sea, port.valid, pixel_size_m=px)
    off_x = offshore_features(refl, water, sea, off, pixel_size_m=px)
    cents = np.array([[c.row, c.col] for c in off], dtype=np.float64).reshape(-1, 2)
    off_y: NDArray[np.bool_] = np.logical_or.reduce(match_matrix(cents, port.boxes), axis=1)
    return PortData(port, index, band, x, y, off, off_x, off_y)


def _sample(d: PortData, rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    pos = np.flatnonzero(d.y)
    neg = np.flatnonzero(~d.y)
    n_neg = min(len(neg), NEG_PER_POS * max(len(pos), 1), MAX_ROWS_PER_PORT)
    keep = np.concatenate([pos, rng.choice(neg, n_neg, replace=False)])
    if len(keep) > MAX_ROWS_PER_PORT:
        keep = rng.choice(keep, MAX_ROWS_PER_PORT, replace=False)
    return d.x[keep], d.y[keep]


def fit(ports: Sequence[PortData], seed: int = 0) -> Mlp:
    """Fit the shore MLP on the given ports."""
    rng = np.random.default_rng(seed)
    parts = [_sample(d, rng) for d in ports]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return fit_mlp(x, y, feature_names=FEATURE_NAMES, n_hidden=N_HIDDEN, l2=L2, seed=seed)


@dataclass(frozen=True)
class Grouping:
    """How shore-pixel probabilities become ships (the settings swept LOPO)."""

    threshold: float
    """Minimum smoothed probability of a peak."""
    smooth_m: float
    """Gaussian smoothing of the probability over the band (metres)."""
    spacing_m: float
    """Two peaks closer than this are one ship (metres)."""
    offshore: bool
    """Whether the CFAR offshore detector runs beside the shore model."""
    offshore_threshold: float = 0.0
    """Offshore objects scoring below this (offshore model, LOPO) are dropped."""

    def as_meta(self) -> dict[str, Any]:
        """The model-file form (``shore_*`` keys read by :mod:`pipeline.detect.ships`)."""
        return {
            "shore_threshold": self.threshold,
            "shore_smooth_m": self.smooth_m,
            "shore_spacing_m": self.spacing_m,
            "offshore_cfar": self.offshore,
        }


def groupings() -> list[Grouping]:
    """Every setting LOPO tries."""
    return [
        Grouping(t, s, sp, off, ot)
        for t in THRESHOLDS
        for s in SMOOTHINGS_M
        for sp in SPACINGS_M
        for off in (True, False)
        for ot in (OFFSHORE_THRESHOLDS if off else (0.0,))
    ]


@dataclass(frozen=True, eq=False)
class Scores:
    """One port's model outputs: shore-band pixels and offshore objects."""

    band: NDArray[np.float32]
    """Shore-model probability of each band pixel."""
    offshore: NDArray[np.float32]
    """Offshore-model probability of each CFAR object."""


def detections_at(d: PortData, scores: Scores, g: Grouping) -> list[Detection]:
    """The detector's output on a prepared port, given its model outputs."""
    shape = d.port.valid.shape
    px = d.port.pixel_size_m
    prob = np.zeros(shape, dtype=np.float32)
    prob.ravel()[d.index] = scores.band
    offshore = (
        [c for c, p in zip(d.offshore, scores.offshore, strict=True) if p >= g.offshore_threshold]
        if g.offshore
        else []
    )
    taken = np.zeros(shape, dtype=bool)
    for c in offshore:
        taken[c.rows, c.cols] = True
    if offshore:
        taken = ndi.binary_dilation(taken, iterations=max(1, round(30 / px)))
    cands = offshore + shore_candidates(
        prob,
        d.band,
        pixel_size_m=px,
        threshold=g.threshold,
        exclude=taken,
        smooth_m=g.smooth_m,
        spacing_m=g.spacing_m,
    )
    return [measure(c, pixel_size_m=px, shape=shape) for c in cands]


@dataclass(frozen=True)
class LopoResult:
    """Held-out scores of one grouping."""

    ports: dict[str, PortScore]
    """Per-port counts."""
    long_found: int
    """Labels at least :data:`LONG_SHIP_PX` long that were matched."""
    long_total: int
    """Labels at least :data:`LONG_SHIP_PX` long."""

    @property
    def overall(self) -> PortScore:
        """Counts summed over ports."""
        return overall_score(self.ports.values())


def _long_hits(dets: Sequence[Detection], boxes: NDArray[np.float64]) -> tuple[int, int]:
    cents = np.array([[d.row, d.col] for d in dets], dtype=np.float64).reshape(-1, 2)
    long = np.maximum(boxes[:, 2], boxes[:, 3]) >= LONG_SHIP_PX
    hit = {lab for _, lab in matched_pairs(cents, boxes)}
    return sum(1 for i in np.flatnonzero(long) if int(i) in hit), int(long.sum())


def fit_offshore(ports: Sequence[PortData]) -> Logistic:
    """Fit the offshore-object model on the given ports' CFAR objects."""
    x = np.concatenate([d.off_x for d in ports])
    y = np.concatenate([d.off_y for d in ports])
    return fit_logistic(x, y, feature_names=OFFSHORE_FEATURES, l2=OFFSHORE_L2)


def predict(d: PortData, model: Mlp, offshore: Logistic) -> Scores:
    """Both models' outputs on one port."""
    off = offshore.predict(d.off_x) if len(d.off_x) else np.zeros(0, np.float32)
    return Scores(model.predict(d.x), off)


def lopo_probabilities(data: Sequence[PortData]) -> list[Scores]:
    """Each port's model outputs from models fitted on the other ports."""
    out = []
    for i, held in enumerate(data):
        others = [d for j, d in enumerate(data) if j != i]
        out.append(predict(held, fit(others), fit_offshore(others)))
        print(f"LOPO {held.port.name}: fitted on {len(data) - 1} ports", file=sys.stderr)
    return out


def score_grouping(data: Sequence[PortData], probs: Sequence[Scores], g: Grouping) -> LopoResult:
    """Held-out scores of one grouping, from LOPO probabilities."""
    ports: dict[str, PortScore] = {}
    found = total = 0
    for d, p in zip(data, probs, strict=True):
        dets = detections_at(d, p, g)
        ports[d.port.name] = match_detections(dets, d.port.boxes)
        f, t = _long_hits(dets, d.port.boxes)
        found, total = found + f, total + t
    return LopoResult(ports, found, total)


def write_overlays(
    data: Sequence[PortData], probs: Sequence[Scores], g: Grouping, folder: Path
) -> None:
    """One PNG per held-out port (hits, misses, false alarms) at the chosen grouping."""
    for d, p in zip(data, probs, strict=True):
        dets = detections_at(d, p, g)
        out = folder / f"lopo-{d.port.name}.png"
        draw_overlay(d.port.reflectance, d.port.boxes, dets, out, zoom=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument(
        "--failures", type=Path, default=None, help="folder for LOPO overlays (PNG)"
    )
    args = parser.parse_args(argv)
    data = [prepare(read_port(f)) for f in port_folders(args.dataset_dir)]
    probs = lopo_probabilities(data)
    results = {g: score_grouping(data, probs, g) for g in groupings()}
    ranked = sorted(results, key=lambda g: results[g].overall.f1, reverse=True)
    best = ranked[0]
    for g in ranked[:10]:
        o, r = results[g].overall, results[g]
        print(
            f"{g}: LOPO P {o.precision:.3f} R {o.recall:.3f} F1 {o.f1:.3f}"
            f" recall(>={LONG_SHIP_PX}px) {r.long_found}/{r.long_total}"
        )
    for name, sc in results[best].ports.items():
        print(f"  {name}: {sc.as_dict()}")
    held_out = {d.port.name: detections_at(d, p, best) for d, p in zip(data, probs, strict=True)}
    scores = evaluate([d.port for d in data], held_out).as_dict()
    print(f"LOPO by size, false alarms, length: {json.dumps(scores)}")
    if args.failures is not None:
        write_overlays(data, probs, best, args.failures)
    final = fit(data)
    final_offshore = fit_offshore(data)
    final_offshore = Logistic(
        final_offshore.feature_names,
        final_offshore.mean,
        final_offshore.scale,
        final_offshore.coef,
        final_offshore.intercept,
        best.offshore_threshold,
    )
    chosen = results[best]
    lopo_doc: dict[str, Any] = {n: s.as_dict() for n, s in chosen.ports.items()}
    lopo_doc["overall"] = chosen.overall.as_dict()
    lopo_doc[f"recall_ships_ge_{LONG_SHIP_PX}px"] = round(
        chosen.long_found / max(chosen.long_total, 1), 4
    )
    in_sample = score_grouping(data, [predict(d, final, final_offshore) for d in data], best)
    meta = {
        **best.as_meta(),
        "offshore_model": final_offshore.to_json(),
        "provenance": {
            "data": f"sen2ships-dev ({', '.join(d.port.name for d in data)}), "
            "labels' segmentation masks, waterline-band pixels",
            "date": dt.date.today().isoformat(),
            "command": "python -m pipeline.bench.train_ships ../shared/datasets/sen2ships-dev",
            "n_hidden": N_HIDDEN,
            "l2": L2,
            "neg_per_pos": NEG_PER_POS,
            "lopo_at_chosen_grouping": lopo_doc,
            "in_sample_overall": in_sample.overall.as_dict(),
        },
    }
    model = Mlp(
        final.feature_names, final.mean, final.scale, final.w1, final.b1, final.w2, final.b2, meta
    )
    model.save(args.out)
    print(f"wrote {args.out} ({best})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

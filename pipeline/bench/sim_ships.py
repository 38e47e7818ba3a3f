"""Score reference-mode ship counts against a simulated archive's ``truth.csv``.

Run ``python -m pipeline.bench.sim_ships data/demo-archive`` after ``rasonwatch simulate``.
It reads every scene of the port AOI, keeps the *clear* ones (the chip's clear fraction,
from SCL, at least :data:`MIN_CLEAR_FRACTION`), builds an empty-water reference as the
per-pixel :data:`REFERENCE_PERCENTILE` th percentile of the clear pixels of
:data:`N_REFERENCE_SCENES` clear scenes spread over the archive, counts ships with
:func:`pipeline.detect.ships.detect_ships` in reference mode, and reports the mean
absolute error of the count per clear scene and the milliseconds per chip.

The reference is computed inline here (the product's builder is
:mod:`pipeline.reference`), so that this benchmark depends only on the detector.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pipeline.aoi import load_aois
from pipeline.cog import read_chip
from pipeline.config import Settings
from pipeline.detect.reference_mode import prepare_reference
from pipeline.detect.ships import detect_ships
from pipeline.masks import clear_fraction, clear_mask
from pipeline.sources import open_source
from pipeline.types import Aoi, Chip

#: Scenes at least this clear over the AOI are scored (and may feed the reference): the
#: truth counts ships hidden by cloud too, so only nearly clear scenes are comparable.
MIN_CLEAR_FRACTION: Final = 0.95
#: Clear scenes in the reference, spread evenly over the archive's clear scenes.
N_REFERENCE_SCENES: Final = 30
#: A low percentile approximates empty water even where berths are often occupied.
REFERENCE_PERCENTILE: Final = 10.0
#: The port AOI of the demo scenario.
PORT_AOI: Final = "rajin-port"


@dataclass(frozen=True)
class SceneCount:
    """Detected against true ships in one clear scene."""

    scene_id: str
    """The scene."""
    truth: int
    """Ships in ``truth.csv``."""
    found: int
    """Ships the detector reports."""


def read_truth(archive: Path, aoi_id: str) -> dict[str, int]:
    """Ship counts per scene of one AOI from ``truth.csv``."""
    with (archive / "truth.csv").open(newline="") as fh:
        return {r["scene_id"]: int(r["ships"]) for r in csv.DictReader(fh) if r["aoi"] == aoi_id}


def build_reference(chips: Sequence[Chip], *, percentile: float) -> NDArray[np.float32]:
    """Per-pixel low percentile of the clear, valid pixels of ``chips`` (NaN elsewhere → 0)."""
    stack = np.stack([c.reflectance for c in chips]).astype(np.float32)
    for i, c in enumerate(chips):
        hidden = ~(clear_mask(c.scl) & c.valid)
        stack[i][:, hidden] = np.nan
    ref = np.nanpercentile(stack, percentile, axis=0).astype(np.float32)
    out: NDArray[np.float32] = np.nan_to_num(ref, nan=0.0).astype(np.float32)
    return out


def _clear_chips(archive: Path, aoi: Aoi, settings: Settings) -> list[Chip]:
    source = open_source(str(archive), settings)
    scenes = source.search(aoi, date(1900, 1, 1), date(2100, 1, 1))
    chips = []
    for scene in scenes:
        chip = read_chip(scene, aoi, settings=settings)
        if clear_fraction(clear_mask(chip.scl), chip.valid) >= MIN_CLEAR_FRACTION:
            chips.append(chip)
    return chips


def run_sim_ship_bench(archive: Path, *, aoi_id: str = PORT_AOI) -> dict[str, Any]:
    """Reference-mode ship counts on the clear scenes of a simulated archive.

    Args:
        archive: Folder written by ``rasonwatch simulate``.
        aoi_id: The port AOI to score.

    Returns:
        ``{"aoi", "n_clear_scenes", "n_reference_scenes", "ship_mae", "ship_bias",
        "ms_per_chip", "chip_shape", "scenes": [{"scene_id", "truth", "found"}]}``.

    Raises:
        FileNotFoundError: When the archive has no ``truth.csv``.
        ValueError: When the archive holds no clear scene of the AOI.
    """
    settings = Settings()
    aoi = next(a for a in load_aois(settings.aoi_dir) if a.id == aoi_id)
    truth = read_truth(archive, aoi_id)
    chips = [c for c in _clear_chips(archive, aoi, settings) if c.scene_id in truth]
    if not chips:
        raise ValueError(f"archive {archive} holds no clear scene of {aoi_id}")
    pick = np.unique(np.linspace(0, len(chips) - 1, N_REFERENCE_SCENES).round().astype(int))
    composite = build_reference([chips[i] for i in pick], percentile=REFERENCE_PERCENTILE)
    pixel_size_m = abs(float(chips[0].transform.a))
    reference = prepare_reference(composite, pixel_size_m=pixel_size_m)
    counts: list[SceneCount] = []
    elapsed = 0.0
    for chip in chips:
        t0 = time.perf_counter()
        found = len(detect_ships(chip, reference=reference))
        elapsed += time.perf_counter() - t0
        counts.append(SceneCount(chip.scene_id, truth[chip.scene_id], found))
    err = np.array([c.found - c.truth for c in counts], dtype=np.float64)
    return {
        "aoi": aoi_id,
        "n_clear_scenes": len(counts),
        "n_reference_scenes": len(pick),
        "ship_mae": round(float(np.abs(err).mean()), 3),
        "ship_bias": round(float(err.mean()), 3),
        "ms_per_chip": round(1000 * elapsed / len(counts), 1),
        "chip_shape": list(chips[0].valid.shape),
        "scenes": [c.__dict__ for c in counts],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--json", action="store_true", help="print the whole document")
    args = parser.parse_args(argv)
    doc = run_sim_ship_bench(args.archive)
    if args.json:
        print(json.dumps(doc))
        return 0
    print({k: v for k, v in doc.items() if k != "scenes"})
    for s in doc["scenes"]:
        if s["found"] != s["truth"]:
            print(f"  {s['scene_id']}: truth {s['truth']} found {s['found']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure the Level-1C cloud mask (no SCL) against SCL on Level-2A of the same scenes.

On a SIMULATED archive that holds both levels of some dates (one that starts before
2018-12-01: `rasonwatch simulate` writes both until 2019-03-01), read each AOI from both
items of every such date and compare the clear-sky masks: pixel agreement, the obscured
pixels of SCL that the TOA mask finds (recall) and how many it adds (precision), the clear
fractions, and the scenes on either side of the claims' clear-fraction threshold.
Prints JSON; every figure is SIMULATED.

Run: ``.venv/bin/python scripts/measure_l1c_mask.py ARCHIVE_DIR``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

from pipeline.config import Settings
from pipeline.detect.masks import clear_fraction, clear_mask
from pipeline.geo.aoi import load_aois
from pipeline.read.chips import read_chip
from pipeline.sources.local import LocalSource
from pipeline.sources.normalise import normalise_item

THRESHOLD = {"rajin-port": 0.8, "tumangang-rail": 0.9}


def main(archive: Path) -> dict[str, object]:
    settings = Settings()
    source = LocalSource(archive)
    by_day: dict[str, dict[str, object]] = {}
    for item in source.items():
        scene = normalise_item(item, source="local", allow_l1c=True)
        by_day.setdefault(scene.date_key, {})[scene.level] = scene
    truth: dict[tuple[str, str], float] = {}
    with (archive / "truth.csv").open() as f:
        for row in csv.DictReader(f):
            truth[(row["datetime"][:10], row["aoi"])] = float(row["clear_fraction"])
    rows = []
    for aoi in load_aois(settings.aoi_dir):
        for day, pair in sorted(by_day.items()):
            if set(pair) != {"L2A", "L1C"}:
                continue
            l2a = read_chip(pair["L2A"], aoi, settings=settings)  # type: ignore[arg-type]
            l1c = read_chip(pair["L1C"], aoi, settings=settings, allow_l1c=True)  # type: ignore[arg-type]
            inside = l2a.valid & l1c.valid
            ref, toa = clear_mask(l2a.scl) & inside, clear_mask(l1c.scl) & inside
            obscured_ref, obscured_toa = inside & ~ref, inside & ~toa
            n = int(inside.sum())
            rows.append(
                {
                    "aoi": aoi.id,
                    "date": day,
                    "agreement": float(((ref == toa) & inside).sum()) / n,
                    "obscured_scl": int(obscured_ref.sum()),
                    "obscured_toa": int(obscured_toa.sum()),
                    "both_obscured": int((obscured_ref & obscured_toa).sum()),
                    "clear_scl": clear_fraction(ref, inside),
                    "clear_toa": clear_fraction(toa, inside),
                    "clear_truth": truth.get((day, aoi.id)),
                }
            )
    summary = {}
    for aoi_id, threshold in THRESHOLD.items():
        mine = [r for r in rows if r["aoi"] == aoi_id]
        if not mine:
            continue
        scl_obsc = sum(int(r["obscured_scl"]) for r in mine)  # type: ignore[call-overload]
        toa_obsc = sum(int(r["obscured_toa"]) for r in mine)  # type: ignore[call-overload]
        both = sum(int(r["both_obscured"]) for r in mine)  # type: ignore[call-overload]
        diff = np.array([float(r["clear_toa"]) - float(r["clear_scl"]) for r in mine])  # type: ignore[arg-type]
        same_side = sum(
            (float(r["clear_toa"]) >= threshold) == (float(r["clear_scl"]) >= threshold)  # type: ignore[arg-type]
            for r in mine
        )
        summary[aoi_id] = {
            "scenes": len(mine),
            "pixel_agreement": round(float(np.mean([r["agreement"] for r in mine])), 4),
            "recall_of_scl_obscured": round(both / scl_obsc, 4) if scl_obsc else None,
            "precision_of_toa_obscured": round(both / toa_obsc, 4) if toa_obsc else None,
            "clear_fraction_bias": round(float(diff.mean()), 4),
            "clear_fraction_mae": round(float(np.abs(diff).mean()), 4),
            "same_side_of_threshold": f"{same_side}/{len(mine)} at {threshold}",
        }
    return {"SIMULATED": True, "archive": str(archive), "summary": summary, "scenes": rows}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), indent=1))

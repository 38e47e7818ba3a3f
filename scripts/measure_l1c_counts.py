"""Ship counts on Level-1C against Level-2A of the same SIMULATED scenes (issue 17).

On an archive holding both levels of some dates (one that starts before 2018-12-01): build
Rajin's temporal reference from the Level-2A chips of those dates, then count ships on each
date's Level-2A chip, on its Level-1C chip as it is (TOA) and on the Level-1C chip mapped onto
the reference's scale (:mod:`pipeline.detect.toa_calibrate`), against the truth. Prints
JSON; every figure is SIMULATED.

Run: ``.venv/bin/python scripts/measure_l1c_counts.py ARCHIVE_DIR``.
"""

from __future__ import annotations

import csv
import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.config import DEFAULT_AOI_DIR, Settings
from pipeline.detect.analyse import analyse_chip, clear_pixels, reference_from_chips
from pipeline.detect.toa_calibrate import fit_bands, to_reference_scale
from pipeline.geo.aoi import load_aoi
from pipeline.read.chips import read_chip
from pipeline.sources.local import LocalSource
from pipeline.sources.normalise import normalise_item
from pipeline.types import Scene

MIN_CLEAR = 0.8


def main(archive: Path) -> dict[str, object]:
    warnings.simplefilter("ignore")
    settings = Settings()
    aoi = load_aoi(DEFAULT_AOI_DIR / "rajin-port.geojson")
    by_day: dict[str, dict[str, Scene]] = {}
    for item in LocalSource(archive).items():
        scene = normalise_item(item, source="local", allow_l1c=True)
        by_day.setdefault(scene.date_key, {})[scene.level] = scene
    truth = {}
    with (archive / "truth.csv").open() as f:
        for row in csv.DictReader(f):
            if row["aoi"] == aoi.id:
                truth[row["datetime"][:10]] = int(row["ships"])
    pairs = {d: p for d, p in sorted(by_day.items()) if set(p) == {"L2A", "L1C"}}
    l2a = {d: read_chip(p["L2A"], aoi, settings=settings) for d, p in pairs.items()}
    reference = reference_from_chips(list(l2a.values()))
    if reference is None:
        raise SystemExit("too few clear Level-2A chips for a reference")
    rows = []
    for day, pair in pairs.items():
        surface = analyse_chip(l2a[day], pair["L2A"], aoi, reference=reference).observation
        if (surface.clear_fraction or 0.0) < MIN_CLEAR:
            continue
        chip = read_chip(pair["L1C"], aoi, settings=settings, allow_l1c=True)
        raw = analyse_chip(chip, pair["L1C"], aoi, reference=reference).observation
        fit = fit_bands(chip.reflectance, reference.median, clear_pixels(chip) & chip.valid)
        mapped = None
        if fit is not None:
            scaled = replace(chip, reflectance=to_reference_scale(chip.reflectance, fit))
            mapped = analyse_chip(scaled, pair["L1C"], aoi, reference=reference).observation
        rows.append(
            {
                "date": day,
                "truth": truth.get(day),
                "l2a": surface.ships,
                "l1c_toa": raw.ships,
                "l1c_mapped": None if mapped is None else mapped.ships,
                "clear_l2a": surface.clear_fraction,
                "clear_l1c": raw.clear_fraction,
            }
        )

    def diff(key: str) -> dict[str, float | int]:
        pairs_ = [(r[key], r["l2a"]) for r in rows if r[key] is not None]
        d = np.array([float(a) - float(b) for a, b in pairs_])  # type: ignore[arg-type]
        return {
            "scenes": len(d),
            "mean_difference": round(float(d.mean()), 3) if d.size else 0.0,
            "mean_abs_difference": round(float(np.abs(d).mean()), 3) if d.size else 0.0,
        }

    return {
        "SIMULATED": True,
        "archive": str(archive),
        "clear_scenes": len(rows),
        "l1c_toa_minus_l2a": diff("l1c_toa"),
        "l1c_mapped_minus_l2a": diff("l1c_mapped"),
        "scenes": rows,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), indent=1, default=str))

"""Ship counts on Level-1C against Level-2A of the same SIMULATED scenes (issue 17).

On an archive holding both levels of some dates (one that starts before 2018-12-01, and
runs into 2019 so that a reference can be built as the flows build it): Rajin's temporal
reference comes from the archive's Level-2A chips in the flows' default reference period
(up to 40 of the clearest, evenly spread). Each date holding both levels is then counted on
its Level-2A chip, on its Level-1C chip as the flows count it (brought to surface
reflectance by :mod:`pipeline.detect.toa_calibrate`), and on the Level-1C chip left at top
of atmosphere, against the truth. Only dates the Level-2A mask calls at least 80 % clear
are compared. Prints JSON; every figure is SIMULATED.

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
from pipeline.detect.analyse import analyse_chip, clear_pixels
from pipeline.detect.masks import clear_fraction
from pipeline.detect.reference_looks import reference_candidates, reference_from_chips
from pipeline.geo.aoi import load_aoi
from pipeline.read.chips import read_chip
from pipeline.run.options import DEFAULT_REFERENCE_PERIOD
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
    start, end = (d.isoformat() for d in DEFAULT_REFERENCE_PERIOD)
    in_period = [p["L2A"] for d, p in sorted(by_day.items()) if "L2A" in p and start <= d <= end]
    chips = {s.id: read_chip(s, aoi, settings=settings) for s in in_period}
    fractions = [
        (s.id, clear_fraction(clear_pixels(chips[s.id]), chips[s.id].valid)) for s in in_period
    ]
    picked = [chips[i] for i in reference_candidates(fractions)]
    reference = reference_from_chips(picked, leave_out_snow=True)
    if reference is None:
        raise SystemExit("too few clear Level-2A chips for a reference")
    rows = []
    for day, pair in sorted(by_day.items()):
        if set(pair) != {"L2A", "L1C"}:
            continue
        surface_chip = chips.get(pair["L2A"].id) or read_chip(pair["L2A"], aoi, settings=settings)
        surface = analyse_chip(surface_chip, pair["L2A"], aoi, reference=reference).observation
        if (surface.clear_fraction or 0.0) < MIN_CLEAR:
            continue
        chip = read_chip(pair["L1C"], aoi, settings=settings, allow_l1c=True)
        calibrated = analyse_chip(chip, pair["L1C"], aoi, reference=reference).observation
        as_toa = replace(pair["L1C"], level="L2A")  # skips the calibration: TOA as it is
        raw = analyse_chip(chip, as_toa, aoi, reference=reference).observation
        rows.append(
            {
                "date": day,
                "truth": truth.get(day),
                "l2a": surface.ships,
                "l1c": calibrated.ships,
                "l1c_toa_uncalibrated": raw.ships,
                "clear_l2a": round(surface.clear_fraction or 0.0, 3),
                "clear_l1c": round(calibrated.clear_fraction or 0.0, 3),
            }
        )

    def diff(key: str, against: str = "l2a") -> dict[str, float | int]:
        d = np.array([float(r[key]) - float(r[against]) for r in rows if r[against] is not None])  # type: ignore[arg-type]
        return {
            "scenes": int(d.size),
            "mean_difference": round(float(d.mean()), 3) if d.size else 0.0,
            "mean_abs_difference": round(float(np.abs(d).mean()), 3) if d.size else 0.0,
            "equal": int((d == 0).sum()),
        }

    return {
        "SIMULATED": True,
        "archive": str(archive),
        "reference_looks": len(reference.scene_ids),
        "clear_scenes": len(rows),
        "l1c_minus_l2a": diff("l1c"),
        "l1c_uncalibrated_minus_l2a": diff("l1c_toa_uncalibrated"),
        "l2a_minus_truth": diff("l2a", "truth"),
        "l1c_minus_truth": diff("l1c", "truth"),
        "scenes": rows,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), indent=1, default=str))

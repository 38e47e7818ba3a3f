"""How often rule 2.1 could support the demo's spike claims if the detectors counted exactly.

No pixels: for each of N draws of a scenario (its ``seed`` replaced by 0..N-1), the true
ships at Rajin (berth ships included) and the true cars in the Tumangang yard at every
acquisition (:func:`pipeline.simulate.dynamics.stays`), a scene clear by a coin with the
month's cloud probability, and the seed claims ``port-spike-2023`` and ``rail-spike-2023``
judged by :func:`pipeline.claims.robust.robust_rate_ratio`. Prints JSON: the share of each
verdict, the median season-matched ratio and how often each condition of "supported" failed.
Every figure is SIMULATED. It separates what the archive's length and the world allow from
what the detectors lose.

Run: ``.venv/bin/python scripts/measure_demo_power.py SCENARIO.toml [N]``.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.bench.verdict_series import clear_count_series
from pipeline.claims.parse import load_claims
from pipeline.claims.robust import robust_rate_ratio, series_onset
from pipeline.claims.series import Series
from pipeline.simulate import dynamics
from pipeline.simulate.scenario import Scenario, parse_scenario

REPO = Path(__file__).resolve().parents[1]
CLAIMS = (
    ("port-spike-2023", "rajin-port", None),
    ("rail-spike-2023", "tumangang-rail", "tumangang-yard"),
)


def true_series(world: Scenario, aoi: str, zone: str | None, seed: int) -> Series:
    """The true count at each clear acquisition (cars in ``zone``; every ship otherwise)."""
    times = np.array([dynamics.scene_time(d) for d in world.dates])
    stays = [s for s in dynamics.stays(world, aoi) if zone is None or s.zone == zone]
    arrive = np.array([s.arrive for s in stays])
    leave = np.array([s.leave for s in stays])
    inside = (arrive <= times[:, None]) & (leave > times[:, None])
    counts = inside.sum(axis=1) if zone is None else inside @ np.array([s.size for s in stays])
    by_month = world.world.cloud_probability_by_month
    clouds = np.asarray(by_month if by_month is not None else [world.cloud_probability] * 12)
    months = np.array([d.month - 1 for d in world.dates])
    clear = np.random.default_rng([seed, 15, len(aoi)]).random(months.size) >= clouds[months]
    return clear_count_series(world.dates, counts, clear)


def failed(reason: str) -> list[str]:
    """The conditions of "supported" an inconclusive reason names."""
    names = []
    for part in reason.split("; "):
        if "too few clear scenes" in part:
            names.append("too few scenes")
        elif "interval" in part:
            names.append("interval")
        elif "p = " in part:
            names.append("block p")
        elif "window scan" in part or "does not stand out" in part:
            names.append("window scan")
        elif "began" in part:
            names.append("onset")
    return names


def main(path: Path, n: int) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    claims = {c.id: c for c in load_claims(REPO / "seeds" / "claims.toml")}
    out: dict[str, object] = {"scenario": str(path), "draws": n, "simulated": True}
    labels: dict[str, Counter[str]] = {cid: Counter() for cid, _, _ in CLAIMS}
    reasons: dict[str, Counter[str]] = {cid: Counter() for cid, _, _ in CLAIMS}
    ratios: dict[str, list[float]] = {cid: [] for cid, _, _ in CLAIMS}
    for seed in range(n):
        doc = tomllib.loads(text)
        doc["seed"] = seed
        world = parse_scenario(doc, where=str(path))
        for cid, aoi, zone in CLAIMS:
            claim, series = claims[cid], true_series(world, aoi, zone, seed)
            label, reason, _, estimate, _ = robust_rate_ratio(
                claim,
                series,
                onset=series_onset(claim, series),
                rng=np.random.default_rng(seed),
                sensitivity=False,
                n_boot=2000,
            )
            labels[cid][label] += 1
            reasons[cid].update(failed(reason) if label != "supported" else [])
            if estimate is not None:
                ratios[cid].append(estimate.ratio)
    for cid, _, _ in CLAIMS:
        out[cid] = {
            "verdicts": {k: v / n for k, v in sorted(labels[cid].items())},
            "median_ratio": float(np.median(ratios[cid])) if ratios[cid] else None,
            "failed": dict(reasons[cid]),
        }
    return out


if __name__ == "__main__":
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    print(json.dumps(main(Path(sys.argv[1]), count), indent=1))

"""The learned ship detector's model card, written beside its weights by
:mod:`pipeline.bench.train_cnn` from the weights' provenance (no training framework here).
"""

from __future__ import annotations

import json
from typing import Any, Final

from pipeline.detect.ships import DEFAULT_MODEL_PATH

#: The issue's leave-one-port-out F1 target.
TARGET_F1: Final = 0.70


def model_card(meta: dict[str, Any], *, workers: int) -> str:
    """The model card (markdown) written beside the weights.

    Args:
        meta: The weights' ``meta`` (:class:`pipeline.detect.cnn.ShipCnn`).
        workers: Leave-one-port-out trainings that ran at once.
    """
    lopo = meta.get("lopo")
    legacy = json.loads(DEFAULT_MODEL_PATH.read_text())["meta"]["provenance"]
    legacy_f1 = float(legacy["lopo_at_chosen_grouping"]["overall"]["f1"])
    lines = [
        "# ship_cnn.npz: the learned single-date ship detector",
        "",
        "A CenterNet-style heatmap CNN (`pipeline/detect/cnn.py`, "
        f"{meta['parameters']} parameters) run in numpy. Written by "
        "`pipeline/bench/train_cnn.py`; do not edit by hand.",
        "",
        "## Data",
        f"- `sen2ships-dev`: {meta['data']} (real Sentinel-2 L2A crops, EPSG:3857, "
        "5.8–8 m ground pixels), resampled to the network's 10 m working grid (Gaussian "
        "anti-alias, bilinear) as the detector resamples every chip it reads "
        "(`pipeline/detect/cnn_scale.py`); its ships are mapped back and scored against "
        "each port's own labels.",
        "- Augmentation: the eight flips and rotations, brightness gain and offset jitter, "
        "noise, sub-pixel shifts, cut-and-paste of labelled hulls on open water and flush "
        "along quays. No simulated chips.",
        "- Each port's open water is levelled to one reference before training "
        "(`level_water`: the median of its NDWI water taken to clear coastal water, band by "
        "band), as the detector levels every chip it reads.",
        "",
        "## Training",
        f"- Command: `{meta['command']}`",
        f"- Seed {meta['seed']}, {meta['steps']} steps of {meta['batch']} patches of "
        f"{meta['patch']} px, torch {meta['torch']}, one CPU thread per training "
        f"(the six leave-one-port-out trainings {workers} at a time); final training "
        f"{meta['train_seconds']:.0f} s.",
        "- Loss: CenterNet's focal loss on the heatmap, L1 on the regressions at ship "
        "centres, and a training-only hull head (weighted cross-entropy on the labelled "
        "hulls' rectangles) that is not exported.",
        f"- Decoding: heat threshold {meta['threshold']}, peaks over {meta['peak_cells']} × "
        f"{meta['peak_cells']} output cells.",
        "",
    ]
    if lopo is not None:
        lines += [
            "## Leave-one-port-out (train on five ports, score the sixth; the figure of record)",
            f"Six trainings took {lopo['seconds']:.0f} s. The threshold was chosen on these "
            "pooled held-out outputs (one number for all ports).",
            "",
            "| port | tp | fp | fn | precision | recall | F1 |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, s in [*lopo["ports"].items(), ("**overall**", lopo["overall"])]:
            lines.append(
                f"| {name} | {s['tp']} | {s['fp']} | {s['fn']} | {s['precision']:.3f} "
                f"| {s['recall']:.3f} | {s['f1']:.3f} |"
            )
        lines += [
            "",
            f"- Recall, ships < 15 px: {lopo['recall_small']:.3f} ({lopo['n_small']} labels); "
            f"≥ 15 px: {lopo['recall_long']:.3f} ({lopo['n_long']} labels).",
            f"- False alarms per km² of water: {lopo['fa_per_km2_water']:.2f}.",
            f"- Length error of matched ships: median {lopo['length_abs_err_median_m']:.1f} m, "
            f"mean {lopo['length_abs_err_mean_m']:.1f} m, median relative "
            f"{lopo['length_rel_err_median']:.2f}.",
            f"- The older single-date detector (`ship_model.json`), held out the same way: "
            f"F1 {legacy_f1:.3f}. "
            + (
                "This model is better."
                if lopo["overall"]["f1"] > legacy_f1
                else "This model is worse: the flows keep the older one "
                "(`LEARNED_IN_PRODUCT` in `pipeline/detect/cnn.py`)."
            ),
            "",
        ]
    ins = meta["in_sample"]
    lines += [
        "## The committed weights on their own training ports (in-sample, not a skill figure)",
        "`tests/unit/detect/test_ship_cnn.py` checks that the weights still give these "
        "(F1 no more than 0.05 below).",
        "",
        "| port | tp | fp | fn | F1 |",
        "|---|---|---|---|---|",
        *(
            f"| {n} | {s['tp']} | {s['fp']} | {s['fn']} | {s['f1']:.3f} |"
            for n, s in [*ins["ports"].items(), ("**overall**", ins["overall"])]
        ),
        "",
        "## Limits",
        *(
            [
                "- Below the issue's targets (F1 ≥ 0.70, recall ≥ 0.85 for ships ≥ 15 px, "
                "no port below 0.55). More training does not close the gap: on a split of "
                "three ports in and three out, a wider network trained twice as long (with "
                "the hull head and a haze augmentation instead of levelling) scored the same "
                "held-out F1 (0.29) as the first recipe. It is short of data."
            ]
            if lopo is not None and lopo["overall"]["f1"] < TARGET_F1
            else []
        ),
        "- Six ports, one date each, 166 ships: the held-out figures carry a wide "
        "uncertainty (a port of 12 ships moves by ±0.1 with one hit).",
        "- The training ports were exported at 5.8–8 m from the 10 m product and are "
        "resampled back to 10 m here: twice resampled, their hulls are softer than on "
        "Rajin's native 10 m UTM chips.",
        "- Hulls abreast closer than ~2 cells (4 px, 40 m) merge into one peak; small craft "
        "(< 6 px) are not labelled in the data and are not looked for.",
        "- Length is regressed from the pixels around the centre: only as good as the "
        "table above says.",
        "",
    ]
    return "\n".join(lines)

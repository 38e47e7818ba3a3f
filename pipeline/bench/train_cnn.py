"""Train the learned ship detector (PyTorch, CPU) and score it leave-one-port-out.

Run ``python -m pipeline.bench.train_cnn ../shared/datasets/sen2ships-dev --lopo`` (or
``rasonwatch bench train-ships``) to re-create ``pipeline/detect/ship_cnn.npz`` and its
model card ``ship_cnn.md``. With ``--lopo`` it first trains once per port on the five
others and scores the held-out port with the numpy detector (the figure of record), picks
the decoding threshold with the best pooled held-out F1, then trains on all six ports.

PyTorch is a training-only dependency (the ``[train]`` extra): the detector runs the
exported weights in numpy (:mod:`pipeline.detect.cnn`). Fixed seed, two threads. The ports
are resampled to the network's 10 m ground pixels to train (:mod:`pipeline.detect.cnn_scale`);
the ships found are mapped back and scored against each port's own labels, as the detector
reports them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
from torch import nn
from torch.nn import functional as tfn

from pipeline.bench.cnn_card import model_card
from pipeline.bench.sen2ships import Port, port_folders, read_port, working_scale_ports
from pipeline.bench.ship_eval import (
    PEAK_CELLS,
    THRESHOLDS,
    EvalResult,
    evaluate_maps,
    maps_detections,
    write_failures,
)
from pipeline.bench.ship_samples import Sampler
from pipeline.detect.cnn import DEFAULT_CNN_PATH, LAYERS, ShipCnn, predict_maps
from pipeline.detect.cnn_inputs import level_water
from pipeline.detect.cnn_scale import WORKING_PIXEL_M

#: Seed of every random draw (patches, augmentation, initial weights).
SEED: Final = 16
#: Optimiser steps and patches per step.
STEPS: Final = 3000
BATCH: Final = 16
#: Adam's learning rate (cosine-decayed to zero) and weight decay.
LEARNING_RATE: Final = 3e-3
WEIGHT_DECAY: Final = 1e-4
#: Weight of the regression losses beside the heatmap's focal loss.
REG_WEIGHT: Final = 0.2
#: Weight of the hull head's loss (training only), and how much more a hull pixel counts
#: than a background one in it.
HULL_WEIGHT: Final = 0.5
HULL_POS_WEIGHT: Final = 5.0
#: Threads of one training (torch's intra-op pool). One: on a shared two-core machine two
#: threads spin on each other's barriers; the leave-one-port-out folds run two at a time
#: instead (:data:`WORKERS`), so training uses the two cores either way.
THREADS: Final = 1
#: Leave-one-port-out folds trained at once, each in its own process.
WORKERS: Final = 2


class Net(nn.Module):
    """The network of :data:`pipeline.detect.cnn.LAYERS`, in torch."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleDict(
            {
                s.name: nn.Conv2d(
                    s.c_in,
                    s.c_out,
                    s.kernel,
                    stride=s.stride,
                    padding=s.padding,
                    dilation=s.dilation,
                )
                for s in LAYERS
            }
        )
        # Batch normalisation after every ReLU layer while training; folded into the
        # convolution's weights and bias on export, so the numpy network has none.
        self.norms = nn.ModuleDict({s.name: nn.BatchNorm2d(s.c_out) for s in LAYERS if s.relu})
        # Training only: a hull mask predicted from the head's input, so that every hull
        # pixel teaches the shared layers, not only the centre cell. Not exported.
        self.hull = nn.Conv2d(LAYERS[-1].c_in, 1, 1)
        head = self.convs["head"]
        assert isinstance(head, nn.Conv2d)
        assert head.bias is not None
        with torch.no_grad():
            head.bias[0] = -4.0  # a rare positive class: start near p = 0.02

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw outputs ``(b, 7, h / 2, w / 2)`` (heat as a logit)."""
        out, _ = self.outputs_and_hulls(x)
        return out

    def outputs_and_hulls(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw outputs and the training-only hull logits ``(b, 1, h / 2, w / 2)``."""
        acts: dict[str, torch.Tensor] = {}
        *body, head = LAYERS
        for s in body:
            if s.name == "fuse":
                up = tfn.interpolate(acts["e5"], scale_factor=2.0, mode="nearest")
                x = torch.cat([up, acts["e2"]], dim=1)
            x = self.convs[s.name](x)
            if s.relu:
                x = torch.relu(self.norms[s.name](x))
            acts[s.name] = x
        # The head is a plain convolution (no ReLU); the hull head reads the same input.
        return self.convs[head.name](x), self.hull(x)

    def export(self, meta: dict[str, Any]) -> ShipCnn:
        """The numpy detector's weights, batch normalisation folded in (evaluation mode)."""
        weights: dict[str, np.ndarray[Any, np.dtype[np.float32]]] = {}
        with torch.no_grad():
            for s in LAYERS:
                conv = self.convs[s.name]
                assert isinstance(conv, nn.Conv2d)
                assert conv.bias is not None
                w, b = conv.weight.double(), conv.bias.double()
                if s.relu:
                    bn = self.norms[s.name]
                    assert isinstance(bn, nn.BatchNorm2d)
                    assert bn.running_mean is not None
                    assert bn.running_var is not None
                    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
                    w = w * scale[:, None, None, None]
                    b = (b - bn.running_mean.double()) * scale + bn.bias.double()
                weights[f"{s.name}.weight"] = w.float().numpy()
                weights[f"{s.name}.bias"] = b.float().numpy()
        return ShipCnn(weights, meta)


def hull_loss(hull_logits: torch.Tensor, hulls: torch.Tensor) -> Any:
    """Weighted binary cross-entropy of the hull head against :func:`render_hulls` masks."""
    return HULL_WEIGHT * tfn.binary_cross_entropy_with_logits(
        hull_logits[:, 0], hulls, pos_weight=torch.tensor(HULL_POS_WEIGHT)
    )


def level_ports(ports: Sequence[Port]) -> list[Port]:
    """The ports with their water levelled as the detector levels a chip (:func:`level_water`)."""
    return [replace(p, reflectance=level_water(p.reflectance, p.valid)) for p in ports]


def loss_fn(out: torch.Tensor, heat: torch.Tensor, reg: torch.Tensor, mask: torch.Tensor) -> Any:
    """CenterNet's focal loss on the heatmap plus L1 on the regressions at ship centres."""
    p = torch.sigmoid(out[:, 0]).clamp(1e-4, 1 - 1e-4)
    pos = heat >= 0.999
    pos_loss = -(torch.log(p) * (1 - p) ** 2)[pos].sum()
    neg_loss = -(torch.log(1 - p) * p**2 * (1 - heat) ** 4)[~pos].sum()
    n = pos.sum().clamp(min=1)
    focal = (pos_loss + neg_loss) / n
    m = mask[:, None].expand_as(reg)
    l1 = tfn.l1_loss(out[:, 1:][m], reg[m], reduction="sum") / n
    return focal + REG_WEIGHT * l1


def train(ports: Sequence[Port], *, steps: int, seed: int, log: str = "") -> Net:
    """Train a network on some ports (fixed seed, :data:`THREADS` threads)."""
    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    net = Net()
    sampler = Sampler(level_ports(ports), seed=seed)
    opt = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=LEARNING_RATE, total_steps=steps, pct_start=0.1
    )
    started = time.monotonic()
    running = 0.0
    for step in range(steps):
        b = sampler.batch(BATCH)
        out, hull_logits = net.outputs_and_hulls(torch.from_numpy(b.features))
        loss = loss_fn(
            out, torch.from_numpy(b.heat), torch.from_numpy(b.reg), torch.from_numpy(b.mask)
        ) + hull_loss(hull_logits, torch.from_numpy(b.hulls))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        value = float(loss.item())
        running = 0.98 * running + 0.02 * value if step else value
        if (step + 1) % 250 == 0:
            elapsed = time.monotonic() - started
            print(
                f"{log}step {step + 1}/{steps} loss {running:.3f} ({elapsed:.0f} s)",
                file=sys.stderr,
            )
    net.eval()
    return net


@dataclass(frozen=True)
class Lopo:
    """Held-out outputs of the leave-one-port-out trainings."""

    maps: dict[str, np.ndarray[Any, np.dtype[np.float32]]]
    """Each port's network outputs from the network trained without it."""
    seconds: float
    """Wall time of the six trainings."""


def working_maps(cnn: ShipCnn, working: Sequence[Port]) -> dict[str, np.ndarray[Any, Any]]:
    """The network's outputs for each port already on its working grid
    (:func:`working_scale_ports`)."""
    return {w.name: predict_maps(cnn, w.reflectance, w.valid) for w in working}


def _fold(
    ports: Sequence[Port], working: Sequence[Port], held: str, steps: int, seed: int
) -> np.ndarray[Any, Any]:
    """Train without port ``held`` and return its network outputs (one worker's job)."""
    port = next(p for p in ports if p.name == held)
    others = [w for w in working if w.name != held]
    net = train(others, steps=steps, seed=seed, log=f"LOPO {held}: ")
    maps = working_maps(net.export({}), [w for w in working if w.name == held])[held]
    score = evaluate_maps([port], {held: maps}, threshold=0.4, peak_cells=PEAK_CELLS[0])
    print(f"LOPO {held} at threshold 0.4: {score.overall.as_dict()}", file=sys.stderr)
    return maps


def run_lopo(ports: Sequence[Port], working: Sequence[Port], *, steps: int, seed: int) -> Lopo:
    """Train without each port in turn (:data:`WORKERS` at once) and keep the held-out
    port's outputs. ``working`` are the ``ports`` on the network's working grid. Each fold
    is seeded alike, so the result does not depend on the order."""
    started = time.monotonic()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx) as pool:
        jobs = {p.name: pool.submit(_fold, ports, working, p.name, steps, seed) for p in ports}
        maps = {name: job.result() for name, job in jobs.items()}
    return Lopo(maps, time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_CNN_PATH)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--lopo", action="store_true", help="score leave-one-port-out first")
    parser.add_argument("--failures", type=Path, default=None, help="folder for LOPO overlays")
    parser.add_argument("--no-final", action="store_true", help="LOPO only, write no weights")
    parser.add_argument(
        "--maps-out", type=Path, default=None, help=".npz for the held-out outputs (with --lopo)"
    )
    args = parser.parse_args(argv)
    ports = [read_port(f) for f in port_folders(args.dataset_dir)]
    working = working_scale_ports(ports)
    threshold, peak_cells = 0.4, PEAK_CELLS[0]
    lopo_doc: dict[str, Any] | None = None
    if args.lopo:
        lopo = run_lopo(ports, working, steps=args.steps, seed=args.seed)
        results = {
            (t, k): evaluate_maps(ports, lopo.maps, threshold=t, peak_cells=k)
            for t in THRESHOLDS
            for k in PEAK_CELLS
        }
        for (t, k), r in sorted(results.items()):
            o = r.overall
            print(f"threshold {t} peaks {k}: P {o.precision:.3f} R {o.recall:.3f} F1 {o.f1:.3f}")
        threshold, peak_cells = max(results, key=lambda key: results[key].overall.f1)
        best: EvalResult = results[(threshold, peak_cells)]
        lopo_doc = {**best.as_dict(), "seconds": round(lopo.seconds, 1)}
        print(json.dumps(lopo_doc, indent=1))
        if args.maps_out is not None:
            np.savez_compressed(args.maps_out, allow_pickle=False, **lopo.maps)
        if args.failures is not None:
            dets = maps_detections(ports, lopo.maps, threshold=threshold, peak_cells=peak_cells)
            write_failures(ports, dets, args.failures)
    if args.no_final:
        return 0
    started = time.monotonic()
    net = train(working, steps=args.steps, seed=args.seed, log="final: ")
    seconds = time.monotonic() - started
    weights = net.export({}).weights
    command = f"python -m pipeline.bench.train_cnn ../shared/datasets/{args.dataset_dir.name}"
    if args.lopo:
        command += " --lopo"
    if args.steps != STEPS:
        command += f" --steps {args.steps}"
    if args.seed != SEED:
        command += f" --seed {args.seed}"
    meta: dict[str, Any] = {
        "threshold": threshold,
        "peak_cells": peak_cells,
        "data": f"{len(ports)} ports ({', '.join(p.name for p in ports)}), "
        f"{sum(len(p.boxes) for p in ports)} labelled ships",
        "command": command,
        "date": dt.date.today().isoformat(),
        "seed": args.seed,
        "steps": args.steps,
        "batch": BATCH,
        "patch": 96,
        "working_pixel_m": WORKING_PIXEL_M,
        "torch": torch.__version__,
        "train_seconds": round(seconds, 1),
        "parameters": sum(int(w.size) for w in weights.values()),
        "lopo": lopo_doc,
    }
    final_maps = working_maps(ShipCnn(weights, {}), working)
    in_sample = evaluate_maps(ports, final_maps, threshold=threshold, peak_cells=peak_cells)
    meta["in_sample"] = in_sample.as_dict()
    cnn = ShipCnn(weights, meta)
    cnn.save(args.out)
    args.out.with_suffix(".md").write_text(model_card(meta, workers=WORKERS))
    print(f"wrote {args.out} and its model card", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

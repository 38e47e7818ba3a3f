"""Training samples for the learned ship detector: targets, stamps and augmentation.

Plain numpy/scipy (no training framework), so that tests can check the augmentation
without PyTorch. :mod:`pipeline.bench.train_cnn` turns the batches into tensors.

A sample is a ``PATCH``-pixel square cut from a labelled port, with every ship in it as
a :class:`Target`. Augmentation, in order:

1. cut-and-paste: hulls cut from the training ports' labels (their segmentation masks)
   are pasted on open water and flush along quays (the orientation of the eight that
   puts the least of the hull on land);
2. the eight flips and rotations;
3. a sub-pixel shift;
4. a brightness gain (global and per band), a per-band offset and pixel noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.bench.sen2ships import Port
from pipeline.detect.candidates import extent_px
from pipeline.detect.cnn import OUTPUTS, STRIDE
from pipeline.detect.cnn_inputs import input_features

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

#: Side of a training patch, pixels (a multiple of 4).
PATCH: Final = 96
#: Share of patches centred near a labelled ship (the rest are anywhere).
SHIP_CENTRED: Final = 0.6
#: Chance that a patch receives pasted hulls, and how many at most.
PASTE_CHANCE: Final = 0.6
MAX_PASTES: Final = 2
#: Water pixels this far from land (pixels) are "along a quay" for pasting.
QUAY_DISTANCE_PX: Final = (1.5, 3.5)
#: Water pixels at least this far from land are open water for pasting.
OPEN_WATER_DISTANCE_PX: Final = 6.0
#: Photometric jitter: log-normal gain (global, per band), per-band offset, noise.
GAIN_SIGMA: Final = 0.15
BAND_GAIN_SIGMA: Final = 0.05
OFFSET: Final = 0.01
NOISE: Final = 0.004


@dataclass(frozen=True)
class Target:
    """One ship in a patch, pixel coordinates (pixel ``i``'s centre is ``i``)."""

    row: float
    """Centre row."""
    col: float
    """Centre column."""
    length_px: float
    """Length along the hull."""
    width_px: float
    """Width across it."""
    heading_deg: float
    """Hull axis, degrees clockwise from grid north, in ``[0, 180)``."""


def _axis(rows: NDArray[np.intp], cols: NDArray[np.intp]) -> float:
    """Heading of a pixel set's major axis (as :func:`pipeline.detect.ships.measure`)."""
    if len(rows) < 2:
        return 0.0
    vals, vecs = np.linalg.eigh(np.cov(np.vstack([rows, cols]).astype(np.float64)))
    d_row, d_col = vecs[:, int(np.argmax(vals))]
    return math.degrees(math.atan2(d_col, -d_row)) % 180.0


def ship_pixels(port: Port, box: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The labelled hull's pixels: its segmentation inside its box (the box if none)."""
    x, y, w, h = box
    r0, c0 = max(0, math.floor(y)), max(0, math.floor(x))
    r1, c1 = math.ceil(y + h), math.ceil(x + w)
    rr, cc = np.nonzero(port.ship_mask[r0:r1, c0:c1])
    if len(rr) < 2:
        rr, cc = np.nonzero(np.ones((r1 - r0, c1 - c0), dtype=bool))
    return rr + r0, cc + c0


def port_targets(port: Port) -> list[Target]:
    """Every labelled ship of a port as a :class:`Target`."""
    out = []
    for box in port.boxes:
        rr, cc = ship_pixels(port, box)
        length, width = extent_px(rr, cc)
        out.append(Target(float(rr.mean()), float(cc.mean()), length, width, _axis(rr, cc)))
    return out


@dataclass(frozen=True, eq=False)
class Stamp:
    """A hull cut from a label, to paste elsewhere."""

    pixels: F32
    """``(5, rows, cols)`` reflectance of its box."""
    mask: Mask
    """Its hull pixels within the box."""
    target: Target
    """Its geometry, relative to the box's top-left pixel."""


def port_stamps(port: Port) -> list[Stamp]:
    """Stamps of a port's labelled hulls (those with a segmentation mask)."""
    out = []
    for box, target in zip(port.boxes, port_targets(port), strict=True):
        rr, cc = ship_pixels(port, box)
        r0, c0, r1, c1 = rr.min(), cc.min(), rr.max() + 1, cc.max() + 1
        mask = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        mask[rr - r0, cc - c0] = True
        if not port.ship_mask[rr, cc].any():
            continue
        pixels = port.reflectance[:, r0:r1, c0:c1].copy()
        out.append(Stamp(pixels, mask, replace(target, row=target.row - r0, col=target.col - c0)))
    return out


def dihedral(
    image: NDArray[np.generic], targets: Sequence[Target], k: int
) -> tuple[NDArray[np.generic], list[Target]]:
    """Element ``k`` (0–7) of the eight flips and rotations, applied to an image's last two
    axes and to its targets."""
    flip_c, transpose, flip_r = bool(k & 1), bool(k & 2), bool(k & 4)
    rows, cols = image.shape[-2:]
    out_t = []
    for t in targets:
        r, c = t.row, t.col
        th = math.radians(t.heading_deg)
        dr, dc = -math.cos(th), math.sin(th)
        if flip_c:
            c, dc = cols - 1 - c, -dc
        if transpose:
            r, c, dr, dc = c, r, dc, dr
        if flip_r:
            r, dr = (cols if transpose else rows) - 1 - r, -dr
        heading = math.degrees(math.atan2(dc, -dr)) % 180.0
        out_t.append(replace(t, row=r, col=c, heading_deg=heading))
    img = image
    if flip_c:
        img = img[..., ::-1]
    if transpose:
        img = np.swapaxes(img, -1, -2)
    if flip_r:
        img = img[..., ::-1, :]
    return np.ascontiguousarray(img), out_t


def paste(
    refl: F32,
    water: Mask,
    targets: list[Target],
    stamp: Stamp,
    rng: np.random.Generator,
    *,
    quay: bool,
) -> bool:
    """Paste a stamp on open water or along a quay, in place; its target is appended.

    Returns:
        Whether a site was found (a site is a water pixel at the right distance from
        land, away from other ships, where the orientation with least hull on land puts
        at most a tenth of it there).
    """
    land_dist = ndi.distance_transform_edt(water)
    lo, hi = QUAY_DISTANCE_PX if quay else (OPEN_WATER_DISTANCE_PX, math.inf)
    sites = np.argwhere((land_dist >= lo) & (land_dist <= hi))
    if not len(sites):
        return False
    rows, cols = water.shape
    for r, c in sites[rng.permutation(len(sites))[:20]]:
        if any(abs(t.row - r) + abs(t.col - c) < 12 for t in targets):
            continue
        best: tuple[float, int] | None = None
        for k in range(8):
            m, [t] = dihedral(stamp.mask, [stamp.target], k)
            r0, c0 = round(r - t.row), round(c - t.col)
            if r0 < 0 or c0 < 0 or r0 + m.shape[0] > rows or c0 + m.shape[1] > cols:
                continue
            on_land = float(np.mean(~water[r0 : r0 + m.shape[0], c0 : c0 + m.shape[1]][m]))
            if best is None or on_land < best[0]:
                best = (on_land, k)
        if best is None or best[0] > 0.1:
            continue
        k = best[1]
        m, [t] = dihedral(stamp.mask, [stamp.target], k)
        px, _ = dihedral(stamp.pixels, [], k)
        r0, c0 = round(r - t.row), round(c - t.col)
        window = refl[:, r0 : r0 + m.shape[0], c0 : c0 + m.shape[1]]
        window[:, m] = px[:, m]
        targets.append(replace(t, row=t.row + r0, col=t.col + c0))
        return True
    return False


def crop(port: Port, targets: Sequence[Target], r0: int, c0: int) -> tuple[F32, Mask, list[Target]]:
    """A ``PATCH`` square of a port from ``(r0, c0)`` (zero-padded past its edges)."""
    refl = np.zeros((5, PATCH, PATCH), dtype=np.float32)
    valid = np.zeros((PATCH, PATCH), dtype=bool)
    rows, cols = port.valid.shape
    sr0, sc0 = max(r0, 0), max(c0, 0)
    sr1, sc1 = min(r0 + PATCH, rows), min(c0 + PATCH, cols)
    refl[:, sr0 - r0 : sr1 - r0, sc0 - c0 : sc1 - c0] = port.reflectance[:, sr0:sr1, sc0:sc1]
    valid[sr0 - r0 : sr1 - r0, sc0 - c0 : sc1 - c0] = port.valid[sr0:sr1, sc0:sc1]
    inside = [
        replace(t, row=t.row - r0, col=t.col - c0)
        for t in targets
        if r0 - 0.5 <= t.row < r0 + PATCH - 0.5 and c0 - 0.5 <= t.col < c0 + PATCH - 0.5
    ]
    return refl, valid, inside


def render_targets(targets: Sequence[Target], size: int) -> tuple[F32, F32, Mask]:
    """Heatmap, regression targets and regression mask on the output grid.

    Returns:
        ``heat`` ``(n, n)`` (Gaussian peaks of 1 at each centre cell), ``reg``
        ``(6, n, n)`` (the regression channels of :data:`OUTPUTS`) and ``mask``
        ``(n, n)`` (the centre cells), with ``n = size / STRIDE``.
    """
    n = size // STRIDE
    heat = np.zeros((n, n), dtype=np.float32)
    reg = np.zeros((len(OUTPUTS) - 1, n, n), dtype=np.float32)
    mask = np.zeros((n, n), dtype=bool)
    yy, xx = np.mgrid[0:n, 0:n]
    for t in targets:
        fr, fc = (t.row + 0.5) / STRIDE, (t.col + 0.5) / STRIDE
        i, j = min(max(int(fr), 0), n - 1), min(max(int(fc), 0), n - 1)
        sigma = max(0.75, t.length_px / STRIDE / 6.0)
        g = np.exp(-((yy - i) ** 2 + (xx - j) ** 2) / (2 * sigma * sigma))
        np.maximum(heat, g.astype(np.float32), out=heat)
        two = math.radians(2 * t.heading_deg)
        reg[:, i, j] = (
            fr - (i + 0.5),
            fc - (j + 0.5),
            math.log(max(t.length_px, 1.0)),
            math.log(max(t.width_px, 1.0)),
            math.cos(two),
            math.sin(two),
        )
        mask[i, j] = True
    return heat, reg, mask


def render_hulls(targets: Sequence[Target], size: int) -> F32:
    """The ships' hull rectangles on the output grid: 1 inside a hull, 0 elsewhere.

    The target of the training-only hull head (:mod:`pipeline.bench.train_cnn`): every
    pixel of a hull is supervised, not only its centre cell.
    """
    n = size // STRIDE
    centres = (np.arange(n, dtype=np.float32) + 0.5) * STRIDE - 0.5
    rr, cc = np.meshgrid(centres, centres, indexing="ij")
    hulls = np.zeros((n, n), dtype=np.float32)
    for t in targets:
        heading = math.radians(t.heading_deg)
        along_r, along_c = -math.cos(heading), math.sin(heading)
        dr, dc = rr - t.row, cc - t.col
        along = dr * along_r + dc * along_c
        across = -dr * along_c + dc * along_r
        inside = (np.abs(along) <= t.length_px / 2 + 0.5) & (np.abs(across) <= t.width_px / 2 + 0.5)
        hulls[inside] = 1.0
    return hulls


@dataclass(frozen=True, eq=False)
class Batch:
    """Network inputs and targets of a batch, as numpy arrays."""

    features: F32
    """``(b, 7, PATCH, PATCH)``."""
    heat: F32
    """``(b, PATCH / 2, PATCH / 2)``."""
    reg: F32
    """``(b, 6, PATCH / 2, PATCH / 2)``."""
    mask: Mask
    """``(b, PATCH / 2, PATCH / 2)``."""
    hulls: F32
    """``(b, PATCH / 2, PATCH / 2)``: :func:`render_hulls`."""


class Sampler:
    """Draws augmented training batches from some ports, reproducibly from a seed."""

    def __init__(self, ports: Sequence[Port], *, seed: int, augment: bool = True) -> None:
        self.ports = list(ports)
        self.targets = [port_targets(p) for p in self.ports]
        self.stamps = [s for p in self.ports for s in port_stamps(p)]
        self.rng = np.random.default_rng(seed)
        self.augment = augment

    def sample(self) -> tuple[F32, Mask, list[Target]]:
        """One augmented patch: reflectance, validity and its ships."""
        rng = self.rng
        i = int(rng.integers(len(self.ports)))
        port, targets = self.ports[i], self.targets[i]
        rows, cols = port.valid.shape
        if targets and rng.random() < SHIP_CENTRED:
            t = targets[int(rng.integers(len(targets)))]
            r0 = round(t.row) - PATCH // 2 + int(rng.integers(-30, 31))
            c0 = round(t.col) - PATCH // 2 + int(rng.integers(-30, 31))
        else:
            r0 = int(rng.integers(-PATCH // 4, max(rows - 3 * PATCH // 4, 1)))
            c0 = int(rng.integers(-PATCH // 4, max(cols - 3 * PATCH // 4, 1)))
        refl, valid, inside = crop(port, targets, r0, c0)
        if not self.augment:
            return refl, valid, inside
        if self.stamps and rng.random() < PASTE_CHANCE:
            water = (refl[1] > refl[3]) & valid
            for _ in range(int(rng.integers(1, MAX_PASTES + 1))):
                stamp = self.stamps[int(rng.integers(len(self.stamps)))]
                paste(refl, water, inside, stamp, rng, quay=bool(rng.random() < 0.6))
        k = int(rng.integers(8))
        refl_t, inside = dihedral(refl, inside, k)
        valid_t, _ = dihedral(valid, [], k)
        refl, valid = refl_t.astype(np.float32), valid_t.astype(bool)
        shift = rng.uniform(-0.5, 0.5, size=2)
        refl = ndi.shift(refl, (0.0, *shift), order=1, mode="nearest").astype(np.float32)
        inside = [replace(t, row=t.row + shift[0], col=t.col + shift[1]) for t in inside]
        gain = np.exp(rng.normal(0, GAIN_SIGMA) + rng.normal(0, BAND_GAIN_SIGMA, size=5))
        offset = rng.uniform(-OFFSET, OFFSET, size=5)
        refl = refl * gain[:, None, None].astype(np.float32)
        refl += offset[:, None, None].astype(np.float32)
        refl += rng.normal(0, NOISE, size=refl.shape).astype(np.float32)
        np.clip(refl, 0.0, None, out=refl)
        return refl, valid, inside

    def batch(self, size: int) -> Batch:
        """``size`` augmented patches with their rendered targets."""
        feats, heats, regs, masks, hulls = [], [], [], [], []
        for _ in range(size):
            refl, valid, inside = self.sample()
            feats.append(input_features(refl, valid))
            heat, reg, mask = render_targets(inside, PATCH)
            heats.append(heat)
            regs.append(reg)
            masks.append(mask)
            hulls.append(render_hulls(inside, PATCH))
        return Batch(
            np.stack(feats), np.stack(heats), np.stack(regs), np.stack(masks), np.stack(hulls)
        )

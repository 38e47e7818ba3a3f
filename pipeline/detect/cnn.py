"""The learned single-date ship detector: a small heatmap CNN run in plain numpy.

A CenterNet-style network reads the five reflectance bands, with the chip's open water
levelled to one reference (:mod:`pipeline.detect.cnn_inputs`), plus two water indices and
predicts, on a grid of half the chip's resolution (:data:`STRIDE`), the chance that a
ship's centre lies in each cell, the centre's offset inside the cell, and the ship's
length, width and heading. Ships are the local maxima of that heatmap above the model
file's threshold.

Only numpy and scipy run it: the weights (``ship_cnn.npz``, trained by
:mod:`pipeline.bench.train_cnn` with PyTorch, which is needed only for training) are
plain arrays and :func:`forward` is the network written as matrix products (the 3 × 3
stride-1 layers as nine products on shifted views of the flattened image, no im2col).
Its model card is ``ship_cnn.md`` beside the weights.

Layers (:data:`LAYERS`): a 2 × 2 patch embedding and a 3 × 3 convolution at half
resolution, three more at a quarter (the last two dilated 2 and 4, so a cell sees ~600 m
of quay and water), nearest upsampling, a skip connection from the half-resolution
features, and 1 × 1 convolutions to the seven outputs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from pipeline.detect.cnn_inputs import INPUT_CHANNELS, input_features, level_water

F32 = NDArray[np.float32]

#: Whether the flows count with the learned detector (chips without a reference, usually
#: occupied berths). Off: its leave-one-port-out F1 on sen2ships-dev is below the older
#: detector's (``ship_cnn.md``); switch it on, and :func:`pipeline.detect.analyse.detector_version`
#: changes, once a model beats it.
LEARNED_IN_PRODUCT: Final = False
#: The committed weights (see ``ship_cnn.md`` beside them).
DEFAULT_CNN_PATH: Final = Path(__file__).with_name("ship_cnn.npz")
#: Output cells are this many input pixels a side.
STRIDE: Final = 2
#: The input is padded to a multiple of this (two stride-2 layers).
INPUT_MULTIPLE: Final = 4
#: Output channels: heat logit, row and column offset (cells), log length and log width
#: (input pixels), cos 2θ and sin 2θ of the heading θ.
OUTPUTS: Final = ("heat", "d_row", "d_col", "log_length", "log_width", "cos2h", "sin2h")


@dataclass(frozen=True)
class ConvSpec:
    """One convolution of the network."""

    name: str
    """Key of its weights (``{name}.weight``, ``{name}.bias``)."""
    c_in: int
    """Input channels."""
    c_out: int
    """Output channels."""
    kernel: int
    """Kernel side: 1, 3, or 2 (stride 2, no overlap: a patch embedding)."""
    stride: int = 1
    """Step between outputs."""
    dilation: int = 1
    """Spacing of the kernel's taps."""
    relu: bool = True
    """Whether a ReLU follows."""

    def __post_init__(self) -> None:
        if (self.kernel, self.stride) not in ((1, 1), (2, 2), (3, 1), (3, 2)):
            raise ValueError(
                f"layer {self.name}: kernel {self.kernel} with stride {self.stride} is not "
                "supported (1 or 3 at stride 1, 2 or 3 at stride 2)"
            )

    @property
    def padding(self) -> int:
        """Zero padding on each side ("same" size at stride 1)."""
        return self.dilation * (self.kernel // 2) if self.kernel != 2 else 0


#: The network, in order. ``fuse`` reads the upsampled ``e5`` concatenated with ``e2``.
LAYERS: Final = (
    ConvSpec("e1", INPUT_CHANNELS, 16, 2, stride=2),
    ConvSpec("e2", 16, 12, 3),
    ConvSpec("e3", 12, 24, 3, stride=2),
    ConvSpec("e4", 24, 24, 3, dilation=2),
    ConvSpec("e5", 24, 24, 3, dilation=4),
    ConvSpec("fuse", 36, 16, 1),
    ConvSpec("head", 16, len(OUTPUTS), 1, relu=False),
)


@dataclass(frozen=True, eq=False)
class ShipCnn:
    """Weights and decoding settings of the learned detector."""

    weights: dict[str, F32]
    """``{layer}.weight`` ``(c_out, c_in, k, k)`` and ``{layer}.bias`` ``(c_out,)``."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Decoding settings (``threshold``, ``peak_cells``) and provenance."""

    def __post_init__(self) -> None:
        for spec in LAYERS:
            w = self.weights.get(f"{spec.name}.weight")
            b = self.weights.get(f"{spec.name}.bias")
            want = (spec.c_out, spec.c_in, spec.kernel, spec.kernel)
            if w is None or b is None or w.shape != want or b.shape != (spec.c_out,):
                raise ValueError(f"ship CNN weights lack layer {spec.name} of shape {want}")

    @property
    def threshold(self) -> float:
        """Minimum heat probability of a detection."""
        return float(self.meta.get("threshold", 0.5))

    @property
    def peak_cells(self) -> int:
        """Side of the window (output cells) in which a peak must be the maximum."""
        return int(self.meta.get("peak_cells", 3))

    def save(self, path: Path) -> None:
        """Write the weights and ``meta`` (as JSON) to one ``.npz`` file."""
        arrays: dict[str, NDArray[Any]] = {
            k: np.asarray(v, dtype=np.float32) for k, v in self.weights.items()
        }
        arrays["__meta__"] = np.frombuffer(
            json.dumps(self.meta, sort_keys=True).encode(), dtype=np.uint8
        )
        with path.open("wb") as f:
            np.savez_compressed(f, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Path) -> ShipCnn:
        """Read a file written by :meth:`save`.

        Raises:
            ValueError: When the file lacks a layer or a layer has the wrong shape.
        """
        with np.load(path) as doc:
            meta = json.loads(bytes(doc["__meta__"]).decode())
            weights = {k: doc[k].astype(np.float32) for k in doc.files if k != "__meta__"}
        return cls(weights, meta)


@lru_cache(maxsize=4)
def load_cnn(path: Path = DEFAULT_CNN_PATH) -> ShipCnn:
    """The learned detector, read once per path."""
    return ShipCnn.load(path)


def _conv(x: F32, w: F32, b: F32, spec: ConvSpec) -> F32:
    """One convolution as torch's ``Conv2d`` computes it (cross-correlation, zero padding)."""
    c_in, rows, cols = x.shape
    if spec.kernel == 1:
        y = w.reshape(spec.c_out, c_in) @ x.reshape(c_in, rows * cols)
        out = y.reshape(spec.c_out, rows, cols)
    elif spec.kernel == 2:
        half_r, half_c = rows // 2, cols // 2
        patches = x.reshape(c_in, half_r, 2, half_c, 2).transpose(0, 2, 4, 1, 3)
        y = w.reshape(spec.c_out, 4 * c_in) @ patches.reshape(4 * c_in, half_r * half_c)
        out = y.reshape(spec.c_out, half_r, half_c)
    elif spec.stride == 1:
        out = _conv3_same(x, w, spec.dilation)
    else:
        p, d, s = spec.padding, spec.dilation, spec.stride
        xp = np.pad(x, ((0, 0), (p, p), (p, p)))
        out_r = (rows + 2 * p - 2 * d - 1) // s + 1
        out_c = (cols + 2 * p - 2 * d - 1) // s + 1
        taps = np.empty((3, 3, c_in, out_r, out_c), dtype=np.float32)
        for i in range(3):
            for j in range(3):
                r0, c0 = i * d, j * d
                taps[i, j] = xp[
                    :, r0 : r0 + s * (out_r - 1) + 1 : s, c0 : c0 + s * (out_c - 1) + 1 : s
                ]
        # Torch's weight layout is (out, in, ki, kj); the taps are (ki, kj, in).
        wm = w.transpose(0, 2, 3, 1).reshape(spec.c_out, 9 * c_in)
        out = (wm @ taps.reshape(9 * c_in, out_r * out_c)).reshape(spec.c_out, out_r, out_c)
    out += b[:, None, None]
    if spec.relu:
        np.maximum(out, 0, out=out)
    return out.astype(np.float32, copy=False)


def _conv3_same(x: F32, w: F32, dilation: int) -> F32:
    """A 3 × 3 stride-1 convolution with "same" zero padding, without an im2col copy.

    The padded image is flattened row by row, so the input under each of the nine taps is
    one contiguous slice of it, offset by the tap's position: nine matrix products on
    views, summed. Each output row then carries ``2 · dilation`` columns of wrap-around
    that are cropped at the end.
    """
    c_in, rows, cols = x.shape
    c_out, d = w.shape[0], dilation
    width = cols + 2 * d
    n_out = rows * width
    flat = np.zeros((c_in, (rows + 2 * d) * width + 2 * d), dtype=np.float32)
    grid = flat[:, : (rows + 2 * d) * width].reshape(c_in, rows + 2 * d, width)
    grid[:, d : d + rows, d : d + cols] = x
    taps = np.ascontiguousarray(w.transpose(2, 3, 0, 1))  # (ki, kj, out, in)
    out = np.empty((c_out, n_out), dtype=np.float32)
    part = np.empty_like(out)
    for i in range(3):
        for j in range(3):
            offset = i * d * width + j * d
            np.matmul(taps[i, j], flat[:, offset : offset + n_out], out=part if i or j else out)
            if i or j:
                out += part
    return np.ascontiguousarray(out.reshape(c_out, rows, width)[:, :, :cols])


def _fuse(deep: F32, skip: F32, w: F32, b: F32, spec: ConvSpec) -> F32:
    """The 1 × 1 convolution of ``concat(upsample(deep), skip)``.

    A 1 × 1 convolution is linear per pixel and nearest upsampling copies pixels, so the
    deep part is convolved at its own (quarter) resolution and then upsampled: the same
    numbers as torch's upsample-concatenate-convolve, at a fraction of the cost.
    """
    n_deep = deep.shape[0]
    c_out, rows, cols = spec.c_out, skip.shape[1], skip.shape[2]
    wm = w.reshape(c_out, spec.c_in)
    low = (wm[:, :n_deep] @ deep.reshape(n_deep, -1)).reshape(c_out, *deep.shape[1:])
    out = (wm[:, n_deep:] @ skip.reshape(skip.shape[0], -1)).reshape(c_out, rows, cols)
    out.reshape(c_out, rows // 2, 2, cols // 2, 2)[...] += low[:, :, None, :, None]
    out += b[:, None, None]
    np.maximum(out, 0, out=out)
    return out.astype(np.float32, copy=False)


def forward(cnn: ShipCnn, features: F32) -> F32:
    """The network's raw outputs on ``(7, rows, cols)`` features.

    ``rows`` and ``cols`` must be multiples of :data:`INPUT_MULTIPLE`.

    Returns:
        ``(7, rows / 2, cols / 2)``: the channels of :data:`OUTPUTS` (heat as a logit).

    Raises:
        ValueError: When the input has the wrong channels or size.
    """
    if features.ndim != 3 or features.shape[0] != INPUT_CHANNELS:
        raise ValueError(f"features must be ({INPUT_CHANNELS}, rows, cols), got {features.shape}")
    if features.shape[1] % INPUT_MULTIPLE or features.shape[2] % INPUT_MULTIPLE:
        raise ValueError(f"feature rows and cols must be multiples of {INPUT_MULTIPLE}")
    acts: dict[str, F32] = {}
    x = features.astype(np.float32, copy=False)
    for spec in LAYERS:
        w, b = cnn.weights[f"{spec.name}.weight"], cnn.weights[f"{spec.name}.bias"]
        if spec.name == "fuse":
            x = _fuse(acts["e5"], acts["e2"], w, b, spec)
        else:
            x = _conv(x, w, b, spec)
        acts[spec.name] = x
    return x


def predict_maps(cnn: ShipCnn, reflectance: F32, valid: NDArray[np.bool_] | None = None) -> F32:
    """Network outputs for a chip of any size (water levelled by :func:`level_water`,
    padded to :data:`INPUT_MULTIPLE`, cropped back).

    Returns:
        ``(7, ceil(rows / 2), ceil(cols / 2))`` with the heat channel as a probability.
    """
    feats = input_features(level_water(reflectance, valid), valid)
    _, rows, cols = feats.shape
    pad_r, pad_c = -rows % INPUT_MULTIPLE, -cols % INPUT_MULTIPLE
    feats = np.pad(feats, ((0, 0), (0, pad_r), (0, pad_c)))
    out = forward(cnn, feats)[:, : math.ceil(rows / STRIDE), : math.ceil(cols / STRIDE)]
    out[0] = 1.0 / (1.0 + np.exp(-np.clip(out[0], -30, 30)))
    return out


@dataclass(frozen=True)
class Peak:
    """One decoded ship, in input pixels."""

    row: float
    """Centre row (pixel indices: pixel ``i``'s centre is ``i``)."""
    col: float
    """Centre column."""
    length_px: float
    """Length along the hull."""
    width_px: float
    """Width across it."""
    heading_deg: float
    """Hull axis, degrees clockwise from grid north, in ``[0, 180)``."""
    score: float
    """Heat probability at the peak."""


def decode(
    maps: F32,
    *,
    threshold: float,
    peak_cells: int = 3,
    valid: NDArray[np.bool_] | None = None,
) -> list[Peak]:
    """Ships from :func:`predict_maps` output: heat peaks at or above ``threshold``.

    Args:
        maps: ``(7, out_rows, out_cols)`` outputs, heat as a probability.
        threshold: Minimum heat probability.
        peak_cells: A peak is the maximum of a window this many cells a side.
        valid: Input pixels with data: peaks whose centre has none are dropped.

    Returns:
        Peaks by decreasing score.
    """
    heat = maps[0]
    local_max = ndi.maximum_filter(heat, size=peak_cells, mode="constant", cval=0.0)
    cells_r, cells_c = np.nonzero((heat >= local_max) & (heat >= threshold))
    peaks = []
    for i, j in zip(cells_r.tolist(), cells_c.tolist(), strict=True):
        row = STRIDE * (i + 0.5 + float(maps[1, i, j])) - 0.5
        col = STRIDE * (j + 0.5 + float(maps[2, i, j])) - 0.5
        if valid is not None:
            r = min(max(round(row), 0), valid.shape[0] - 1)
            c = min(max(round(col), 0), valid.shape[1] - 1)
            if not valid[r, c]:
                continue
        length = float(np.exp(np.clip(maps[3, i, j], -1.0, 5.5)))
        width = min(length, float(np.exp(np.clip(maps[4, i, j], -1.0, 4.5))))
        heading = math.degrees(math.atan2(float(maps[6, i, j]), float(maps[5, i, j])) / 2) % 180
        peaks.append(Peak(row, col, length, width, heading, float(heat[i, j])))
    return sorted(peaks, key=lambda p: -p.score)

"""PNG overlays of bench results: labels and detections on a true-colour crop.

Green box: label found; red box: label missed; green ring: true detection; magenta
ring: false alarm. Used to look at the worst failures (``data/ship-failures/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from pipeline.bench.matching import matched_pairs
from pipeline.detect.detection import Detection

#: Reflectance shown as full white in the true-colour stretch.
WHITE_REFLECTANCE: Final = 0.25
#: Gamma of the stretch (brightens dark water so hulls stand out).
GAMMA: Final = 0.6


def true_colour(reflectance: NDArray[np.float32]) -> NDArray[np.uint8]:
    """``(rows, cols, 3)`` 8-bit true-colour image of a ``(5, rows, cols)`` stack."""
    rgb = np.stack([reflectance[2], reflectance[1], reflectance[0]], axis=-1)
    scaled = np.clip(rgb / WHITE_REFLECTANCE, 0, 1) ** GAMMA
    out: NDArray[np.uint8] = (scaled * 255).astype(np.uint8)
    return out


def draw_overlay(
    reflectance: NDArray[np.float32],
    boxes: NDArray[np.float64],
    detections: Sequence[Detection],
    out: Path,
    *,
    window: tuple[int, int, int, int] | None = None,
    zoom: int = 3,
) -> None:
    """Write a PNG of labels and detections over a true-colour window.

    Args:
        reflectance: ``(5, rows, cols)`` stack.
        boxes: Labels ``[x, y, w, h]``.
        detections: The detector's output.
        out: PNG path (its folder is created).
        window: ``(row0, col0, row1, col1)`` to crop (default: everything).
        zoom: Integer magnification.
    """
    rows, cols = reflectance.shape[1:]
    r0, c0, r1, c1 = window if window is not None else (0, 0, rows, cols)
    img = Image.fromarray(true_colour(reflectance)[r0:r1, c0:c1])
    img = img.resize(((c1 - c0) * zoom, (r1 - r0) * zoom), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(img)
    cents = np.array([[d.row, d.col] for d in detections], dtype=np.float64).reshape(-1, 2)
    pairs = matched_pairs(cents, boxes)
    hit_det = {d for d, _ in pairs}
    hit_lab = {lab for _, lab in pairs}
    for i, (x, y, w, h) in enumerate(boxes):
        colour = (0, 255, 0) if i in hit_lab else (255, 0, 0)
        draw.rectangle(
            [
                (x - c0 - 0.5) * zoom,
                (y - r0 - 0.5) * zoom,
                (x + w - c0 - 0.5) * zoom,
                (y + h - r0 - 0.5) * zoom,
            ],
            outline=colour,
        )
    for i, d in enumerate(detections):
        colour = (0, 255, 0) if i in hit_det else (255, 0, 255)
        x, y = (d.col - c0) * zoom, (d.row - r0) * zoom
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=colour, width=2)
        corners = [((c - c0) * zoom, (r - r0) * zoom) for r, c in d.outline]
        draw.polygon(corners, outline=(0, 200, 255))
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)

"""Score detections against labelled boxes, the way ``rasonwatch bench ships`` scores them.

A detection matches a label when its centroid lies inside the label's bbox grown by
:data:`MATCH_MARGIN_PX` on each side. Each label matches at most one detection and each
detection at most one label; among all such one-to-one pairings the largest is taken
(a maximum bipartite matching), so the score does not depend on detection order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from pipeline.detect.detection import Detection

#: Pixels added on each side of a label's bbox before testing a centroid.
MATCH_MARGIN_PX: Final = 2.0


@dataclass(frozen=True)
class PortScore:
    """Detection counts of one port (or of several, summed)."""

    tp: int
    """Detections matched to a label."""
    fp: int
    """Detections matched to no label."""
    fn: int
    """Labels matched by no detection."""

    @property
    def precision(self) -> float:
        """``tp / (tp + fp)``, 0 when nothing was detected."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """``tp / (tp + fn)``, 0 when there is no label."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall, 0 when both are 0."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """The JSON form ``bench ships --json`` prints (metrics rounded to 4 decimals)."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def match_matrix(
    centroids: NDArray[np.float64], boxes: NDArray[np.float64], *, margin: float = MATCH_MARGIN_PX
) -> NDArray[np.bool_]:
    """Which detection centroid may match which label.

    Args:
        centroids: ``(n, 2)`` detection centroids as ``(row, col)``.
        boxes: ``(m, 4)`` labels as ``[x, y, w, h]`` in pixels.
        margin: Pixels the bbox grows by on each side.

    Returns:
        ``(n, m)`` boolean matrix.
    """
    rows = centroids[:, 0:1]
    cols = centroids[:, 1:2]
    x, y, w, h = (boxes[:, i][None, :] for i in range(4))
    inside: NDArray[np.bool_] = (
        (cols >= x - margin)
        & (cols <= x + w + margin)
        & (rows >= y - margin)
        & (rows <= y + h + margin)
    )
    return inside


def matched_pairs(
    centroids: NDArray[np.float64], boxes: NDArray[np.float64]
) -> list[tuple[int, int]]:
    """A maximum one-to-one matching of detections to labels, as ``(det, label)`` pairs."""
    if len(centroids) == 0 or len(boxes) == 0:
        return []
    allowed = match_matrix(centroids, boxes)
    det_idx, lab_idx = linear_sum_assignment(-allowed.astype(np.float64))
    return [(int(d), int(lab)) for d, lab in zip(det_idx, lab_idx, strict=True) if allowed[d, lab]]


def match_detections(detections: Sequence[Detection], boxes: NDArray[np.float64]) -> PortScore:
    """Score one port's detections against its labelled boxes."""
    centroids = np.array([[d.row, d.col] for d in detections], dtype=np.float64).reshape(-1, 2)
    tp = len(matched_pairs(centroids, boxes))
    return PortScore(tp=tp, fp=len(detections) - tp, fn=len(boxes) - tp)


def overall_score(scores: Iterable[PortScore]) -> PortScore:
    """Sum per-port counts (micro-averaged precision, recall and F1)."""
    tp = fp = fn = 0
    for s in scores:
        tp, fp, fn = tp + s.tp, fp + s.fp, fn + s.fn
    return PortScore(tp=tp, fp=fp, fn=fn)

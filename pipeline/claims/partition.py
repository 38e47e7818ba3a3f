"""Optimal partitioning of a series into segments of constant mean, in numpy.

The exact optimum PELT finds (least-squares cost, a penalty per segment), computed by
dynamic programming with one vectorised step per candidate end. It replaces
``ruptures.Pelt(model="l2")``, whose pure-Python inner loop took 0.2 s for 200 scenes and
1.4 s for 600; this takes a few milliseconds, which is what lets ``bench verdicts`` run the
verdict rule on thousands of series. Same admissible breakpoints as ruptures (every
``jump``-th index, segments of at least ``min_size``), same optimum, and ties go to the
earliest split as in ruptures (``tests/unit/claims`` compares the two).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def optimal_partition(
    signal: FloatArray, *, penalty: float, min_size: int, jump: int = 1
) -> list[int]:
    """Segment ends (exclusive, the last is ``len(signal)``) minimising cost + penalty each.

    Args:
        signal: 1-D values.
        penalty: cost of one more segment.
        min_size: fewest values in a segment.
        jump: breakpoints only at multiples of ``jump`` (and the end).

    Raises:
        ValueError: the signal is shorter than ``min_size``.
    """
    n = signal.size
    if n < min_size:
        raise ValueError(f"a signal of {n} values cannot hold a segment of {min_size}")
    csum = np.concatenate([[0.0], np.cumsum(signal)])
    csum2 = np.concatenate([[0.0], np.cumsum(signal**2)])
    nodes = np.asarray([0, *(k for k in range(0, n, jump) if k >= min_size), n], dtype=np.int64)
    # cost[j, i]: one segment from nodes[j] to nodes[i], inf where it is too short.
    start, end = nodes[:, np.newaxis], nodes[np.newaxis, :]
    length = end - start
    with np.errstate(divide="ignore", invalid="ignore"):
        total = csum[end] - csum[start]
        cost = (csum2[end] - csum2[start]) - total**2 / length
    cost = np.where(length >= min_size, np.maximum(cost, 0.0) + penalty, np.inf)
    best = np.full(nodes.size, np.inf)
    best[0] = 0.0
    back = np.zeros(nodes.size, dtype=np.int64)
    for i in range(1, nodes.size):
        options = best[:i] + cost[:i, i]
        pick = int(np.argmin(options))  # the first minimum: the earliest split, as ruptures
        best[i], back[i] = options[pick], pick
    out, i = [], nodes.size - 1
    while i != 0:
        out.append(int(nodes[i]))
        i = int(back[i])
    return sorted(out)

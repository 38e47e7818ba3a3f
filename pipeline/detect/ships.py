"""Ship detection (skeleton; filled in below)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Detection:
    """One detected ship."""

    row: float
    col: float
    bbox: tuple[int, int, int, int]
    length_m: float
    width_m: float
    heading_deg: float
    score: float


def detect_ships_in_arrays(
    reflectance: NDArray[np.float32], *, valid: NDArray[np.bool_], pixel_size_m: float = 10.0, **_: Any
) -> list[Detection]:
    return []

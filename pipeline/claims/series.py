"""The clear-scene series a claim is tested on: one value per clear scene and date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from pipeline.claims.changepoint import Transform
from pipeline.types import Observation

Metric = Literal["ships", "railcar_equivalents"]
FloatArray = NDArray[np.float64]
#: Variance-stabilising transform per metric for the change-point search
#: (:mod:`pipeline.claims.changepoint`): counts are near Poisson, railcar-equivalents
#: overdispersed.
TRANSFORMS: Final[Mapping[Metric, Transform]] = {
    "ships": "anscombe",
    "railcar_equivalents": "log1p",
}

#: z of a two-sided 95 % interval: railcar intervals are stored as 95 % bounds.
Z95: Final = 1.959963984540054


@dataclass(frozen=True)
class Series:
    """The clear-scene series of one metric over one AOI, one scene per UTC date."""

    dates: tuple[date, ...]
    """UTC dates, ascending."""
    values: FloatArray
    """The metric per clear scene."""
    sd: FloatArray | None
    """Per-scene measurement standard deviation (from railcar intervals), if known."""
    scene_ids: tuple[str, ...]
    """Scene ids, parallel to ``dates``."""
    n_failed: int
    """Scenes of the AOI whose processing failed."""
    n_cloudy: int
    """Scenes left out as below the clear-fraction threshold."""
    n_low_confidence: int
    """Clear scenes left out as low confidence (e.g. their co-registration was unreliable)."""
    simulated: bool
    """Whether any scene of the AOI was simulated."""

    def between(self, start: date, end: date) -> NDArray[np.bool_]:
        """Mask of scenes with ``start <= date <= end``."""
        return np.array([start <= d <= end for d in self.dates], dtype=bool)


def metric_value(obs: Observation, metric: Metric) -> float | None:
    """The observation's value of ``metric`` (None when it has none)."""
    value = obs.ships if metric == "ships" else obs.railcar_equivalents
    return None if value is None else float(value)


def is_clear(obs: Observation, min_clear_fraction: float) -> bool:
    """Status ok and at least ``min_clear_fraction`` of the AOI seen clear."""
    return obs.status == "ok" and (obs.clear_fraction or 0.0) >= min_clear_fraction


def clear_series(
    observations: Iterable[Observation],
    *,
    aoi: str,
    metric: Metric,
    min_clear_fraction: float,
    zone: str | None = None,
) -> Series:
    """Clear, ok, confident scenes of ``aoi`` with a value for ``metric``; the clearest one per
    date. Low-confidence rows (:attr:`Observation.low_confidence`) are left out and counted.

    Overlapping MGRS tiles can give two scenes of one date; keeping one means a date never
    counts twice. ``zone`` picks a yard zone's rows instead of the AOI's own.
    """
    of_aoi = [o for o in observations if o.aoi == aoi]
    rows = [o for o in of_aoi if o.zone == zone]
    usable = [o for o in rows if o.status == "ok" and metric_value(o, metric) is not None]
    clear = [o for o in usable if is_clear(o, min_clear_fraction)]
    confident = [o for o in clear if o.low_confidence is None]
    best: dict[date, Observation] = {}
    for o in confident:
        day = o.datetime.date()
        if day not in best or (o.clear_fraction or 0.0) > (best[day].clear_fraction or 0.0):
            best[day] = o
    picked = [best[d] for d in sorted(best)]
    values = np.array([metric_value(o, metric) for o in picked], dtype=np.float64)
    sd = None
    if metric == "railcar_equivalents":
        sd = np.array([measurement_sd(o) for o in picked], dtype=np.float64)
    return Series(
        dates=tuple(o.datetime.date() for o in picked),
        values=values,
        sd=sd,
        scene_ids=tuple(o.scene_id for o in picked),
        n_failed=sum(1 for o in rows if o.status != "ok"),
        n_cloudy=len(usable) - len(clear),
        n_low_confidence=len(clear) - len(confident),
        simulated=any(o.simulated for o in of_aoi),
    )


def measurement_sd(obs: Observation) -> float:
    """Standard deviation implied by a 95 % railcar interval (0 without one)."""
    if obs.railcar_low is None or obs.railcar_high is None:
        return 0.0
    return max(0.0, (obs.railcar_high - obs.railcar_low) / (2.0 * Z95))


def month_coverage(dates: Iterable[date], start: date, end: date) -> float:
    """Share of the calendar months of ``start..end`` with at least one of ``dates``."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    seen = {(d.year, d.month) for d in dates if start <= d <= end}
    return len(seen) / months if months > 0 else 0.0

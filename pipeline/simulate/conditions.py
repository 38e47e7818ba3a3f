"""Per-scene conditions of the hostile world (issue 13), as truth: no pixels needed.

- ``cloud_probability``: the month's ``cloud_probability_by_month`` (else the scenario's,
  before its built-in seasonal swing);
- ``snow``: snow on the ground (the scene's weather draw, ``snow_probability_by_month``);
- ``sea_ice``: ice in Rajin's harbour basin (``sea_ice_months``; rendered by
  :mod:`pipeline.simulate.hostile`);
- ``shift_px``: the scene's ``(dx, dy)`` misregistration against the true grid, drawn from
  N(0, ``misregistration_px``) in 10 m pixels (:func:`scene_shift`; the pixels are shifted by
  :mod:`pipeline.simulate.hostile`);
- ``aot_factor``: the scene's aerosol load against the usual, drawn from a lognormal with
  spread ``haze`` (:func:`scene_haze`; 1 without the key; rendered by
  :func:`pipeline.simulate.atmosphere.apply_haze`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final

from pipeline.simulate.scenario import Scenario
from pipeline.simulate.schedule import scene_info
from pipeline.simulate.streams import stream
from pipeline.simulate.surface import weather

SCENE_COLUMNS: Final = (
    "scene_id",
    "date",
    "cloud_probability",
    "snow",
    "sea_ice",
    "shift_x_px",
    "shift_y_px",
    "aot_factor",
)


@dataclass(frozen=True)
class SceneConditions:
    """What the hostile world did to one scene, besides its objects."""

    scene_id: str
    """Item id."""
    cloud_probability: float
    """Chance of a mostly cloudy AOI in this month."""
    snow: bool
    """Snow lies on the ground."""
    sea_ice: bool
    """Ice in the harbour basin."""
    shift_px: tuple[float, float]
    """``(dx, dy)`` shift against the true grid, 10 m pixels (east, north)."""
    aot_factor: float = 1.0
    """Aerosol optical thickness against the usual (``haze``)."""

    def row(self, day: str) -> dict[str, object]:
        """The scene's ``truth_scenes.csv`` row."""
        return {
            "scene_id": self.scene_id,
            "date": day,
            "cloud_probability": f"{self.cloud_probability:.4f}",
            "snow": int(self.snow),
            "sea_ice": int(self.sea_ice),
            "shift_x_px": f"{self.shift_px[0]:.4f}",
            "shift_y_px": f"{self.shift_px[1]:.4f}",
            "aot_factor": f"{self.aot_factor:.4f}",
        }


def scene_shift(scenario: Scenario, day: date) -> tuple[float, float]:
    """The scene's ``(dx, dy)`` shift against the true grid, 10 m pixels (east, north)."""
    sigma = scenario.world.misregistration_px
    if sigma <= 0:
        return (0.0, 0.0)
    rng = stream(scenario, day, "misregistration")
    return (float(rng.normal(0, sigma)), float(rng.normal(0, sigma)))


def scene_haze(scenario: Scenario, day: date) -> float:
    """The scene's aerosol optical thickness factor: lognormal with spread ``haze`` (else 1)."""
    spread = scenario.world.haze
    if spread <= 0:
        return 1.0
    return float(math.exp(stream(scenario, day, "haze").normal(0, spread)))


def scene_conditions(scenario: Scenario, index: int) -> SceneConditions:
    """The conditions of the scene at a schedule index."""
    info = scene_info(scenario, index)
    world = scenario.world
    sky = weather(info, stream(scenario, info.date, "weather"), world.snow_probability_by_month)
    months = world.cloud_probability_by_month
    month = info.date.month
    return SceneConditions(
        scene_id=info.item_id,
        cloud_probability=scenario.cloud_probability if months is None else months[month - 1],
        snow=sky.snow > 0,
        sea_ice=month in world.sea_ice_months,
        shift_px=scene_shift(scenario, info.date),
        aot_factor=scene_haze(scenario, info.date),
    )

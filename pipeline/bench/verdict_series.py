"""SIMULATED clear-scene series for ``bench verdicts``, drawn from the simulator's count model.

No pixels: the counts are the true ships present at each acquisition, from
:func:`pipeline.simulate.dynamics.stays` (Poisson arrivals, exponential stays of mean
``dwell_days``, the seasonal swing ``seasonal_amplitude``; with ``dwell_days = 0`` a fresh
Poisson count every scene), and a scene is clear or cloudy by a coin with the month's cloud
probability. The sampling and the base level are the demo world's (``pipeline/data/demo.toml``):
a scene every 5 days, its monsoon clouds by month, its trade peak on day 200 and its 1.5
moving ships per scene (its almost-always-occupied berth left out: a constant adds nothing
but dilutes the ratio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pipeline.claims.parse import Claim
from pipeline.claims.series import Series
from pipeline.simulate import dynamics
from pipeline.simulate.scenario import Scenario, parse_scenario

#: The claim every series is tested against: the seed claim's windows and rules.
CLAIM: Final = Claim(
    id="bench-port-spike",
    quote="SIMULATED",
    source="bench verdicts",
    aoi="rajin-port",
    metric="ships",
)
#: First and last acquisition of each series: the claim's baseline through its window.
START: Final = CLAIM.baseline[0]
END: Final = CLAIM.window[1]


@dataclass(frozen=True)
class Sampling:
    """How the demo world is seen: revisit, clouds by month, the season's peak, the level."""

    revisit_days: int
    """Days between acquisitions."""
    clouds_by_month: tuple[float, ...]
    """Chance of a mostly cloudy scene, January to December."""
    peak_day: float
    """Day of the year when trade peaks."""
    base_ships: float
    """Mean moving ships present per scene before any rise."""


@lru_cache(maxsize=1)
def demo_sampling() -> Sampling:
    """The demo scenario's sampling (module docstring)."""
    from pipeline.run.simulated_archive import demo_scenario_path
    from pipeline.simulate.scenario import load_scenario

    demo = load_scenario(demo_scenario_path())
    port = demo.site("rajin-port")
    months = demo.world.cloud_probability_by_month
    return Sampling(
        revisit_days=demo.revisit_days,
        clouds_by_month=tuple(months) if months is not None else (demo.cloud_probability,) * 12,
        peak_day=port.keys.seasonal_peak_day,
        base_ships=port.steps[0].mean,
    )


@dataclass(frozen=True)
class Condition:
    """One world the rules are run in."""

    dwell_days: float
    """Mean stay of a ship (0: every scene sees a fresh draw)."""
    seasonal_amplitude: float
    """Seasonal swing of traffic; with it, clouds follow the months (else their mean)."""
    ratio: float
    """True rise of the mean from the test window's first day (1: no change)."""


def scenario(condition: Condition, seed: int, sampling: Sampling) -> Scenario:
    """The simulator's scenario for one series."""
    dwell: dict[str, Any] = {}
    if condition.dwell_days > 0:
        dwell = {"dwell_days": condition.dwell_days}
    steps = [{"from": START.isoformat(), "ships": sampling.base_ships, **dwell}]
    if condition.ratio != 1.0:
        rise = CLAIM.window[0].isoformat()
        steps.append({"from": rise, "ships": sampling.base_ships * condition.ratio, **dwell})
    doc = {
        "seed": seed,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "revisit_days": sampling.revisit_days,
        "aoi": [
            {
                "id": "rajin-port",
                "activity": steps,
                "seasonal_amplitude": condition.seasonal_amplitude,
                "seasonal_peak_day": sampling.peak_day,
            }
        ],
    }
    return parse_scenario(doc, where="bench verdicts")


def draw_series(condition: Condition, seed: int, sampling: Sampling | None = None) -> Series:
    """One SIMULATED clear-scene series of ship counts under ``condition``."""
    sampling = sampling or demo_sampling()
    world = scenario(condition, seed, sampling)
    stays = dynamics.stays(world, "rajin-port")
    arrive = np.array([s.arrive for s in stays], dtype=np.float64)
    leave = np.array([s.leave for s in stays], dtype=np.float64)
    times = np.array([dynamics.scene_time(d) for d in world.dates], dtype=np.float64)
    counts = ((arrive <= times[:, np.newaxis]) & (leave > times[:, np.newaxis])).sum(axis=1)
    months = np.array([d.month - 1 for d in world.dates])
    clouds = np.asarray(sampling.clouds_by_month, dtype=np.float64)
    cloud = (
        clouds[months] if condition.seasonal_amplitude > 0 else np.full(months.size, clouds.mean())
    )
    clear = np.random.default_rng([seed, 15]).random(months.size) >= cloud
    return clear_count_series(world.dates, counts, clear)


def clear_count_series(
    days: Sequence[date], counts: NDArray[np.integer[Any]], clear: NDArray[np.bool_]
) -> Series:
    """A SIMULATED clear-scene :class:`Series` of ``counts`` on the ``clear`` ones of ``days``."""
    dates: tuple[date, ...] = tuple(d for d, c in zip(days, clear, strict=True) if c)
    return Series(
        dates=dates,
        values=np.asarray(counts, dtype=np.float64)[clear],
        sd=None,
        scene_ids=tuple(f"SIMULATED-{d.isoformat()}" for d in dates),
        n_failed=0,
        n_cloudy=int(np.count_nonzero(~clear)),
        n_low_confidence=0,
        simulated=True,
    )

"""Objects that stay (issue 13): Poisson arrivals, exponential stays, seasons, zones, berths.

Pure truth, no pixels. Used only for an AOI whose scenario sets a key of issue 13
(:attr:`~pipeline.simulate.scenario.SiteActivity.dynamic`); otherwise the counts are drawn
afresh every scene exactly as before.

- A step with ``dwell_days = d`` and mean ``m``: ships (or trains) arrive as a Poisson process
  and stay an exponential time of mean ``d``, so ``m`` are present on average (an M/M/inf queue;
  the lag-``k``-days autocorrelation of the count is ``exp(-k / d)``). Trains carry about
  :data:`MEAN_TRAIN_CARS` cars, so they arrive at ``m / (d * MEAN_TRAIN_CARS)`` per day.
- A step without ``dwell_days``: the count is drawn independently every scene (Poisson ships,
  negative binomial railcars), each object present in that scene only.
- ``seasonal_amplitude = a``: the mean present is ``m (1 + a cos(2 pi (doy - peak) / 365.25))``
  exactly; with stays, the arrival rate is ``(m / d) (1 + a cos - a w d sin)`` (``w = 2 pi /
  365.25``), whose queue has that mean.
- Every zone has its own arrivals; a whole-AOI step is split by ``ZONE_SHARES``.
- ``[[aoi.berth]]``: an alternating renewal process, occupied for exponential stays of mean
  ``dwell_days`` and free for exponential gaps of mean ``dwell_days (1 - p) / p``, so the
  long-run occupancy is ``p``; stationary from the first day.
Every series starts :data:`WARM_UP_DWELLS` mean stays before the scenario, so its first
scene is already stationary. Each AOI, zone and berth has its own random stream.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

from pipeline.simulate.railcars import RAILCAR_DISPERSION
from pipeline.simulate.scenario import ActivityStep, Scenario, SiteActivity
from pipeline.simulate.scenario_keys import BerthSpec
from pipeline.simulate.ships import ship_length
from pipeline.simulate.streams import named_stream

#: Acquisition time of day (02:15 UTC) as a fraction of a day.
SCENE_HOUR: Final = 2.25 / 24
#: Mean cars per train: ``max(1, round(gamma(2, 14)))`` as the rail placement draws.
MEAN_TRAIN_CARS: Final = 28.0
WARM_UP_DWELLS: Final = 8.0
OMEGA: Final = 2 * math.pi / 365.25
#: How long a per-scene object is "present" around its scene's time (days).
_INSTANT: Final = 1e-3


@dataclass(frozen=True)
class Stay:
    """One ship or train from arrival to departure (or one per-scene object)."""

    object_id: str
    """Persists across the scenes of the stay."""
    kind: str
    """``ship`` or ``railcars``."""
    zone: str
    """AOI zone."""
    arrive: float
    """Arrival, in proleptic ordinal days (fractional)."""
    leave: float
    """Departure (exclusive)."""
    size: float
    """Ship length (m) or number of cars."""
    berth: int | None = None
    """Index of the ``[[aoi.berth]]`` it lies at, if any."""


def scene_time(day: date) -> float:
    """The acquisition instant of ``day`` in ordinal days."""
    return day.toordinal() + SCENE_HOUR


def season(site: SiteActivity, t: float) -> tuple[float, float]:
    """``(cos, sin)`` of the season's phase at ``t``, weighted by the amplitude."""
    a = site.keys.seasonal_amplitude
    if a == 0:
        return 0.0, 0.0
    day = date.fromordinal(int(t))
    doy = t - date(day.year, 1, 1).toordinal() + 1
    theta = OMEGA * (doy - site.keys.seasonal_peak_day)
    return a * math.cos(theta), a * math.sin(theta)


def _segments(
    site: SiteActivity, zone: str, t0: float, t1: float
) -> list[tuple[float, float, float, ActivityStep | None]]:
    """``(start, end, mean, step)`` pieces of the zone's activity over ``[t0, t1)``."""
    starts = sorted({s.start for s in site.steps if s.zone in (None, zone)})
    bounds = [t0, *(d.toordinal() for d in starts if t0 < d.toordinal() < t1), t1]
    out = []
    for a, b in itertools.pairwise(bounds):
        mean, step = site.zone_step(date.fromordinal(int(a)), zone)
        out.append((a, b, mean, step))
    return out


def _draw_size(site: SiteActivity, step: ActivityStep | None, rng: np.random.Generator) -> float:
    if site.metric == "railcars":
        return float(max(1, round(float(rng.gamma(2.0, 14.0)))))
    if step is not None and step.length_m is not None:
        return float(rng.uniform(*step.length_m))
    return ship_length(rng)


def _zone_stays(scenario: Scenario, site: SiteActivity, zone: str, t0: float) -> list[Stay]:
    rng = named_stream(scenario, "arrivals", site.aoi, zone)
    kind = "ship" if site.metric == "ships" else "railcars"
    t1 = scenario.end.toordinal() + 1.0
    scenes = np.asarray([scene_time(d) for d in scenario.dates])
    out: list[Stay] = []
    for a, b, mean, step in _segments(site, zone, t0, t1):
        if mean <= 0:
            continue
        if step is None or step.dwell_days is None:
            for t in scenes[(scenes >= a) & (scenes < b)]:
                m = mean * (1 + season(site, float(t))[0])
                if kind == "ship":
                    count = int(rng.poisson(m))
                    sizes = [_draw_size(site, step, rng) for _ in range(count)]
                else:
                    k = RAILCAR_DISPERSION
                    cars = int(rng.negative_binomial(k, k / (k + m))) if m > 0 else 0
                    sizes = [float(cars)] if cars else []
                for size in sizes:
                    oid = f"{site.aoi}-{zone}-{len(out):06d}"
                    out.append(Stay(oid, kind, zone, t - _INSTANT, t + _INSTANT, size))
            continue
        d = step.dwell_days
        per = MEAN_TRAIN_CARS if kind == "railcars" else 1.0
        rate = mean / (d * per)
        ceiling = rate * (1 + site.keys.seasonal_amplitude * math.hypot(1.0, OMEGA * d))
        n = int(rng.poisson(ceiling * (b - a)))
        for t in np.sort(rng.uniform(a, b, n)):
            c, s = season(site, float(t))
            keep = rng.random() * ceiling < rate * (1 + c - s * OMEGA * d)
            stay = float(rng.exponential(d))
            size = _draw_size(site, step, rng)
            if keep:
                oid = f"{site.aoi}-{zone}-{len(out):06d}"
                out.append(Stay(oid, kind, zone, float(t), float(t) + stay, size))
    return out


def _berth_stays(
    scenario: Scenario, site: SiteActivity, index: int, spec: BerthSpec, t0: float
) -> list[Stay]:
    rng = named_stream(scenario, "berth", site.aoi, str(index))
    start = max(t0, spec.start.toordinal() if spec.start else t0)
    end = scenario.end.toordinal() + 1.0
    if spec.until is not None:
        end = min(end, spec.until.toordinal() + 1.0)
    p, d = spec.occupancy, spec.dwell_days
    if p <= 0:
        return []
    gap = d * (1 - p) / p
    t, occupied = start, bool(rng.random() < p)
    out: list[Stay] = []
    while t < end:
        if occupied:
            leave = min(end, t + float(rng.exponential(d)))
            oid = f"{site.aoi}-berth{index}-{len(out):05d}"
            out.append(Stay(oid, "ship", "harbour", t, leave, spec.length_m, index))
            t = leave
        else:
            t += float(rng.exponential(gap)) if gap > 0 else 0.0
        occupied = not occupied
    return out


@lru_cache(maxsize=8)
def stays(scenario: Scenario, aoi: str) -> tuple[Stay, ...]:
    """Every stay of the AOI over the scenario, berth ships first, then by arrival."""
    site = scenario.site(aoi)
    dwells = [s.dwell_days or 0.0 for s in site.steps] + [b.dwell_days for b in site.keys.berths]
    t0 = scene_time(scenario.start) - WARM_UP_DWELLS * max([0.0, *dwells]) - 1.0
    berth = [
        stay
        for i, spec in enumerate(site.keys.berths)
        for stay in _berth_stays(scenario, site, i, spec, t0)
    ]
    moving = [stay for zone in site.zones for stay in _zone_stays(scenario, site, zone, t0)]
    moving.sort(key=lambda s: (s.arrive, s.object_id))
    return (*berth, *moving)


@lru_cache(maxsize=8)
def _spans(scenario: Scenario, aoi: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    all_stays = stays(scenario, aoi)
    return (
        np.asarray([s.arrive for s in all_stays], float),
        np.asarray([s.leave for s in all_stays], float),
    )


def present(scenario: Scenario, aoi: str, day: date) -> tuple[Stay, ...]:
    """The stays present at the acquisition on ``day`` (berth ships first, then by arrival)."""
    arrive, leave = _spans(scenario, aoi)
    t = scene_time(day)
    all_stays = stays(scenario, aoi)
    return tuple(all_stays[int(i)] for i in np.flatnonzero((arrive <= t) & (leave > t)))

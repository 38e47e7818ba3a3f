"""Scenario files: TOML in, a validated frozen :class:`Scenario` out.

The format is shown by ``pipeline/data/demo.toml`` (README.md). Every key is checked: an unknown key
anywhere, a reversed date range, a negative rate, a probability outside 0-1, an AOI id the
simulator has no geography for, or activity steps out of date order raise
:class:`~pipeline.errors.InvalidScenarioError` with one line naming the key and the file.
Values that are not given take realistic defaults (see the ``DEFAULT_*`` constants).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from pipeline.errors import InvalidScenarioError
from pipeline.simulate import scenario_keys as hk
from pipeline.simulate.scenario_keys import SiteKeys, WorldKeys
from pipeline.simulate.scenario_values import (
    FIRST_S2_DATE,
    check_keys,
    fail,
    integer,
    number,
    parse_date,
)

__all__ = ["FIRST_S2_DATE", "ActivityStep", "Scenario", "SiteActivity"]
DEFAULT_SEED: Final = 0
DEFAULT_START: Final = date(2021, 1, 1)
DEFAULT_END: Final = date(2024, 6, 30)
#: Sentinel-2A and 2B together revisit 52TFM every 5 days.
DEFAULT_REVISIT_DAYS: Final = 5
#: Share of Sentinel-2 scenes that are mostly cloudy over the Rason coast (monsoon summers,
#: clear dry winters): about 0.4.
DEFAULT_CLOUD_PROBABILITY: Final = 0.4
#: Upper bounds that keep the scene placeable (berths and track length are finite).
MAX_SHIPS: Final = 40.0
MAX_RAILCARS: Final = 1200.0
MAX_SCENES: Final = 5000

#: The AOIs the simulator has geography for: id -> (metric, default mean per scene).
SITES: Final[Mapping[str, tuple[str, float]]] = {
    "rajin-port": ("ships", 0.5),
    "tumangang-rail": ("railcars", 10.0),
}

_TOP_KEYS: Final = (
    "seed",
    "start",
    "end",
    "revisit_days",
    "cloud_probability",
    "aoi",
    *hk.TOP_KEYS,
)
_AOI_KEYS: Final = ("id", "activity", *hk.AOI_KEYS)
_STEP_KEYS: Final = ("from", "ships", "railcars", *hk.STEP_KEYS)


@dataclass(frozen=True)
class ActivityStep:
    """From ``start`` on (until the next step), the mean count present per scene."""

    start: date
    """First day the rate applies."""
    mean: float
    """Mean ships (port) or railcars (rail) present in the AOI (or its zone) per scene."""
    dwell_days: float | None = None
    """Mean stay (exponential) of Poisson arrivals; None: counts drawn afresh every scene."""
    zone: str | None = None
    """The zone this step sets; None: the whole AOI, split by ``ZONE_SHARES``."""
    length_m: tuple[float, float] | None = None
    """Ship lengths drawn uniformly in ``[min, max]``; None: the usual mix."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and self.mean >= 0):
            raise ValueError(f"activity mean must be finite and >= 0, got {self.mean}")

    def toml(self, metric: str) -> str:
        """The step as an inline TOML table."""
        text = f'{{ from = "{self.start.isoformat()}", {metric} = {self.mean!r}'
        if self.dwell_days is not None:
            text += f", dwell_days = {self.dwell_days!r}"
        if self.zone is not None:
            text += f', zone = "{self.zone}"'
        if self.length_m is not None:
            text += f", length_m = {list(self.length_m)!r}"
        return text + " }"


@dataclass(frozen=True)
class SiteActivity:
    """Piecewise-constant activity of one AOI."""

    aoi: str
    """AOI id, one of :data:`SITES`."""
    metric: str
    """``ships`` or ``railcars``."""
    steps: tuple[ActivityStep, ...]
    """Steps in strictly increasing date order."""
    default: float
    """Mean used before the first step."""
    keys: SiteKeys = field(default_factory=SiteKeys)
    """Season, berths, structures... (issue 13); the default is today's kind world."""

    def __post_init__(self) -> None:
        for zone in {s.zone for s in self.steps}:
            starts = [s.start for s in self.steps if s.zone == zone]
            if any(b <= a for a, b in itertools.pairwise(starts)):
                raise ValueError(f"{self.aoi}: activity steps must be in strictly increasing order")
        if any(b.start < a.start for a, b in itertools.pairwise(self.steps)):
            raise ValueError(f"{self.aoi}: activity steps must be in date order")

    @property
    def dynamic(self) -> bool:
        """True when a key of issue 13 changes the objects (else they are drawn as always)."""
        plain = all(
            s.dwell_days is None and s.zone is None and s.length_m is None for s in self.steps
        )
        return not (plain and self.keys.seasonal_amplitude == 0 and not self.keys.berths)

    @property
    def zones(self) -> tuple[str, ...]:
        """Zones objects stand in, each with its own arrivals."""
        return tuple(hk.ZONE_SHARES[self.aoi])

    def zone_step(self, day: date, zone: str) -> tuple[float, ActivityStep | None]:
        """The mean count in ``zone`` on ``day`` and the step that sets it (None: default)."""
        share = hk.ZONE_SHARES[self.aoi][zone]
        mean, current = self.default * share, None
        for step in self.steps:
            if step.start <= day and step.zone in (None, zone):
                mean, current = step.mean * (share if step.zone is None else 1.0), step
        return mean, current

    def mean_on(self, day: date) -> float:
        """The mean count in force on ``day`` (all zones, berths not included)."""
        if any(s.zone is not None for s in self.steps):
            return sum(self.zone_step(day, zone)[0] for zone in self.zones)
        mean = self.default
        for step in self.steps:
            if step.start <= day:
                mean = step.mean
        return mean


@dataclass(frozen=True)
class Scenario:
    """A validated simulation scenario."""

    seed: int
    """Root of every random draw; the same seed gives the same archive."""
    start: date
    """First acquisition date."""
    end: date
    """Last possible acquisition date (inclusive)."""
    revisit_days: int
    """Days between acquisitions."""
    cloud_probability: float
    """Chance that a scene is mostly cloudy over an AOI."""
    sites: tuple[SiteActivity, ...]
    """Activity of every simulated AOI, sorted by id (all of :data:`SITES`)."""
    world: WorldKeys = field(default_factory=WorldKeys)
    """Months, snow, ice, misregistration... (issue 13); the default is today's kind world."""
    source_text: str = field(default="", compare=False)
    """The TOML text the scenario came from (copied into the archive), if any."""
    where: str = field(default="<scenario>", compare=False)
    """Where the scenario came from, for messages."""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"scenario ends ({self.end}) before it starts ({self.start})")
        if self.revisit_days < 1:
            raise ValueError("revisit_days must be >= 1")
        if not 0.0 <= self.cloud_probability <= 1.0:
            raise ValueError("cloud_probability must lie in 0-1")

    @property
    def dates(self) -> tuple[date, ...]:
        """Acquisition dates: ``start``, then every ``revisit_days`` up to ``end``."""
        count = (self.end - self.start).days // self.revisit_days + 1
        return tuple(self.start + timedelta(days=i * self.revisit_days) for i in range(count))

    def site(self, aoi_id: str) -> SiteActivity:
        """Activity of one AOI.

        Raises:
            KeyError: the scenario has no such AOI.
        """
        for site in self.sites:
            if site.aoi == aoi_id:
                return site
        raise KeyError(aoi_id)

    def to_toml(self) -> str:
        """The scenario with every default filled in, as TOML."""
        lines = [
            f"seed = {self.seed}",
            f'start = "{self.start.isoformat()}"',
            f'end = "{self.end.isoformat()}"',
            f"revisit_days = {self.revisit_days}",
            f"cloud_probability = {self.cloud_probability!r}",
            *self.world.toml_lines(),
        ]
        for site in self.sites:
            steps = ", ".join(s.toml(site.metric) for s in site.steps)
            lines += ["", "[[aoi]]", f'id = "{site.aoi}"', f"activity = [{steps}]"]
            lines += site.keys.toml_lines()
        return "\n".join(lines) + "\n"


def _site(entry: Any, index: int, where: str) -> SiteActivity:
    path = f"aoi[{index}]"
    if not isinstance(entry, Mapping):
        raise fail(where, path, "each [[aoi]] must be a table")
    check_keys(entry, _AOI_KEYS, where, path)
    aoi_id = entry.get("id")
    if not isinstance(aoi_id, str):
        raise fail(where, f"{path}.id", "missing or not a string")
    if aoi_id not in SITES:
        raise fail(
            where, f"{path}.id", f"unknown AOI id {aoi_id!r} (known: {', '.join(sorted(SITES))})"
        )
    metric, default = SITES[aoi_id]
    raw_steps = entry.get("activity", [])
    if not isinstance(raw_steps, list):
        raise fail(where, f"{path}.activity", "must be an array of tables")
    steps: list[ActivityStep] = []
    for j, raw in enumerate(raw_steps):
        spath = f"{path}.activity[{j}]"
        if not isinstance(raw, Mapping):
            raise fail(where, spath, "each activity entry must be a table")
        check_keys(raw, _STEP_KEYS, where, spath)
        other = "railcars" if metric == "ships" else "ships"
        if other in raw:
            raise fail(where, f"{spath}.{other}", f"{aoi_id} has no {other}; use {metric!r}")
        if "from" not in raw:
            raise fail(where, f"{spath}.from", "missing (the date the rate starts)")
        if metric not in raw:
            raise fail(where, f"{spath}.{metric}", "missing (the mean count per scene)")
        start = parse_date(raw["from"], where, f"{spath}.from")
        high = MAX_SHIPS if metric == "ships" else MAX_RAILCARS
        mean = number(raw[metric], where, f"{spath}.{metric}", 0.0, high)
        extra = hk.parse_step_keys(raw, metric, aoi_id, where, spath)
        same = [s for s in steps if s.zone == extra.get("zone")]
        if (same and start <= same[-1].start) or (steps and start < steps[-1].start):
            previous = same[-1].start if same and start <= same[-1].start else steps[-1].start
            raise fail(
                where,
                f"{spath}.from",
                f"{start} is not after the previous entry's {previous}; "
                "activity entries must be in date order",
            )
        steps.append(ActivityStep(start=start, mean=mean, **extra))
    keys = hk.parse_site_keys(entry, metric, aoi_id, where, path)
    return SiteActivity(aoi=aoi_id, metric=metric, steps=tuple(steps), default=default, keys=keys)


def _dates(doc: Mapping[str, Any], where: str) -> tuple[date, date]:
    start = parse_date(doc["start"], where, "start") if "start" in doc else None
    end = parse_date(doc["end"], where, "end") if "end" in doc else None
    if start is None and end is None:
        return DEFAULT_START, DEFAULT_END
    if start is None:
        assert end is not None
        start = max(FIRST_S2_DATE, end - timedelta(days=364))
    if end is None:
        end = date.fromordinal(min(start.toordinal() + 364, date.max.toordinal()))
    if end < start:
        raise fail(where, "end", f"{end} is before start {start} (the range is reversed)")
    return start, end


def parse_scenario(source: str | Mapping[str, Any], *, where: str = "<scenario>") -> Scenario:
    """Validate a scenario given as TOML text or as an already parsed mapping.

    Args:
        source: TOML text, or the mapping ``tomllib`` would return.
        where: Where the scenario came from (a file path), used in messages.

    Returns:
        The validated scenario, defaults filled in.

    Raises:
        InvalidScenarioError: the TOML is malformed, or a key is unknown or holds a bad value.
    """
    text = source if isinstance(source, str) else ""
    if isinstance(source, str):
        try:
            doc: Mapping[str, Any] = tomllib.loads(source)
        except (ValueError, RecursionError) as exc:  # TOMLDecodeError, or a huge integer
            raise InvalidScenarioError(f"scenario {where}: not valid TOML: {exc}") from None
    else:
        doc = source
    check_keys(doc, _TOP_KEYS, where, "")
    seed = integer(doc.get("seed", DEFAULT_SEED), where, "seed", 0, 2**63 - 1)
    start, end = _dates(doc, where)
    revisit = integer(doc.get("revisit_days", DEFAULT_REVISIT_DAYS), where, "revisit_days", 1, 366)
    cloud = number(
        doc.get("cloud_probability", DEFAULT_CLOUD_PROBABILITY), where, "cloud_probability", 0, 1
    )
    if (end - start).days // revisit + 1 > MAX_SCENES:
        raise fail(where, "revisit_days", f"{start}..{end} gives more than {MAX_SCENES} scenes")
    raw_sites = doc.get("aoi", [])
    if not isinstance(raw_sites, list):
        raise fail(where, "aoi", "must be an array of tables ([[aoi]])")
    given = [_site(entry, i, where) for i, entry in enumerate(raw_sites)]
    ids = [s.aoi for s in given]
    for aoi_id in ids:
        if ids.count(aoi_id) > 1:
            raise fail(where, "aoi", f"AOI {aoi_id!r} is given more than once")
    by_id = {s.aoi: s for s in given}
    sites = tuple(
        by_id.get(aoi_id) or SiteActivity(aoi=aoi_id, metric=metric, steps=(), default=default)
        for aoi_id, (metric, default) in sorted(SITES.items())
    )
    return Scenario(
        seed=seed,
        start=start,
        end=end,
        revisit_days=revisit,
        cloud_probability=cloud,
        sites=sites,
        world=hk.parse_world(doc, where),
        source_text=text,
        where=where,
    )


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises:
        InvalidScenarioError: the file is missing, unreadable, not TOML, or not a valid scenario.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidScenarioError(f"scenario file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidScenarioError(f"cannot read scenario file {str(path)!r}: {exc}") from None
    return parse_scenario(text, where=str(path))

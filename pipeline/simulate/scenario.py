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
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from pipeline.errors import InvalidScenarioError

#: Sentinel-2A's first acquisitions; nothing can be simulated before them.
FIRST_S2_DATE: Final = date(2015, 6, 23)
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

_TOP_KEYS: Final = ("seed", "start", "end", "revisit_days", "cloud_probability", "aoi")
_AOI_KEYS: Final = ("id", "activity")
_STEP_KEYS: Final = ("from", "ships", "railcars")
_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class ActivityStep:
    """From ``start`` on (until the next step), the mean count present per scene."""

    start: date
    """First day the rate applies."""
    mean: float
    """Mean ships (port) or railcars (rail) present in the AOI per scene."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and self.mean >= 0):
            raise ValueError(f"activity mean must be finite and >= 0, got {self.mean}")


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

    def __post_init__(self) -> None:
        starts = [s.start for s in self.steps]
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError(f"{self.aoi}: activity steps must be in strictly increasing order")

    def mean_on(self, day: date) -> float:
        """The mean count in force on ``day``."""
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
        ]
        for site in self.sites:
            steps = ", ".join(
                f'{{ from = "{s.start.isoformat()}", {site.metric} = {s.mean!r} }}'
                for s in site.steps
            )
            lines += ["", "[[aoi]]", f'id = "{site.aoi}"', f"activity = [{steps}]"]
        return "\n".join(lines) + "\n"


def _fail(where: str, key: str, problem: str) -> InvalidScenarioError:
    return InvalidScenarioError(f"scenario {where}: {key}: {problem}")


def _check_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str, path: str) -> None:
    for key in table:
        if key not in known:
            shown = key if _PLAIN_KEY.fullmatch(str(key)) else repr(key)  # keep messages one line
            full = f"{path}.{shown}" if path else shown
            raise _fail(where, full, f"unknown key (known keys here: {', '.join(known)})")


def _date(value: Any, where: str, key: str) -> date:
    if isinstance(value, datetime):
        raise _fail(where, key, f"{value.isoformat()} has a time of day; give a date YYYY-MM-DD")
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(where, key, f"{value!r} is not a valid date (YYYY-MM-DD)") from None
    else:
        raise _fail(where, key, f"expected a date YYYY-MM-DD, got {type(value).__name__}")
    if parsed < FIRST_S2_DATE:
        raise _fail(where, key, f"{parsed} is before Sentinel-2's first images ({FIRST_S2_DATE})")
    return parsed


def _number(value: Any, where: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, key, f"expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise _fail(where, key, f"{value!r} is larger than {high:g}") from None
    if not math.isfinite(number):
        raise _fail(where, key, f"{value!r} is not finite")
    if number < low:
        raise _fail(where, key, f"{value!r} is negative" if low == 0 else f"{value!r} < {low}")
    if number > high:
        raise _fail(where, key, f"{value!r} is larger than {high:g}")
    return number


def _integer(value: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, key, f"expected an integer, got {value!r}")
    if not low <= value <= high:
        raise _fail(where, key, f"{value} is outside {low}-{high}")
    return value


def _site(entry: Any, index: int, where: str) -> SiteActivity:
    path = f"aoi[{index}]"
    if not isinstance(entry, Mapping):
        raise _fail(where, path, "each [[aoi]] must be a table")
    _check_keys(entry, _AOI_KEYS, where, path)
    aoi_id = entry.get("id")
    if not isinstance(aoi_id, str):
        raise _fail(where, f"{path}.id", "missing or not a string")
    if aoi_id not in SITES:
        raise _fail(
            where, f"{path}.id", f"unknown AOI id {aoi_id!r} (known: {', '.join(sorted(SITES))})"
        )
    metric, default = SITES[aoi_id]
    raw_steps = entry.get("activity", [])
    if not isinstance(raw_steps, list):
        raise _fail(where, f"{path}.activity", "must be an array of tables")
    steps: list[ActivityStep] = []
    for j, raw in enumerate(raw_steps):
        spath = f"{path}.activity[{j}]"
        if not isinstance(raw, Mapping):
            raise _fail(where, spath, "each activity entry must be a table")
        _check_keys(raw, _STEP_KEYS, where, spath)
        other = "railcars" if metric == "ships" else "ships"
        if other in raw:
            raise _fail(where, f"{spath}.{other}", f"{aoi_id} has no {other}; use {metric!r}")
        if "from" not in raw:
            raise _fail(where, f"{spath}.from", "missing (the date the rate starts)")
        if metric not in raw:
            raise _fail(where, f"{spath}.{metric}", "missing (the mean count per scene)")
        start = _date(raw["from"], where, f"{spath}.from")
        high = MAX_SHIPS if metric == "ships" else MAX_RAILCARS
        mean = _number(raw[metric], where, f"{spath}.{metric}", 0.0, high)
        if steps and start <= steps[-1].start:
            raise _fail(
                where,
                f"{spath}.from",
                f"{start} is not after the previous entry's {steps[-1].start}; "
                "activity entries must be in date order",
            )
        steps.append(ActivityStep(start=start, mean=mean))
    return SiteActivity(aoi=aoi_id, metric=metric, steps=tuple(steps), default=default)


def _dates(doc: Mapping[str, Any], where: str) -> tuple[date, date]:
    start = _date(doc["start"], where, "start") if "start" in doc else None
    end = _date(doc["end"], where, "end") if "end" in doc else None
    if start is None and end is None:
        return DEFAULT_START, DEFAULT_END
    if start is None:
        assert end is not None
        start = max(FIRST_S2_DATE, end - timedelta(days=364))
    if end is None:
        end = date.fromordinal(min(start.toordinal() + 364, date.max.toordinal()))
    if end < start:
        raise _fail(where, "end", f"{end} is before start {start} (the range is reversed)")
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
    _check_keys(doc, _TOP_KEYS, where, "")
    seed = _integer(doc.get("seed", DEFAULT_SEED), where, "seed", 0, 2**63 - 1)
    start, end = _dates(doc, where)
    revisit = _integer(doc.get("revisit_days", DEFAULT_REVISIT_DAYS), where, "revisit_days", 1, 366)
    cloud = _number(
        doc.get("cloud_probability", DEFAULT_CLOUD_PROBABILITY), where, "cloud_probability", 0, 1
    )
    if (end - start).days // revisit + 1 > MAX_SCENES:
        raise _fail(where, "revisit_days", f"{start}..{end} gives more than {MAX_SCENES} scenes")
    raw_sites = doc.get("aoi", [])
    if not isinstance(raw_sites, list):
        raise _fail(where, "aoi", "must be an array of tables ([[aoi]])")
    given = [_site(entry, i, where) for i, entry in enumerate(raw_sites)]
    ids = [s.aoi for s in given]
    for aoi_id in ids:
        if ids.count(aoi_id) > 1:
            raise _fail(where, "aoi", f"AOI {aoi_id!r} is given more than once")
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

"""The scenario keys of issue 13 ("a hostile simulated world"): parsed, validated, stored.

Every key is optional; when it is absent the world is exactly what it was without it, so
older scenario files give the same archive byte for byte. The realistic Rason values (see
``pipeline/data/stress.toml``) and their reasoning:

- ``cloud_probability_by_month``: East-Asian monsoon; the coast is clearest in the dry winter
  monsoon and cloudiest in the summer monsoon (July-August, ~0.7-0.8 of scenes mostly cloudy).
  Overrides ``cloud_probability`` (and its built-in seasonal swing). With it, the Tumangang
  ballast and yard ground is wet (darker) in some scenes of the monsoon and the thaw
  (:mod:`pipeline.simulate.weathering`).
- ``snow_probability_by_month``: snow lies on the ground in Dec-Feb scenes (cold, dry winters),
  occasionally in Nov and Mar-Apr; never in summer. Overrides the built-in monthly chances,
  and puts snow on some ships' decks and railcars' roofs in snowy scenes
  (:mod:`pipeline.simulate.weathering`).
- ``sea_ice_months``: the sheltered harbour basin of Rajin freezes over in January-February.
- ``misregistration_px``: Sentinel-2 multi-temporal co-registration is ~0.3-0.5 px (10 m) at
  the 1-sigma level; each scene gets a ``(dx, dy)`` shift drawn from N(0, this).
- ``haze``: the day-to-day spread of aerosol optical thickness (spring dust, summer haze ~0.3).
- ``shadows``: shadows of hulls, cars, cranes and buildings from the sun at 02:15 UTC.
- per AOI: ``seasonal_amplitude`` / ``seasonal_peak_day`` (trade peaks after the summer
  thaw, ~0.4 around day 200), ``[[aoi.berth]]`` (laid-up or regular ships, occupancy ~0.9 with
  month-long stays), ``[[aoi.structure]]`` (piers and buildings built mid-series) and
  ``light_car_share`` (box and tank cars, ~0.2 of the cars at Tumangang).
- per activity step: ``dwell_days`` (ships stay ~4-12 days, trains ~3), ``zone`` and
  ``length_m = [min, max]`` (ships).

Rendered (issue 13 part B, :mod:`pipeline.simulate.hostile`,
:mod:`pipeline.simulate.railcars`, :mod:`pipeline.simulate.shadows`,
:mod:`pipeline.simulate.atmosphere` and :mod:`pipeline.simulate.structures`): the
misregistration shift, harbour ice (``sea_ice_months``), ``light_car_share``, ``shadows``,
``haze`` (the per-scene aerosol factor is recorded in ``truth_scenes.csv``) and
``[[aoi.structure]]`` (from its ``from`` date, at fixed places per kind; not in the truth).
All are parsed, validated, stored and (where they are truth) recorded in the truth files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from pipeline.simulate.scenario_values import check_keys, fail, integer, number, parse_date

#: Where objects can stand, per AOI zone, and the share of a whole-AOI step each zone gets:
#: ships at berth (harbour) 0.65, at anchor 0.35 (as the per-scene placement does); railcars
#: in proportion to the yards' track length (22.4 km at Tumangang, 10.0 km at Khasan).
ZONE_SHARES: Final[Mapping[str, Mapping[str, float]]] = {
    "rajin-port": {"harbour": 0.65, "anchorage": 0.35},
    "tumangang-rail": {"tumangang-yard": 22440 / 32460, "khasan-yard": 10020 / 32460},
}
STRUCTURE_KINDS: Final = ("pier-extension", "building", "stockpile")
#: The port's quay faces (``geography``): at most one ``[[aoi.berth]]`` per face.
MAX_BERTHS: Final = 10
MAX_DWELL_DAYS: Final = 3650.0
TOP_KEYS: Final = (
    "cloud_probability_by_month",
    "snow_probability_by_month",
    "sea_ice_months",
    "misregistration_px",
    "haze",
    "shadows",
)
AOI_KEYS: Final = (
    "seasonal_amplitude",
    "seasonal_peak_day",
    "berth",
    "structure",
    "light_car_share",
)
STEP_KEYS: Final = ("dwell_days", "zone", "length_m")
_BERTH_KEYS: Final = ("occupancy", "dwell_days", "length_m", "from", "until")
_STRUCTURE_KEYS: Final = ("from", "kind")


@dataclass(frozen=True)
class WorldKeys:
    """Scenario-wide hostile-world settings; the defaults are today's kind world."""

    cloud_probability_by_month: tuple[float, ...] | None = None
    """Chance of a mostly cloudy scene per month (Jan-Dec); overrides ``cloud_probability``."""
    snow_probability_by_month: tuple[float, ...] | None = None
    """Chance of snow on the ground per month; None keeps the built-in chances."""
    sea_ice_months: tuple[int, ...] = ()
    """Months (1-12) with ice in the harbour basin."""
    misregistration_px: float = 0.0
    """Standard deviation of each scene's shift against the true grid, 10 m pixels."""
    haze: float = 0.0
    """Day-to-day spread of aerosol optical thickness (lognormal sigma of a per-scene factor)."""
    shadows: bool | None = None
    """Cast shadows of everything (true); None or false keep today's partial shadows."""

    def toml_lines(self) -> list[str]:
        """The keys that are not defaults, as TOML lines."""
        lines = []
        if self.cloud_probability_by_month is not None:
            lines.append(f"cloud_probability_by_month = {list(self.cloud_probability_by_month)}")
        if self.snow_probability_by_month is not None:
            lines.append(f"snow_probability_by_month = {list(self.snow_probability_by_month)}")
        if self.sea_ice_months:
            lines.append(f"sea_ice_months = {list(self.sea_ice_months)}")
        if self.misregistration_px:
            lines.append(f"misregistration_px = {self.misregistration_px!r}")
        if self.haze:
            lines.append(f"haze = {self.haze!r}")
        if self.shadows is not None:
            lines.append(f"shadows = {str(self.shadows).lower()}")
        return lines


@dataclass(frozen=True)
class BerthSpec:
    """A berth that is usually occupied: an alternating occupied / free renewal process."""

    occupancy: float
    """Long-run share of scenes with a ship at the berth."""
    dwell_days: float
    """Mean (exponential) stay of a ship."""
    length_m: float
    """Length of the ships using it."""
    start: date | None = None
    """First day the berth is in use (None: always)."""
    until: date | None = None
    """Last day the berth is in use (None: always)."""


@dataclass(frozen=True)
class StructureSpec:
    """Something built mid-series (drawn by :mod:`pipeline.simulate.structures`)."""

    start: date
    """First day it stands."""
    kind: str
    """One of :data:`STRUCTURE_KINDS`."""


@dataclass(frozen=True)
class SiteKeys:
    """Per-AOI hostile-world settings; the defaults are today's kind world."""

    seasonal_amplitude: float = 0.0
    """``a`` in mean x (1 + a cos(2 pi (day of year - peak) / 365.25)); 0 = no season."""
    seasonal_peak_day: float = 200.0
    """Day of year of the seasonal peak."""
    berths: tuple[BerthSpec, ...] = ()
    """Usually occupied berths (ports)."""
    structures: tuple[StructureSpec, ...] = ()
    """Things built mid-series (ground, not truth objects)."""
    light_car_share: float | None = None
    """Share of the cars drawn as light box and tank cars; None keeps today's mix."""

    @property
    def is_default(self) -> bool:
        """True when no key was given."""
        return self == SiteKeys()

    def toml_lines(self) -> list[str]:
        """The keys that are not defaults, as TOML lines of the ``[[aoi]]`` table."""
        lines = []
        if self.seasonal_amplitude:
            lines.append(f"seasonal_amplitude = {self.seasonal_amplitude!r}")
            lines.append(f"seasonal_peak_day = {self.seasonal_peak_day!r}")
        if self.light_car_share is not None:
            lines.append(f"light_car_share = {self.light_car_share!r}")
        for b in self.berths:
            lines += ["[[aoi.berth]]", f"occupancy = {b.occupancy!r}"]
            lines += [f"dwell_days = {b.dwell_days!r}", f"length_m = {b.length_m!r}"]
            lines += [f'from = "{b.start}"'] if b.start else []
            lines += [f'until = "{b.until}"'] if b.until else []
        for st in self.structures:
            lines += ["[[aoi.structure]]", f'from = "{st.start}"', f'kind = "{st.kind}"']
        return lines


def _months(value: Any, where: str, key: str) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != 12:
        raise fail(where, key, "expected an array of 12 probabilities (January to December)")
    return tuple(number(v, where, f"{key}[{i}]", 0.0, 1.0) for i, v in enumerate(value))


def parse_world(doc: Mapping[str, Any], where: str) -> WorldKeys:
    """The top-level keys of issue 13."""
    keys: dict[str, Any] = {}
    for name in ("cloud_probability_by_month", "snow_probability_by_month"):
        if name in doc:
            keys[name] = _months(doc[name], where, name)
    if "sea_ice_months" in doc:
        raw = doc["sea_ice_months"]
        if not isinstance(raw, list):
            raise fail(where, "sea_ice_months", "expected an array of months 1-12")
        months = tuple(integer(m, where, f"sea_ice_months[{i}]", 1, 12) for i, m in enumerate(raw))
        if len(set(months)) != len(months):
            raise fail(where, "sea_ice_months", "a month is given more than once")
        keys["sea_ice_months"] = tuple(sorted(months))
    if "misregistration_px" in doc:
        keys["misregistration_px"] = number(
            doc["misregistration_px"], where, "misregistration_px", 0.0, 5.0
        )
    if "haze" in doc:
        keys["haze"] = number(doc["haze"], where, "haze", 0.0, 2.0)
    if "shadows" in doc:
        if not isinstance(doc["shadows"], bool):
            raise fail(where, "shadows", f"expected true or false, got {doc['shadows']!r}")
        keys["shadows"] = doc["shadows"]
    return WorldKeys(**keys)


def parse_zone(value: Any, aoi_id: str, where: str, key: str) -> str:
    """A zone name of the AOI file where objects can stand."""
    from pipeline.simulate.grid import site_aoi  # the AOI file (pyproj): only when asked

    names = [z.name for z in site_aoi(aoi_id).zones]
    if not isinstance(value, str) or value not in names:
        raise fail(where, key, f"unknown zone {value!r} of {aoi_id} (zones: {', '.join(names)})")
    if value not in ZONE_SHARES[aoi_id]:
        usable = ", ".join(ZONE_SHARES[aoi_id])
        raise fail(where, key, f"no objects can stand in zone {value!r} (use one of: {usable})")
    return value


def parse_step_keys(
    raw: Mapping[str, Any], metric: str, aoi_id: str, where: str, path: str
) -> dict[str, Any]:
    """``dwell_days``, ``zone`` and ``length_m`` of one activity step."""
    keys: dict[str, Any] = {}
    if "dwell_days" in raw:
        dwell = number(raw["dwell_days"], where, f"{path}.dwell_days", 0.0, MAX_DWELL_DAYS)
        if dwell <= 0:
            raise fail(where, f"{path}.dwell_days", "must be > 0")
        keys["dwell_days"] = dwell
    if "zone" in raw:
        keys["zone"] = parse_zone(raw["zone"], aoi_id, where, f"{path}.zone")
    if "length_m" in raw:
        if metric != "ships":
            raise fail(where, f"{path}.length_m", f"{aoi_id} has no ships")
        value = raw["length_m"]
        if not isinstance(value, list) or len(value) != 2:
            raise fail(where, f"{path}.length_m", "expected [min, max] in metres")
        low = number(value[0], where, f"{path}.length_m[0]", 20.0, 400.0)
        high = number(value[1], where, f"{path}.length_m[1]", 20.0, 400.0)
        if high < low:
            raise fail(where, f"{path}.length_m", f"[{low:g}, {high:g}] is reversed")
        keys["length_m"] = (low, high)
    return keys


def _table_list(
    entry: Mapping[str, Any], key: str, where: str, path: str
) -> list[Mapping[str, Any]]:
    raw = entry.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
        raise fail(where, f"{path}.{key}", f"must be an array of tables ([[aoi.{key}]])")
    return raw


def _berth(raw: Mapping[str, Any], where: str, path: str) -> BerthSpec:
    check_keys(raw, _BERTH_KEYS, where, path)
    for key in ("occupancy", "dwell_days", "length_m"):
        if key not in raw:
            raise fail(where, f"{path}.{key}", "missing")
    occupancy = number(raw["occupancy"], where, f"{path}.occupancy", 0.0, 1.0)
    dwell = number(raw["dwell_days"], where, f"{path}.dwell_days", 0.0, MAX_DWELL_DAYS)
    if dwell <= 0:
        raise fail(where, f"{path}.dwell_days", "must be > 0")
    length = number(raw["length_m"], where, f"{path}.length_m", 20.0, 400.0)
    start = parse_date(raw["from"], where, f"{path}.from") if "from" in raw else None
    until = parse_date(raw["until"], where, f"{path}.until") if "until" in raw else None
    if start is not None and until is not None and until < start:
        raise fail(where, f"{path}.until", f"{until} is before from {start} (reversed)")
    return BerthSpec(occupancy, dwell, length, start, until)


def parse_site_keys(
    entry: Mapping[str, Any], metric: str, aoi_id: str, where: str, path: str
) -> SiteKeys:
    """The per-AOI keys of issue 13."""
    keys: dict[str, Any] = {}
    if "seasonal_amplitude" in entry:
        keys["seasonal_amplitude"] = number(
            entry["seasonal_amplitude"], where, f"{path}.seasonal_amplitude", 0.0, 1.0
        )
    if "seasonal_peak_day" in entry:
        keys["seasonal_peak_day"] = number(
            entry["seasonal_peak_day"], where, f"{path}.seasonal_peak_day", 1.0, 366.0
        )
    berths = _table_list(entry, "berth", where, path)
    if berths and metric != "ships":
        raise fail(where, f"{path}.berth", f"{aoi_id} has no berths")
    if len(berths) > MAX_BERTHS:
        raise fail(where, f"{path}.berth", f"more than {MAX_BERTHS} berths")
    keys["berths"] = tuple(_berth(b, where, f"{path}.berth[{i}]") for i, b in enumerate(berths))
    structures = []
    for i, raw in enumerate(_table_list(entry, "structure", where, path)):
        spath = f"{path}.structure[{i}]"
        check_keys(raw, _STRUCTURE_KEYS, where, spath)
        if "from" not in raw:
            raise fail(where, f"{spath}.from", "missing (the date it is built)")
        kind = raw.get("kind")
        if kind not in STRUCTURE_KINDS or (kind == "pier-extension" and metric != "ships"):
            raise fail(
                where, f"{spath}.kind", f"{kind!r} is not one of {', '.join(STRUCTURE_KINDS)} here"
            )
        structures.append(StructureSpec(parse_date(raw["from"], where, f"{spath}.from"), str(kind)))
    keys["structures"] = tuple(structures)
    if "light_car_share" in entry:
        if metric != "railcars":
            raise fail(where, f"{path}.light_car_share", f"{aoi_id} has no railcars")
        keys["light_car_share"] = number(
            entry["light_car_share"], where, f"{path}.light_car_share", 0.0, 1.0
        )
    return SiteKeys(**keys)

"""Claim (b), "ships docking for the first time since 2018", measured as visits at the piers.

Pure: plain dates, positions and numpy; no I/O. :func:`link_visits` turns the ships seen
in clear scenes into visits, :func:`month_chances` says how likely a visit of typical
length was to be seen each month, and :func:`visits_rule` gives the verdict.

What counts as a ship here
    A detection inside the claim's harbour zone (``harbour_zone``, default ``harbour``:
    the piers, not the anchorage) that is at least ``min_ship_length_m`` long (default
    90 m: the cargo ships of the claim are 110-115 m; fishing boats, tugs and small
    coastal craft are shorter). Ships in the anchorage and small craft never make a visit.

Visits
    Clear scenes (the claim's ``min_clear_fraction``, one per date) in date order. A ship
    within :data:`BERTH_RADIUS_PX` (2 pixels, 20 m) of where a visit's ship was last seen
    continues that visit; a visit ends at the first clear scene that does not show it (a
    cloudy scene in between does not end it). A ship that continues no visit starts one.

The chance of seeing a visit
    For each calendar month, the share of its days on which a visit of ``visit_days``
    (default 3: a short port call) starting that day overlaps at least one clear scene.
    Visits are taken to arrive as a Poisson stream of ``visits_per_month`` (default 1),
    each seen independently with that month's chance, so the chance of having seen at
    least one visit in a quarter is ``1 - exp(-visits_per_month * sum of its months'
    chances)``. Quarters are counted from the absence period's start; a remainder of one
    or two months joins the last quarter.

Verdict (absence period: ``baseline[0]`` (2019-01-01) to the day before the window)
    A visit *arrives* on its first sighting: a ship docked before the absence period and
    still seen in it (one laid up since 2018, say) is reported, not counted as docking.

    1. a visit arriving in the absence period → **contradicted**;
    2. no visit seen in the window although the window's chance of seeing one reaches
       ``min_detection_chance`` → **contradicted**;
    3. no visit in the absence period, every quarter of it seen with a chance of at least
       ``min_detection_chance`` (default 0.9), and a visit in the window → **supported**;
    4. otherwise → **inconclusive**, naming the months the archive could not see.
    The last visit seen before the absence period is reported when the archive reaches
    that far.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np

from pipeline.claims.verdict import VerdictLabel
from pipeline.claims.visit_chances import (
    Quarter,
    month_chances,
    month_key,
    month_ranges,
    months_between,
    quarters_of,
    seen_chance,
)

#: Version of the visits rule, recorded with each verdict.
VISITS_RULE_VERSION: Final = "visits 1 (linked visits at the piers, Poisson chance per quarter)"
#: A ship within this many 10 m pixels of a visit's last position continues it.
BERTH_RADIUS_PX: Final = 2.0
#: Ground size of one pixel, metres.
PIXEL_M: Final = 10.0
#: Metres per degree of latitude (spherical Earth, WGS84 mean radius).
M_PER_DEG: Final = 111_195.0


@dataclass(frozen=True)
class ShipMark:
    """One ship detection, reduced to what the visit rule needs."""

    aoi: str
    """The AOI it was detected in."""
    scene_id: str
    """The scene it was seen in."""
    x_m: float
    """East position, metres (any fixed local origin; only differences matter)."""
    y_m: float
    """North position, metres."""
    length_m: float | None
    """Length, metres (None when unknown: never counts as a visiting ship)."""
    zones: tuple[str, ...] = ()
    """The AOI zones it lies in (``harbour``, ``anchorage``...)."""


@dataclass(frozen=True)
class Look:
    """One clear scene: its date and the qualifying ships it shows."""

    day: date
    """UTC date."""
    scene_id: str
    """Scene id."""
    positions: tuple[tuple[float, float], ...]
    """East/north metres of each ship in the harbour zone of at least the minimum length."""


@dataclass(frozen=True)
class Visit:
    """A ship seen at one berth over consecutive clear scenes."""

    first: date
    """First clear scene that shows it."""
    last: date
    """Last clear scene that shows it."""
    n_scenes: int
    """Clear scenes that show it."""
    x_m: float
    """East position where it was last seen, metres."""
    y_m: float
    """North position where it was last seen, metres."""
    scene_ids: tuple[str, ...] = ()
    """The scenes that show it, in date order."""

    def overlaps(self, start: date, end: date) -> bool:
        """Whether it was seen on some day of ``start..end`` (its first to last sighting)."""
        return self.first <= end and self.last >= start

    def label(self) -> str:
        """``2023-08-04`` or ``2023-08-04..2023-08-14 (3 scenes)``."""
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()} ({self.n_scenes} scenes)"

    def to_json(self) -> dict[str, Any]:
        """A JSON object."""
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "n_scenes": self.n_scenes,
            "scene_ids": list(self.scene_ids),
        }


@dataclass(frozen=True)
class VisitEvidence:
    """Everything the visits rule looked at, kept with the verdict for the report."""

    absence: tuple[date, date]
    """The absence period, both inclusive."""
    window: tuple[date, date]
    """The test window, both inclusive."""
    visits: tuple[Visit, ...]
    """Every visit seen, in date order."""
    month_chance: tuple[tuple[str, float, int], ...]
    """Per calendar month from the first clear scene's month (or the absence start, if
    earlier) to the window's end: (``YYYY-MM``, chance of seeing a visit, clear scenes)."""
    quarters: tuple[Quarter, ...]
    """The absence period's quarters."""
    window_chance: float
    """Chance of at least one visit seen in the window, had ships called at the rate."""
    last_before: Visit | None
    """The last visit that arrived before the absence period, if any (it may have stayed
    into it: a ship already at berth is not one docking)."""
    reaches_before: bool
    """Whether the archive has a clear scene before the absence period."""
    visit_days: float
    """The typical visit length the chances are for, days."""
    min_length_m: float
    """Shortest ship counted, metres."""
    zone: str
    """The harbour zone ships were counted in."""
    n_small: int = 0
    """Ships in the zone left out as shorter than ``min_length_m``."""
    n_outside: int = 0
    """Ships of the minimum length left out as outside the zone (the anchorage)."""
    scene_days: tuple[date, ...] = field(default=(), repr=False)
    """Dates of the clear scenes the visits were linked on."""

    def in_period(self, start: date, end: date) -> tuple[Visit, ...]:
        """Visits seen on some day of ``start..end``."""
        return tuple(v for v in self.visits if v.overlaps(start, end))

    def arrivals(self, start: date, end: date) -> tuple[Visit, ...]:
        """Visits first seen on some day of ``start..end`` (ships that docked then)."""
        return tuple(v for v in self.visits if start <= v.first <= end)

    def to_json(self) -> dict[str, Any]:
        """A JSON object: the visits, the chances per month and quarter, the last before."""
        return {
            "absence": [self.absence[0].isoformat(), self.absence[1].isoformat()],
            "zone": self.zone,
            "min_length_m": self.min_length_m,
            "visit_days": self.visit_days,
            "visits": [v.to_json() for v in self.visits],
            "n_visits_absence": len(self.arrivals(*self.absence)),
            "n_visits_window": len(self.in_period(*self.window)),
            "month_chance": [
                {"month": m, "chance": round(p, 4), "clear_scenes": n}
                for m, p, n in self.month_chance
            ],
            "quarters": [{"months": q.label, "chance": round(q.chance, 4)} for q in self.quarters],
            "window_chance": round(self.window_chance, 4),
            "last_visit_before": None if self.last_before is None else self.last_before.to_json(),
            "archive_reaches_before": self.reaches_before,
            "ships_left_out_small": self.n_small,
            "ships_left_out_outside_zone": self.n_outside,
        }


def local_metres(lon: float, lat: float, *, lat0: float) -> tuple[float, float]:
    """East/north metres of ``lon, lat`` on a plane tangent at latitude ``lat0`` (good to
    centimetres across a 6 km AOI)."""
    return (lon * M_PER_DEG * math.cos(math.radians(lat0)), lat * M_PER_DEG)


def looks_from(
    days: Sequence[date],
    scene_ids: Sequence[str],
    marks: Iterable[ShipMark],
    *,
    zone: str,
    min_length_m: float,
) -> tuple[list[Look], int, int]:
    """The clear scenes as :class:`Look` objects with their qualifying ships, and how many
    ships were left out as small and as outside the zone."""
    by_scene: dict[str, list[tuple[float, float]]] = {s: [] for s in scene_ids}
    n_small = n_outside = 0
    for m in marks:
        if m.scene_id not in by_scene:
            continue
        in_zone = zone in m.zones
        long_enough = m.length_m is not None and m.length_m >= min_length_m
        if not long_enough:
            n_small += int(in_zone)
            continue
        if not in_zone:
            n_outside += 1
            continue
        by_scene[m.scene_id].append((m.x_m, m.y_m))
    looks = [Look(d, s, tuple(by_scene[s])) for d, s in zip(days, scene_ids, strict=True)]
    return looks, n_small, n_outside


def link_visits(
    looks: Sequence[Look], *, radius_m: float = BERTH_RADIUS_PX * PIXEL_M
) -> list[Visit]:
    """Link the ships of clear scenes (date order) into visits (module docstring).

    Matching is greedy on distance: the closest ship-visit pair within ``radius_m`` first,
    so two ships moored side by side continue their own visits.
    """
    open_: list[Visit] = []
    done: list[Visit] = []
    for look in sorted(looks, key=lambda lk: lk.day):
        pts = np.asarray(look.positions, dtype=np.float64).reshape(-1, 2)
        pairs = []
        for i, v in enumerate(open_):
            if pts.size:
                dist = np.hypot(pts[:, 0] - v.x_m, pts[:, 1] - v.y_m)
                pairs += [(float(d), i, j) for j, d in enumerate(dist) if d <= radius_m]
        used_v: set[int] = set()
        used_p: set[int] = set()
        extended: dict[int, Visit] = {}
        for _, i, j in sorted(pairs):
            if i in used_v or j in used_p:
                continue
            used_v.add(i)
            used_p.add(j)
            v = open_[i]
            extended[i] = Visit(
                v.first,
                look.day,
                v.n_scenes + 1,
                float(pts[j, 0]),
                float(pts[j, 1]),
                (*v.scene_ids, look.scene_id),
            )
        still_open = [extended[i] for i in range(len(open_)) if i in extended]
        done += [v for i, v in enumerate(open_) if i not in extended]
        still_open += [
            Visit(look.day, look.day, 1, float(pts[j, 0]), float(pts[j, 1]), (look.scene_id,))
            for j in range(len(pts))
            if j not in used_p
        ]
        open_ = still_open
    return sorted([*done, *open_], key=lambda v: (v.first, v.x_m, v.y_m))


@dataclass(frozen=True)
class VisitsParams:
    """The claim keys the visits rule reads."""

    absence: tuple[date, date]
    """Absence period, both inclusive."""
    window: tuple[date, date]
    """Test window, both inclusive."""
    zone: str = "harbour"
    """Harbour zone's name."""
    min_length_m: float = 90.0
    """Shortest ship that makes a visit, metres."""
    min_detection_chance: float = 0.9
    """Chance per quarter of having seen a visit needed to claim absence."""
    visit_days: float = 3.0
    """Typical visit length, days."""
    visits_per_month: float = 1.0
    """Rate of visits the chance is computed for."""


def measure_visits(
    days: Sequence[date], scene_ids: Sequence[str], marks: Iterable[ShipMark], p: VisitsParams
) -> VisitEvidence:
    """Link the visits and compute the chances of seeing them (module docstring)."""
    looks, n_small, n_outside = looks_from(
        days, scene_ids, marks, zone=p.zone, min_length_m=p.min_length_m
    )
    visits = link_visits(looks)
    first = min([*days, p.absence[0]])
    chances = month_chances(days, months_between(first, p.window[1]), visit_days=p.visit_days)
    absence_keys = {month_key(m) for m in months_between(*p.absence)}
    window_keys = {month_key(m) for m in months_between(*p.window)}
    absence_months = [c for c in chances if c[0] in absence_keys]
    before = [v for v in visits if v.first < p.absence[0]]
    return VisitEvidence(
        absence=p.absence,
        window=p.window,
        visits=tuple(visits),
        month_chance=tuple(chances),
        quarters=tuple(quarters_of(absence_months, visits_per_month=p.visits_per_month)),
        window_chance=seen_chance(
            (c for m, c, _ in chances if m in window_keys), visits_per_month=p.visits_per_month
        ),
        last_before=before[-1] if before else None,
        reaches_before=any(d < p.absence[0] for d in days),
        visit_days=p.visit_days,
        min_length_m=p.min_length_m,
        zone=p.zone,
        n_small=n_small,
        n_outside=n_outside,
        scene_days=tuple(days),
    )


def visits_rule(ev: VisitEvidence, *, min_detection_chance: float) -> tuple[VerdictLabel, str]:
    """Apply the visits rules (module docstring) and say which one decided."""
    a0, a1 = ev.absence
    absent_span = f"{a0.isoformat()}..{a1.isoformat()}"
    before = _before_text(ev)
    in_absence = ev.arrivals(*ev.absence)
    in_window = ev.in_period(*ev.window)
    if in_absence:
        shown = ", ".join(v.label() for v in in_absence[:5])
        more = f" and {len(in_absence) - 5} more" if len(in_absence) > 5 else ""
        return "contradicted", (
            f"{len(in_absence)} visits of ships >= {ev.min_length_m:.0f} m at the "
            f"{ev.zone} in {absent_span}: {shown}{more}{before}"
        )
    if not in_window and ev.window_chance >= min_detection_chance:
        return "contradicted", (
            f"no visit of a ship >= {ev.min_length_m:.0f} m in the window although one would "
            f"have been seen with chance {ev.window_chance:.2f}{before}"
        )
    weak = [q for q in ev.quarters if q.chance < min_detection_chance]
    failed = []
    if weak:
        chance = {m: (p, n) for m, p, n in ev.month_chance}
        blind = [m for q in weak for m in q.months if chance[m][1] == 0]
        thin = [m for q in weak for m in q.months if chance[m][1] > 0]
        text = (
            f"{len(weak)} of {len(ev.quarters)} quarters of {absent_span} were seen with a "
            f"chance below {min_detection_chance:.2f} of catching a {ev.visit_days:g}-day visit"
        )
        if blind:
            text += f"; no clear scene in {month_ranges(blind)}"
        if thin:
            text += f"; too few clear scenes in {month_ranges(thin)}"
        failed.append(text)
    if not in_window:
        failed.append(f"no visit seen in the window (chance of seeing one {ev.window_chance:.2f})")
    if failed:
        return "inconclusive", "; ".join(failed) + before
    return "supported", (
        f"{len(in_window)} visits in the window ({', '.join(v.label() for v in in_window[:5])}) "
        f"and none in {absent_span}, every quarter of which was seen with a chance of at "
        f"least {min(q.chance for q in ev.quarters):.2f}{before}"
    )


def _before_text(ev: VisitEvidence) -> str:
    if ev.last_before is not None:
        stayed = " (still there after it)" if ev.last_before.last >= ev.absence[0] else ""
        return (
            f"; last visit seen before {ev.absence[0].isoformat()}: "
            f"{ev.last_before.label()}{stayed}"
        )
    if ev.reaches_before:
        return f"; no visit seen before {ev.absence[0].isoformat()}"
    return ""

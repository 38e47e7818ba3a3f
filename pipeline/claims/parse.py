"""The claims file: ``[claims.<id>]`` tables read and validated into :class:`Claim` objects.

See ``seeds/claims.toml`` for an annotated example; the verdict rules are in
:mod:`pipeline.claims.rules`.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal

from pipeline.claims.series import Metric
from pipeline.errors import RasonWatchError

TestKind = Literal["rate-ratio", "presence", "visits"]
Direction = Literal["increase", "decrease"]

METRICS: Final[tuple[Metric, ...]] = ("ships", "railcar_equivalents")
TESTS: Final[tuple[TestKind, ...]] = ("rate-ratio", "presence", "visits")
DIRECTIONS: Final[tuple[Direction, ...]] = ("increase", "decrease")
#: Default windows: the months before the 2023-11-29 report, against the years before.
DEFAULT_BASELINE: Final = (date(2019, 1, 1), date(2023, 6, 30))
DEFAULT_WINDOW: Final = (date(2023, 8, 1), date(2023, 11, 29))
CLAIM_ID: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class InvalidClaimsError(RasonWatchError, ValueError):
    """A claims file is malformed, holds an unknown key or a value out of range."""


@dataclass(frozen=True)
class Claim:
    """One claim to test, as written in a claims file."""

    id: str
    """Unique id (``port-spike-2023``); other tools look claims up by it."""
    quote: str
    """Short quotation of the claim."""
    source: str
    """Where the quotation comes from."""
    aoi: str
    """AOI id the claim is about."""
    metric: Metric
    """``ships`` or ``railcar_equivalents``."""
    test: TestKind = "rate-ratio"
    """``rate-ratio`` (a spike), ``visits`` (first time since: visits at the piers) or
    ``presence`` (first time since, as any ship in any clear scene: the rule before
    issue 17)."""
    direction: Direction = "increase"
    """The change claimed."""
    baseline: tuple[date, date] = DEFAULT_BASELINE
    """Baseline window, both dates inclusive."""
    window: tuple[date, date] = DEFAULT_WINDOW
    """Test window, both dates inclusive."""
    min_clear_fraction: float = 0.8
    """A scene counts only when at least this share of the AOI was seen clear."""
    min_n: int = 8
    """Fewest clear scenes needed on each side for any verdict but inconclusive."""
    margin: float = 1.25
    """Smallest rate ratio that counts as a meaningful increase (1/margin for a decrease)."""
    alpha: float = 0.05
    """Significance level of the one-sided p-value."""
    presence_min: float = 1.0
    """Presence test: the metric value at which a scene shows the thing."""
    max_baseline_presence: float = 0.10
    """Presence test: share of baseline scenes showing it that still counts as "none"."""
    min_baseline_coverage: float = 0.8
    """Presence test: share of baseline months with a clear scene needed to claim absence."""
    harbour_zone: str = "harbour"
    """Visits test: the AOI zone whose ships make visits (the piers, not the anchorage)."""
    min_ship_length_m: float = 90.0
    """Visits test: the shortest ship that makes a visit, metres (small craft are shorter)."""
    min_detection_chance: float = 0.9
    """Visits test: the chance of having seen a visit needed in every quarter of the
    absence period (and, for a contradiction by absence, in the window)."""
    visit_days: float = 3.0
    """Visits test: the typical length of a visit, days (a short port call)."""
    visits_per_month: float = 1.0
    """Visits test: the rate of visits that the chance of having seen one assumes."""
    zone: str | None = None
    """A yard zone of the AOI (``tumangang-yard``): the claim is tested on that zone's own
    series (``zone_observations``); None tests the AOI total. Railcar claims only."""
    group: str | None = None
    """Claims sharing a group are parts of one sentence ("a spike from the port *and* the
    rail line"): their joint verdict is supported only if every part is."""

    def too_few(self, n_base: int, n_test: int, *, base: str = "in the baseline") -> str | None:
        """Why ``n_base`` and ``n_test`` clear scenes are too few for a verdict, or None.

        ``base`` says where the baseline scenes were counted.
        """
        if n_base >= self.min_n and n_test >= self.min_n:
            return None
        return (
            f"too few clear scenes: {n_base} {base} and {n_test} in the test window, "
            f"at least {self.min_n} each needed"
        )

    def __post_init__(self) -> None:
        where = f"claim {self.id!r}"
        if not CLAIM_ID.fullmatch(self.id):
            raise InvalidClaimsError(f"{where}: id must match {CLAIM_ID.pattern}")
        if self.zone is not None and self.metric != "railcar_equivalents":
            raise InvalidClaimsError(f"{where}: zone is for railcar_equivalents claims only")
        if self.zone is not None and not CLAIM_ID.fullmatch(self.zone):
            raise InvalidClaimsError(f"{where}: zone must match {CLAIM_ID.pattern}")
        if not CLAIM_ID.fullmatch(self.harbour_zone):
            raise InvalidClaimsError(f"{where}: harbour_zone must match {CLAIM_ID.pattern}")
        if self.test == "visits" and self.metric != "ships":
            raise InvalidClaimsError(f"{where}: the visits test is for ships claims only")
        if self.group is not None and not CLAIM_ID.fullmatch(self.group):
            raise InvalidClaimsError(f"{where}: group must match {CLAIM_ID.pattern}")
        for name, (start, end) in (("baseline", self.baseline), ("window", self.window)):
            if end < start:
                raise InvalidClaimsError(f"{where}: {name} ends before it starts")
        if self.baseline[1] >= self.window[0]:
            raise InvalidClaimsError(f"{where}: baseline must end before the test window starts")
        checks = (
            ("min_clear_fraction", 0.0 <= self.min_clear_fraction <= 1.0, "between 0 and 1"),
            ("min_n", self.min_n >= 2, "at least 2"),
            ("margin", self.margin > 1.0 and math.isfinite(self.margin), "a number above 1"),
            ("alpha", 0.0 < self.alpha < 0.5, "between 0 and 0.5"),
            ("max_baseline_presence", 0.0 <= self.max_baseline_presence < 1.0, "in [0, 1)"),
            ("min_baseline_coverage", 0.0 <= self.min_baseline_coverage <= 1.0, "in [0, 1]"),
            ("presence_min", self.presence_min > 0.0, "above 0"),
            ("min_ship_length_m", 0.0 <= self.min_ship_length_m < 1000.0, "in [0, 1000)"),
            ("min_detection_chance", 0.0 < self.min_detection_chance < 1.0, "in (0, 1)"),
            ("visit_days", 0.0 < self.visit_days <= 90.0, "in (0, 90]"),
            ("visits_per_month", 0.0 < self.visits_per_month <= 100.0, "in (0, 100]"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise InvalidClaimsError(f"{where}: {name} must be {rule}")


# --- the claims file ------------------------------------------------------------------------
_REQUIRED: Final = ("quote", "source", "aoi", "metric")
_OPTIONAL: Final = (
    "test",
    "direction",
    "baseline",
    "window",
    "min_clear_fraction",
    "min_n",
    "margin",
    "alpha",
    "presence_min",
    "max_baseline_presence",
    "min_baseline_coverage",
    "zone",
    "group",
    "harbour_zone",
    "min_ship_length_m",
    "min_detection_chance",
    "visit_days",
    "visits_per_month",
)


def load_claims(path: Path | str) -> tuple[Claim, ...]:
    """Read and validate a claims TOML file (``[claims.<id>]`` tables).

    Raises:
        InvalidClaimsError: the file is missing, not TOML, or a claim is invalid.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidClaimsError(f"cannot read claims file {where!r}: {reason}") from None
    return parse_claims(text, where=where)


def parse_claims(source: str | Mapping[str, Any], *, where: str = "<claims>") -> tuple[Claim, ...]:
    """Validate claims from TOML text or the mapping ``tomllib`` returns.

    Raises:
        InvalidClaimsError: malformed TOML, an unknown key, a missing key or a bad value.
    """
    if isinstance(source, str):
        try:
            doc: Mapping[str, Any] = tomllib.loads(source)
        except (ValueError, RecursionError) as exc:  # TOMLDecodeError, or a huge integer
            raise InvalidClaimsError(f"claims file {where}: not valid TOML ({exc})") from None
    else:
        doc = source
    unknown = sorted(set(doc) - {"claims"})
    if unknown:
        raise InvalidClaimsError(
            f"claims file {where}: unknown top-level key {unknown[0]!r}; "
            "claims go in [claims.<id>] tables"
        )
    table = doc.get("claims")
    if not isinstance(table, Mapping) or not table:
        raise InvalidClaimsError(f"claims file {where}: no [claims.<id>] tables")
    return tuple(_claim(str(cid), body, where) for cid, body in table.items())


def _claim(cid: str, body: Any, where: str) -> Claim:
    if not CLAIM_ID.fullmatch(cid):  # first: the id is part of every message below
        raise InvalidClaimsError(
            f"claims file {where}: claim {cid!r}: id must match {CLAIM_ID.pattern}"
        )
    at = f"claims file {where}: claims.{cid}"
    if not isinstance(body, Mapping):
        raise InvalidClaimsError(f"{at} must be a table")
    unknown = sorted(set(body) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        known = ", ".join((*_REQUIRED, *_OPTIONAL))
        raise InvalidClaimsError(f"{at}: unknown key {unknown[0]!r} (known keys: {known})")
    missing = [k for k in _REQUIRED if k not in body]
    if missing:
        raise InvalidClaimsError(f"{at}: missing key {missing[0]!r}")
    kwargs: dict[str, Any] = {"id": cid}
    for key in ("quote", "source", "aoi"):
        kwargs[key] = _text(body[key], f"{at}.{key}")
    for key in ("zone", "group", "harbour_zone"):
        if key in body:
            kwargs[key] = _text(body[key], f"{at}.{key}")
    kwargs["metric"] = _choice(body["metric"], METRICS, f"{at}.metric")
    if "test" in body:
        kwargs["test"] = _choice(body["test"], TESTS, f"{at}.test")
    if "direction" in body:
        kwargs["direction"] = _choice(body["direction"], DIRECTIONS, f"{at}.direction")
    for key in ("baseline", "window"):
        if key in body:
            kwargs[key] = _window(body[key], f"{at}.{key}")
    for key in ("min_clear_fraction", "margin", "alpha", "presence_min"):
        if key in body:
            kwargs[key] = _number(body[key], f"{at}.{key}")
    for key in (
        "max_baseline_presence",
        "min_baseline_coverage",
        "min_ship_length_m",
        "min_detection_chance",
        "visit_days",
        "visits_per_month",
    ):
        if key in body:
            kwargs[key] = _number(body[key], f"{at}.{key}")
    if "min_n" in body:
        value = body["min_n"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidClaimsError(f"{at}.min_n must be an integer, got {value!r}")
        kwargs["min_n"] = value
    try:
        return Claim(**kwargs)
    except InvalidClaimsError as exc:
        raise InvalidClaimsError(f"claims file {where}: {exc}") from None


def _text(value: Any, at: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidClaimsError(f"{at} must be a non-empty string")
    return value.strip()


def _choice(value: Any, allowed: Sequence[str], at: str) -> Any:
    if value not in allowed:
        raise InvalidClaimsError(f"{at} is {value!r}; use one of {', '.join(allowed)}")
    return value


def _number(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaimsError(f"{at} must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        raise InvalidClaimsError(f"{at} is out of range, got {value!r}") from None


def _window(value: Any, at: str) -> tuple[date, date]:
    if not isinstance(value, list) or len(value) != 2:
        raise InvalidClaimsError(f"{at} must be [start, end], e.g. [2023-08-01, 2023-11-29]")
    out = []
    for item in value:
        if isinstance(item, date) and not hasattr(item, "hour"):
            out.append(item)
            continue
        try:
            out.append(date.fromisoformat(str(item)))
        except ValueError:
            raise InvalidClaimsError(f"{at}: {item!r} is not a date (YYYY-MM-DD)") from None
    return out[0], out[1]


# --- verdicts ---------------------------------------------------------------------------------

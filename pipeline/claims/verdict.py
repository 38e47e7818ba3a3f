"""The :class:`Verdict` of one claim: the ``evaluate --json`` object and its extras."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pipeline.claims.changepoint import Onset
from pipeline.claims.evidence import Evidence
from pipeline.claims.registration import Registration
from pipeline.claims.stats import Proportion

if TYPE_CHECKING:
    from pipeline.claims.visits import VisitEvidence

VerdictLabel = Literal["supported", "contradicted", "inconclusive"]

#: The ``evaluate --json`` fields, a fixed contract (README.md, Guarantees), in order.
CONTRACT_FIELDS = (
    "claim",
    "aoi",
    "metric",
    "verdict",
    "baseline_mean",
    "test_mean",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "n_baseline",
    "n_test",
    "onset",
    "simulated",
)


@dataclass(frozen=True)
class Verdict:
    """What the observations say about one claim."""

    claim: str
    """Claim id."""
    aoi: str
    """AOI id."""
    metric: str
    """Metric compared (``ships`` or ``railcar_equivalents``)."""
    verdict: VerdictLabel
    """``supported``, ``contradicted`` or ``inconclusive``."""
    baseline_mean: float | None
    """Mean of the metric per clear baseline scene (None with no baseline scene)."""
    test_mean: float | None
    """Mean of the metric per clear test-window scene (None with no test scene)."""
    ratio: float | None
    """``test_mean / baseline_mean``; ``inf`` when only the baseline is 0, None when
    undefined."""
    ci_low: float | None
    """95 % bootstrap interval of the ratio, lower bound."""
    ci_high: float | None
    """95 % bootstrap interval of the ratio, upper bound (``inf`` when unbounded)."""
    p_value: float | None
    """One-sided p-value of the claim's test (block permutation, for a rate ratio and for
    presence)."""
    n_baseline: int
    """Clear scenes in the baseline window."""
    n_test: int
    """Clear scenes in the test window."""
    onset: date | None
    """Change-point date found on the whole series, independently of the windows."""
    simulated: bool
    """True when any scene of the AOI was simulated."""
    onset_low: date | None = None
    """Earliest date of the onset's 95 % interval."""
    onset_high: date | None = None
    """Latest date of the onset's 95 % interval."""
    reason: str = ""
    """Which rule decided the verdict, in one sentence."""
    test: str = "rate-ratio"
    """The claim's test (``rate-ratio`` or ``presence``)."""
    notes: tuple[str, ...] = ()
    """Caveats a reader should see (archive coverage, scenes left out)."""
    presence_baseline: Proportion | None = None
    """Presence test: share of clear baseline scenes showing the thing."""
    presence_test: Proportion | None = None
    """Presence test: share of clear test scenes showing the thing."""
    onset_detail: Onset | None = field(default=None, compare=False, repr=False)
    """The full change-point result (segments, for the plots)."""
    evidence: Evidence | None = field(default=None, compare=False, repr=False)
    """Rate-ratio claims: everything rule 2 computed (baselines, blocks, window scan)."""
    registration: Registration | None = None
    """The claims file's hash, windows, reference period and rule version."""
    group: str | None = None
    """The claim's ``group`` key (parts of one sentence), if any."""
    group_verdict: VerdictLabel | None = None
    """The joint verdict of the group: supported only when every part is."""
    visits: VisitEvidence | None = field(default=None, compare=False, repr=False)
    """Visits claims: the visits seen at the piers and the chances of seeing one
    (:mod:`pipeline.claims.visits`). ``baseline_mean`` and ``test_mean`` are then visits
    seen per month in the absence period and in the window."""

    def to_json(self) -> dict[str, Any]:
        """The ``evaluate --json`` object: the contract's fields first, then extras.

        Infinite or undefined numbers become null (JSON has no infinity; an unbounded
        ratio is explained in ``reason``); dates are ``YYYY-MM-DD``.
        """
        ev = self.evidence
        scan = None if ev is None else ev.scan
        b, t = self.presence_baseline, self.presence_test
        return {
            "claim": self.claim,
            "aoi": self.aoi,
            "metric": self.metric,
            "verdict": self.verdict,
            "baseline_mean": _num(self.baseline_mean),
            "test_mean": _num(self.test_mean),
            "ratio": _num(self.ratio),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "p_value": _num(self.p_value),
            "n_baseline": self.n_baseline,
            "n_test": self.n_test,
            "onset": _day(self.onset),
            "simulated": self.simulated,
            "onset_low": _day(self.onset_low),
            "onset_high": _day(self.onset_high),
            "test": self.test,
            "reason": self.reason,
            "notes": list(self.notes),
            "n_baseline_effective": _effective(ev.primary.n_effective if ev else None, b),
            "n_test_effective": _effective(ev.window.n_effective if ev else None, t),
            "false_alarm_rate": None if scan is None else _num(scan.false_alarm_rate),
            "group": self.group,
            "group_verdict": self.group_verdict,
            "rule": None if ev is None else ev.to_json(),
            "registration": None if self.registration is None else self.registration.to_json(),
            "visits": None if self.visits is None else self.visits.to_json(),
        }


def _effective(value: float | None, share: Proportion | None) -> float | None:
    """The rule's effective n, else the presence share's."""
    if value is None and share is not None:
        value = share.n_effective
    return _num(value)


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 6)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()

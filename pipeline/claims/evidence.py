"""What the rate-ratio rule of issue 15 looked at, kept with the verdict for the report.

Frozen records, no logic beyond formatting: :class:`Baseline` (one baseline compared with the
window), :class:`WindowSide` (the window itself) and :class:`Evidence` (all of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.claims.scan import Scan

Range = tuple[date, date]


@dataclass(frozen=True)
class Baseline:
    """One baseline the window was compared with."""

    name: str
    """``season-matched`` (decides), ``full`` or ``2019`` (sensitivity lines)."""
    ranges: tuple[Range, ...]
    """The periods it covers."""
    n: int
    """Clear scenes in it."""
    n_effective: float
    """Independent looks those scenes are worth (:func:`pipeline.claims.blocks.effective_n`)."""
    mean: float | None
    """Mean of the metric per clear scene (None without scenes)."""
    ratio: float | None
    """Window mean over this mean (``inf`` when this is 0 and the window is not)."""
    ci_low: float | None
    """95 % block-bootstrap interval of the ratio, lower bound."""
    ci_high: float | None
    """95 % block-bootstrap interval of the ratio, upper bound."""
    clear_per_month: tuple[tuple[str, int], ...]
    """Clear scenes per calendar month the ranges touch (``("2019-08", 3)``)."""

    @property
    def empty_months(self) -> tuple[str, ...]:
        """Months without a clear scene."""
        return tuple(month for month, count in self.clear_per_month if count == 0)

    def to_json(self) -> dict[str, Any]:
        """A JSON object (infinite numbers become null)."""
        return {
            "name": self.name,
            "ranges": [[a.isoformat(), b.isoformat()] for a, b in self.ranges],
            "n": self.n,
            "n_effective": _num(self.n_effective),
            "mean": _num(self.mean),
            "ratio": _num(self.ratio),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "months_without_clear_scenes": list(self.empty_months),
        }


@dataclass(frozen=True)
class WindowSide:
    """The claim's test window as the rule saw it."""

    range: Range
    """The window."""
    n: int
    """Clear scenes in it."""
    n_effective: float
    """Independent looks they are worth."""
    clear_per_month: tuple[tuple[str, int], ...]
    """Clear scenes per calendar month of the window."""

    @property
    def empty_months(self) -> tuple[str, ...]:
        """Months without a clear scene."""
        return tuple(month for month, count in self.clear_per_month if count == 0)


@dataclass(frozen=True)
class Evidence:
    """Everything the rate-ratio rule of issue 15 computed for one claim."""

    rule_version: str
    """The rule's version (:data:`pipeline.claims.robust.RULE_VERSION`)."""
    window: WindowSide
    """The test window."""
    baselines: tuple[Baseline, ...]
    """Season-matched first (it decides), then the sensitivity lines."""
    autocorrelation_days: float
    """Memory of the baseline series (integrated autocorrelation time, days)."""
    block_days: float
    """Length of the resampled blocks (days)."""
    block_p_value: float | None
    """One-sided block-permutation p-value against the season-matched baseline."""
    scan: Scan | None
    """The window-scan null (None when not computed: too few scenes to test at all)."""
    onset_consistent: bool | None
    """Whether the change point's interval overlaps baseline end..window end (None: too few
    scenes to ask)."""

    @property
    def primary(self) -> Baseline:
        """The season-matched baseline, which decides the verdict."""
        return self.baselines[0]

    def to_json(self) -> dict[str, Any]:
        """The ``rule`` object of ``evaluate --json``."""
        scan = self.scan
        return {
            "version": self.rule_version,
            "window": [self.window.range[0].isoformat(), self.window.range[1].isoformat()],
            "n_test_effective": _num(self.window.n_effective),
            "test_months_without_clear_scenes": list(self.window.empty_months),
            "autocorrelation_days": _num(self.autocorrelation_days),
            "block_days": _num(self.block_days),
            "block_p_value": _num(self.block_p_value),
            "false_alarm_rate": None if scan is None else _num(scan.false_alarm_rate),
            "scan_windows": 0 if scan is None else scan.windows,
            "onset_consistent": self.onset_consistent,
            "baselines": [b.to_json() for b in self.baselines],
        }


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 6)

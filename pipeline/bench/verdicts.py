"""``rasonwatch bench verdicts``: how often each verdict rule says "supported", SIMULATED.

Both rules run on the same series (:mod:`pipeline.bench.verdict_series`, the simulator's
count model, no pixels): rule 1 (:mod:`pipeline.claims.legacy`, scenes as independent
draws) and rule 2 (:mod:`pipeline.claims.robust`, what ``evaluate`` uses).

- **null**: no change at all, for ``dwell_days`` 0, 12 and 30, each without a season
  (clouds at their yearly mean) and with ``seasonal_amplitude`` 0.4 and clouds by month.
  The share "supported" is the false-alarm rate; the target is at most ``alpha``.
- **power**: true rises of x2 and x3 from the window's first day, same conditions.
  The target is 80 % for x3 at 12-day stays with the season.
- **min_detectable_ratio**: the smallest rise of :data:`RATIO_GRID` that rule 2 (and rule
  1) call supported at least 80 % of the time at 12-day stays with the season.
- **min_detectable_ratio_by_condition**: the same for every condition, searched over
  :data:`SEARCH_GRID` upwards until both rules reach 80 % (power grows with the rise, so the
  larger rises are not run); None when no rise of the grid reaches it.
- **coverage**: the share of series whose reported 95 % interval of the ratio holds the
  true ratio (1 under no change), for each rule and condition.

The JSON keys ``seeds, alpha, null, power`` and the keys of their entries are a contract
(issue 15); the other keys are extras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from pipeline.bench.verdict_series import CLAIM, Condition, Sampling, demo_sampling, draw_series
from pipeline.claims.changepoint import detect_onset
from pipeline.claims.legacy import RULE_VERSION as OLD_RULE_VERSION
from pipeline.claims.legacy import rate_ratio_rule, scene_ratio
from pipeline.claims.robust import RULE_VERSION, robust_rate_ratio, series_onset
from pipeline.claims.series import TRANSFORMS, Series
from pipeline.claims.stats import rank_p_value
from pipeline.errors import InvalidOptionError

DWELLS: Final = (0.0, 12.0, 30.0)
AMPLITUDES: Final = (0.0, 0.4)
RATIOS: Final = (2.0, 3.0)
#: The condition of the power target: the demo's 12-day stays and season.
TARGET: Final = (12.0, 0.4)
#: Rises tried for the smallest ratio detectable at :data:`POWER_TARGET`.
RATIO_GRID: Final = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
POWER_TARGET: Final = 0.8
#: Rises tried, upwards, for the smallest detectable ratio of every condition.
SEARCH_GRID: Final = (2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
#: Bootstrap resamples per verdict: fewer than ``evaluate``'s 4000 (the bench counts
#: verdicts over hundreds of series; the interval's ends move by about 1 %).
BENCH_BOOT: Final = 2000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Judgement:
    """What rule 1 and rule 2 made of one series."""

    old: bool
    """Rule 1 said supported."""
    new: bool
    """Rule 2 said supported."""
    old_covers: bool
    """Rule 1's 95 % interval holds the true ratio."""
    new_covers: bool
    """Rule 2's season-matched 95 % interval holds the true ratio."""


def judge(series: Series, seed: int, *, truth: float = 1.0) -> Judgement:
    """Rule 1 and rule 2 on ``series``, whose true ratio is ``truth``."""
    onset = series_onset(CLAIM, series)
    label, _, evidence, _, _ = robust_rate_ratio(
        CLAIM,
        series,
        onset=onset,
        rng=np.random.default_rng([seed, 2]),
        sensitivity=False,
        n_boot=BENCH_BOOT,
    )
    primary = evidence.primary
    rng = np.random.default_rng([seed, 1])
    base, test, estimate = scene_ratio(CLAIM, series, rng=rng, n_boot=BENCH_BOOT)
    old, _ = rate_ratio_rule(
        CLAIM,
        estimate,
        rank_p_value(base, test, direction=CLAIM.direction),
        base.size,
        test.size,
        lambda: detect_onset(
            series.dates,
            series.values,
            direction=CLAIM.direction,
            transform=TRANSFORMS[CLAIM.metric],
        ),
    )
    return Judgement(
        old=old == "supported",
        new=label == "supported",
        old_covers=estimate is not None and estimate.ci_low <= truth <= estimate.ci_high,
        new_covers=_holds(primary.ci_low, primary.ci_high, truth),
    )


def _holds(low: float | None, high: float | None, truth: float) -> bool:
    return low is not None and high is not None and low <= truth <= high


@dataclass(frozen=True)
class Shares:
    """Shares of a condition's series: supported, and interval holding the truth."""

    old: float
    """Rule 1 supported."""
    new: float
    """Rule 2 supported."""
    old_coverage: float
    """Rule 1's interval held the true ratio."""
    new_coverage: float
    """Rule 2's interval held the true ratio."""


def supported_shares(condition: Condition, seeds: int, sampling: Sampling) -> Shares:
    """Shares of ``seeds`` series that each rule calls supported, and whose interval holds
    the true ratio."""
    counts = np.zeros(4)
    for seed in range(seeds):
        j = judge(draw_series(condition, seed, sampling), seed, truth=condition.ratio)
        counts += (j.old, j.new, j.old_covers, j.new_covers)
    return Shares(*(round(float(c) / seeds, 4) for c in counts))


def run_verdict_bench(seeds: int, *, progress: Progress | None = None) -> dict[str, Any]:
    """Both rules on ``seeds`` SIMULATED series per condition (module docstring).

    Raises:
        InvalidOptionError: ``seeds`` is below 1.
    """
    if seeds < 1:
        raise InvalidOptionError(f"--seeds must be at least 1, got {seeds}")
    sampling = demo_sampling()
    worlds = [(d, a) for d in DWELLS for a in AMPLITUDES]
    conditions = [Condition(d, a, 1.0) for d, a in worlds]
    conditions += [Condition(d, a, r) for r in RATIOS for d, a in worlds]
    conditions += [Condition(*TARGET, r) for r in RATIO_GRID if r not in RATIOS]
    extra = [Condition(d, a, r) for d, a in worlds for r in SEARCH_GRID if r not in RATIOS]
    total = len(conditions) + len(extra)
    shares: dict[Condition, Shares] = {}

    def measure(condition: Condition) -> Shares:
        if condition not in shares:
            shares[condition] = supported_shares(condition, seeds, sampling)
            if progress is not None:
                progress("bench verdicts", len(shares), total)
        return shares[condition]

    for condition in conditions:
        measure(condition)

    def search(dwell: float, amplitude: float) -> dict[str, Any]:
        grid = []
        for r in SEARCH_GRID:  # upwards; power grows with the rise
            got = measure(Condition(dwell, amplitude, r))
            grid.append({"ratio": r, "old": got.old, "new": got.new})
            if min(got.old, got.new) >= POWER_TARGET:
                break
        return {
            "dwell_days": _days(dwell),
            "seasonal_amplitude": amplitude,
            "power": POWER_TARGET,
            "grid": grid,
            "new": _first_reaching(grid, "new"),
            "old": _first_reaching(grid, "old"),
        }

    by_condition = [search(d, a) for d, a in worlds]

    def entries(rule: int, *, null: bool) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for c in conditions:
            if (c.ratio == 1.0) != null or (not null and c.ratio not in RATIOS):
                continue
            row = {"dwell_days": _days(c.dwell_days), "seasonal_amplitude": c.seasonal_amplitude}
            got = (shares[c].old, shares[c].new)[rule]
            if null:
                row["false_supported"] = got
            else:
                row |= {"ratio": c.ratio, "supported": got}
            out.append(row)
        return out

    def smallest(rule: int) -> float | None:
        grid = [
            r
            for r in RATIO_GRID
            if (shares[Condition(*TARGET, r)].old, shares[Condition(*TARGET, r)].new)[rule]
            >= POWER_TARGET
        ]
        return min(grid) if grid else None

    coverage = [
        {
            "dwell_days": _days(c.dwell_days),
            "seasonal_amplitude": c.seasonal_amplitude,
            "ratio": c.ratio,
            "old": shares[c].old_coverage,
            "new": shares[c].new_coverage,
        }
        for c in conditions
        if c.ratio == 1.0 or c.ratio in RATIOS
    ]

    return {
        "seeds": seeds,
        "alpha": CLAIM.alpha,
        "null": entries(1, null=True),
        "power": entries(1, null=False),
        "simulated": True,
        "rule_version": RULE_VERSION,
        "old_rule": {
            "rule_version": OLD_RULE_VERSION,
            "null": entries(0, null=True),
            "power": entries(0, null=False),
        },
        "min_detectable_ratio": {
            "dwell_days": int(TARGET[0]),
            "seasonal_amplitude": TARGET[1],
            "power": POWER_TARGET,
            "grid": [
                {
                    "ratio": r,
                    "old": shares[Condition(*TARGET, r)].old,
                    "new": shares[Condition(*TARGET, r)].new,
                }
                for r in RATIO_GRID
            ],
            "new": smallest(1),
            "old": smallest(0),
        },
        "min_detectable_ratio_by_condition": by_condition,
        "coverage": coverage,
        "sampling": {
            "revisit_days": sampling.revisit_days,
            "clouds_by_month": list(sampling.clouds_by_month),
            "seasonal_peak_day": sampling.peak_day,
            "base_ships": sampling.base_ships,
            "baseline": [d.isoformat() for d in CLAIM.baseline],
            "window": [d.isoformat() for d in CLAIM.window],
        },
    }


def print_verdict_bench(result: dict[str, Any]) -> None:
    """The old and new rule side by side, one row per condition (SIMULATED)."""
    from rich.console import Console
    from rich.table import Table

    alpha = result["alpha"]
    table = Table(
        title=f"SIMULATED: share of 'supported' verdicts, {result['seeds']} series per row "
        f"(demo sampling: 5-day revisit, {result['sampling']['base_ships']} ships per scene)"
    )
    for column in ("truth", "dwell_days", "seasonal_amplitude", "old rule", "new rule", "target"):
        table.add_column(column, justify="right" if column != "truth" else "left")
    old = result["old_rule"]
    for new_row, old_row in zip(result["null"], old["null"], strict=True):
        table.add_row(
            "no change",
            f"{new_row['dwell_days']:g}",
            f"{new_row['seasonal_amplitude']:g}",
            f"{old_row['false_supported']:.1%}",
            f"{new_row['false_supported']:.1%}",
            f"<= {alpha:.0%}",
        )
    for new_row, old_row in zip(result["power"], old["power"], strict=True):
        target = (new_row["dwell_days"], new_row["seasonal_amplitude"]) == TARGET
        table.add_row(
            f"x{new_row['ratio']:g}",
            f"{new_row['dwell_days']:g}",
            f"{new_row['seasonal_amplitude']:g}",
            f"{old_row['supported']:.1%}",
            f"{new_row['supported']:.1%}",
            f">= {POWER_TARGET:.0%}" if target and new_row["ratio"] == 3.0 else "",
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(table)
    smallest = result["min_detectable_ratio"]
    grid = ", ".join(f"x{g['ratio']:g}: {g['old']:.0%} / {g['new']:.0%}" for g in smallest["grid"])
    console.print(
        f"Smallest rise supported {smallest['power']:.0%} of the time at "
        f"{smallest['dwell_days']:g}-day stays and the season (old / new): "
        f"{_ratio(smallest['old'])} / {_ratio(smallest['new'])}  ({grid})"
    )
    cover = Table(
        title="SIMULATED: smallest rise supported 80 % of the time, and how often the 95 % "
        "interval of the ratio holds the truth"
    )
    for column in ("dwell_days", "seasonal_amplitude", "smallest rise old / new"):
        cover.add_column(column, justify="right")
    cover.add_column("coverage with no rise old / new", justify="right")
    null_cover = {
        (c["dwell_days"], c["seasonal_amplitude"]): c
        for c in result["coverage"]
        if c["ratio"] == 1.0
    }
    for row in result["min_detectable_ratio_by_condition"]:
        key = (row["dwell_days"], row["seasonal_amplitude"])
        top = row["grid"][-1]["ratio"]
        c = null_cover[key]
        cover.add_row(
            f"{key[0]:g}",
            f"{key[1]:g}",
            f"{_ratio(row['old'], top)} / {_ratio(row['new'], top)}",
            f"{c['old']:.1%} / {c['new']:.1%}",
        )
    console.print(cover)
    console.print(f"New rule: {result['rule_version']}. SIMULATED series, no pixels.")


def _days(value: float) -> float | int:
    """Days as an integer where whole, as the issue writes the contract ("dwell_days": 12)."""
    return int(value) if value.is_integer() else value


def _first_reaching(grid: list[dict[str, float]], rule: str) -> float | None:
    reached = [g["ratio"] for g in grid if g[rule] >= POWER_TARGET]
    return min(reached) if reached else None


def _ratio(value: float | None, top: float | None = None) -> str:
    if value is None:
        return "none on the grid" if top is None else f"> x{top:g}"
    return f"x{value:g}"

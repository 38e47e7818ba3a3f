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

The JSON keys ``seeds, alpha, null, power`` and the keys of their entries are a contract
(issue 15); the other keys are extras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from pipeline.bench.verdict_series import CLAIM, Condition, Sampling, demo_sampling, draw_series
from pipeline.claims.changepoint import detect_onset
from pipeline.claims.legacy import RULE_VERSION as OLD_RULE_VERSION
from pipeline.claims.legacy import legacy_rate_ratio
from pipeline.claims.robust import RULE_VERSION, robust_rate_ratio, series_onset
from pipeline.claims.series import TRANSFORMS, Series
from pipeline.errors import InvalidOptionError

DWELLS: Final = (0.0, 12.0, 30.0)
AMPLITUDES: Final = (0.0, 0.4)
RATIOS: Final = (2.0, 3.0)
#: The condition of the power target: the demo's 12-day stays and season.
TARGET: Final = (12.0, 0.4)
#: Rises tried for the smallest ratio detectable at :data:`POWER_TARGET`.
RATIO_GRID: Final = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
POWER_TARGET: Final = 0.8
#: Bootstrap resamples per verdict: fewer than ``evaluate``'s 4000 (the bench counts
#: verdicts over hundreds of series; the interval's ends move by about 1 %).
BENCH_BOOT: Final = 2000

Progress = Callable[[str, int, int], None]


def judge(series: Series, seed: int) -> tuple[bool, bool]:
    """Whether rule 1 and rule 2 call the bench claim supported on ``series``."""
    onset = series_onset(CLAIM, series)
    new = robust_rate_ratio(
        CLAIM,
        series,
        onset=onset,
        rng=np.random.default_rng([seed, 2]),
        sensitivity=False,
        n_boot=BENCH_BOOT,
    )[0]
    old = legacy_rate_ratio(
        CLAIM,
        series,
        onset_of=lambda: detect_onset(
            series.dates,
            series.values,
            direction=CLAIM.direction,
            transform=TRANSFORMS[CLAIM.metric],
        ),
        rng=np.random.default_rng([seed, 1]),
        n_boot=BENCH_BOOT,
    )[0]
    return old == "supported", new == "supported"


def supported_shares(condition: Condition, seeds: int, sampling: Sampling) -> tuple[float, float]:
    """Share of ``seeds`` series that rule 1 and rule 2 call supported."""
    old = new = 0
    for seed in range(seeds):
        o, n = judge(draw_series(condition, seed, sampling), seed)
        old, new = old + o, new + n
    return round(old / seeds, 4), round(new / seeds, 4)


def run_verdict_bench(seeds: int, *, progress: Progress | None = None) -> dict[str, Any]:
    """Both rules on ``seeds`` SIMULATED series per condition (module docstring).

    Raises:
        InvalidOptionError: ``seeds`` is below 1.
    """
    if seeds < 1:
        raise InvalidOptionError(f"--seeds must be at least 1, got {seeds}")
    sampling = demo_sampling()
    conditions = [Condition(d, a, 1.0) for d in DWELLS for a in AMPLITUDES]
    conditions += [Condition(d, a, r) for r in RATIOS for d in DWELLS for a in AMPLITUDES]
    conditions += [Condition(*TARGET, r) for r in RATIO_GRID if r not in RATIOS]
    shares: dict[Condition, tuple[float, float]] = {}
    for done, condition in enumerate(conditions, start=1):
        shares[condition] = supported_shares(condition, seeds, sampling)
        if progress is not None:
            progress("bench verdicts", done, len(conditions))

    def entries(rule: int, *, null: bool) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for c in conditions:
            if (c.ratio == 1.0) != null or (not null and c.ratio not in RATIOS):
                continue
            dwell = int(c.dwell_days) if c.dwell_days.is_integer() else c.dwell_days
            row = {"dwell_days": dwell, "seasonal_amplitude": c.seasonal_amplitude}
            if null:
                row["false_supported"] = shares[c][rule]
            else:
                row |= {"ratio": c.ratio, "supported": shares[c][rule]}
            out.append(row)
        return out

    def smallest(rule: int) -> float | None:
        grid = [r for r in RATIO_GRID if shares[Condition(*TARGET, r)][rule] >= POWER_TARGET]
        return min(grid) if grid else None

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
                    "old": shares[Condition(*TARGET, r)][0],
                    "new": shares[Condition(*TARGET, r)][1],
                }
                for r in RATIO_GRID
            ],
            "new": smallest(1),
            "old": smallest(0),
        },
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
    console.print(f"New rule: {result['rule_version']}. SIMULATED series, no pixels.")


def _ratio(value: float | None) -> str:
    return "none on the grid" if value is None else f"x{value:g}"

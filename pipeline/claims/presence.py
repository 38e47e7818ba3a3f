"""The presence test in blocks of consecutive scenes (issue 15, point 1, for ``test = "presence"``).

A ship that stays a month shows in six consecutive looks: scene by scene, Fisher's exact
test counts that as six independent sightings and calls a window that happens to hold one
long stay a rise (a false alarm several times in a hundred on simulated null series with
30-day stays). Here the scenes are grouped as rule 2 groups them:

- the block length is rule 2's (:func:`pipeline.claims.robust.memory_days` of the series,
  its season and change-point levels removed; twice that, at least 14 days);
- p is a block-permutation test on the 0/1 "shows it" series
  (:func:`pipeline.claims.blocks.block_permutation_p`): whole blocks swapped between the
  baseline and the window;
- each side's share keeps its exact interval, but on its effective number of looks
  (:func:`pipeline.claims.blocks.effective_n`; the Clopper-Pearson bounds of ``share *
  n_eff`` of ``n_eff``), so a baseline seen in a few long stays is not read as many
  independent absences or presences.

With independent scenes the interval is Clopper-Pearson's and the block length the
14-day floor. Pure numpy/scipy; every random draw comes from the caller's generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from pipeline.claims.blocks import Side, block_length, block_permutation_p, effective_n
from pipeline.claims.stats import CONFIDENCE, Proportion

FloatArray = NDArray[np.float64]
#: Block permutations for the presence p-value (its resolution is 1 / 2001).
N_PERM: Final = 2000


@dataclass(frozen=True)
class PresenceTest:
    """What the block presence test found."""

    baseline: Proportion
    """Share of clear baseline scenes showing the thing (interval on effective looks)."""
    test: Proportion
    """Likewise for the test window."""
    p_value: float
    """One-sided block-permutation p that presence is more common in the window."""
    memory_days: float
    """The series' memory (days) the blocks were sized from."""
    block_days: float
    """Days per block."""


def effective_proportion(
    present: NDArray[np.bool_], days: FloatArray, tau_days: float
) -> Proportion:
    """Share of scenes showing something, its exact interval taken on the effective looks.

    ``k`` and ``n`` stay the scene counts; the bounds are Clopper-Pearson's for
    ``share * n_eff`` successes in ``n_eff`` trials (beta quantiles, which need no integer
    counts), ``n_eff`` from :func:`pipeline.claims.blocks.effective_n`.
    """
    n, k = int(present.size), int(np.count_nonzero(present))
    if n == 0:
        return Proportion(0, 0, 0.0, 1.0, 0.0)
    n_eff = min(float(n), effective_n(days, tau_days))
    k_eff = k / n * n_eff
    tail = (1.0 - CONFIDENCE) / 2.0
    low = 0.0 if k == 0 else float(stats.beta.ppf(tail, k_eff, n_eff - k_eff + 1.0))
    high = 1.0 if k == n else float(stats.beta.ppf(1.0 - tail, k_eff + 1.0, n_eff - k_eff))
    return Proportion(k, n, low, high, n_eff)


def block_presence_test(
    dates: Sequence[date],
    present: NDArray[np.bool_],
    *,
    baseline: NDArray[np.bool_],
    window: NDArray[np.bool_],
    memory_days: float,
    rng: np.random.Generator,
    n_perm: int = N_PERM,
) -> PresenceTest:
    """Presence in the window against the baseline, block by block (module docstring).

    Args:
        dates: clear-scene dates.
        present: whether each scene shows the thing.
        baseline: which scenes are in the baseline.
        window: which scenes are in the test window.
        memory_days: the series' memory (rule 2's :func:`pipeline.claims.robust.memory_days`).
        rng: seeded generator.
        n_perm: block permutations.
    """
    days = np.array([d.toordinal() for d in dates], dtype=np.float64)
    length = block_length(memory_days)
    values = present.astype(np.float64)

    def side(mask: NDArray[np.bool_]) -> Side:
        return Side(days[mask], values[mask], np.zeros(int(np.count_nonzero(mask)), np.int64))

    base, test = side(baseline), side(window)
    p = block_permutation_p(
        base,
        test,
        length=length,
        direction="increase",
        n_perm=n_perm,
        rng=rng,
        memory_days=memory_days,
    )
    return PresenceTest(
        baseline=effective_proportion(present[baseline], base.days, memory_days),
        test=effective_proportion(present[window], test.days, memory_days),
        p_value=p,
        memory_days=memory_days,
        block_days=length,
    )

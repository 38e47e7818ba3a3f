"""Issue 15, point 1, for the presence test: blocks of consecutive scenes, not scenes.

A ship that stays a month shows in six consecutive looks. Scene by scene (Fisher's exact
test, Clopper-Pearson shares) that is six independent sightings; block by block it is one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from pipeline.claims.blocks import autocorrelation_time
from pipeline.claims.parse import Claim
from pipeline.claims.presence import block_presence_test, effective_proportion
from pipeline.claims.rules import PRESENCE_RULE_VERSION, evaluate_claim
from pipeline.claims.stats import presence_p_value, proportion
from pipeline.types import Observation

FIRST = Claim(id="first", quote="q", source="s", aoi="rajin-port", metric="ships", test="presence")
START, END = date(2019, 1, 1), date(2023, 11, 29)


def looks() -> list[date]:
    """A clear look every 5 days through the seed claim's baseline and window."""
    return [START + timedelta(days=5 * i) for i in range((END - START).days // 5 + 1)]


def stays_null(seed: int, *, stay_days: float, per_year: float) -> tuple[list[date], np.ndarray]:
    """No change: one ship at a time arrives at random (``per_year``) and stays an
    exponential time of mean ``stay_days``; 1 where a look sees a ship."""
    rng = np.random.default_rng(seed)
    days = np.array([d.toordinal() for d in looks()], dtype=np.float64)
    span = days[-1] - days[0] + 2 * 365
    arrive = days[0] - 365 + np.cumsum(rng.exponential(365 / per_year, size=int(per_year * 10)))
    arrive = arrive[arrive < days[0] - 365 + span]
    leave = arrive + rng.exponential(stay_days, size=arrive.size)
    present = ((arrive <= days[:, None]) & (leave > days[:, None])).any(axis=1)
    return looks(), present.astype(np.float64)


def masks(dates: list[date]) -> tuple[np.ndarray, np.ndarray]:
    base = np.array([FIRST.baseline[0] <= d <= FIRST.baseline[1] for d in dates])
    window = np.array([FIRST.window[0] <= d <= FIRST.window[1] for d in dates])
    return base, window


def memory(dates: list[date], values: np.ndarray, base: np.ndarray) -> float:
    days = np.array([d.toordinal() for d in dates], dtype=np.float64)[base]
    return autocorrelation_time(days, values[base] - values[base].mean())


def test_scene_fisher_rejects_a_null_with_month_long_stays_the_block_test_does_not() -> None:
    """150 SIMULATED null series (ships staying 30 days, about a quarter of looks see one):
    Fisher's scene-wise p < 0.05 in far more than 5 % of them (24 % of 300); the block test's
    in 7 % of 300 (10 % without spreading for neighbouring blocks, 4 % with the true memory)."""
    fisher = blocks = 0
    reps = 150
    for seed in range(reps):
        dates, present = stays_null(seed, stay_days=30.0, per_year=3.5)
        base, window = masks(dates)
        shows = present > 0
        fisher += presence_p_value(proportion(shows[base]), proportion(shows[window])) < 0.05
        test = block_presence_test(
            dates,
            shows,
            baseline=base,
            window=window,
            memory_days=memory(dates, present, base),
            rng=np.random.default_rng(seed),
            n_perm=1000,
        )
        blocks += test.p_value < 0.05
    assert fisher / reps > 0.12
    assert blocks / reps <= 0.08


def test_one_null_series_fisher_rejects_blocks_do_not() -> None:
    """One SIMULATED null draw (seed 23: 30-day stays, 3.5 a year, the window filled by a
    stay or two): scene by scene presence is far more common in the window (Fisher
    p < 0.001); block by block it is a window like many in the baseline (p > 0.1)."""
    dates, present = stays_null(23, stay_days=30.0, per_year=3.5)
    base, window = masks(dates)
    shows = present > 0
    p_fisher = presence_p_value(proportion(shows[base]), proportion(shows[window]))
    test = block_presence_test(
        dates,
        shows,
        baseline=base,
        window=window,
        memory_days=memory(dates, present, base),
        rng=np.random.default_rng(1),
    )
    assert p_fisher < 0.001
    assert test.block_days >= 30
    assert test.p_value > 0.1


def _obs(dates: list[date], ships: np.ndarray) -> list[Observation]:
    return [
        Observation(
            aoi="rajin-port",
            scene_id=f"S2X_T52TFM_{d:%Y%m%d}T021601_L2A",
            datetime=datetime(d.year, d.month, d.day, 2, 16, tzinfo=UTC),
            detector_version="test-1",
            source="local",
            clear_fraction=1.0,
            ships=int(s),
            simulated=True,
        )
        for d, s in zip(dates, ships, strict=True)
    ]


def test_presence_rule_no_longer_supports_the_long_stay_null() -> None:
    """The rule end to end on that series: scene-wise it would be supported (Fisher
    p < 0.05, baseline share's exact upper bound <= 10 %); in blocks it is inconclusive."""
    dates = looks()
    stays = [(date(2020, 3, 1), 30), (date(2022, 5, 10), 30), (date(2023, 9, 1), 30)]
    ships = np.array([any(a <= d < a + timedelta(days=n) for a, n in stays) for d in dates])
    base, window = masks(dates)
    scene_base, scene_test = proportion(ships[base]), proportion(ships[window])
    assert presence_p_value(scene_base, scene_test) < 0.05  # the old rule: supported
    assert scene_base.high <= FIRST.max_baseline_presence
    assert scene_test.k >= 2
    v = evaluate_claim(FIRST, _obs(dates, ships.astype(int)))
    assert v.verdict == "inconclusive", v.reason
    assert v.registration is not None
    assert v.registration.rule_version == PRESENCE_RULE_VERSION
    assert v.presence_baseline is not None
    assert v.presence_baseline.n_effective is not None
    assert v.presence_baseline.n_effective < scene_base.n / 3
    assert v.to_json()["n_baseline_effective"] == pytest.approx(
        v.presence_baseline.n_effective, rel=1e-5
    )


def test_presence_rule_still_supports_a_real_first_arrival() -> None:
    """No ship at all before, ships in the window: supported, blocks or not."""
    dates = looks()
    ships = np.array([2 if d >= date(2023, 8, 1) else 0 for d in dates])
    v = evaluate_claim(FIRST, _obs(dates, ships))
    assert v.verdict == "supported", v.reason
    assert v.p_value is not None
    assert v.p_value < 0.01


def test_effective_proportion_is_clopper_pearson_for_independent_looks() -> None:
    present = np.array([True] * 3 + [False] * 33)
    days = np.arange(present.size, dtype=np.float64) * 5
    same, plain = effective_proportion(present, days, 0.0), proportion(present)
    assert (same.k, same.n) == (plain.k, plain.n)
    assert same.low == pytest.approx(plain.low)
    assert same.high == pytest.approx(plain.high)
    wide = effective_proportion(present, days, 30.0)
    assert wide.n_effective is not None
    assert wide.n_effective < 10
    assert wide.low < plain.low
    assert wide.high > plain.high

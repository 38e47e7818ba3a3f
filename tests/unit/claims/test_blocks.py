"""Issue 15, point 1: blocks of consecutive scenes, their length from the data, effective n."""

from __future__ import annotations

import numpy as np
import pytest
import ruptures as rpt  # type: ignore[import-untyped]  # no stubs or py.typed

from pipeline.claims.blocks import (
    BLOCK_FLOOR_DAYS,
    Side,
    autocorrelation_time,
    block_bootstrap_means,
    block_length,
    block_permutation_p,
    block_variance_ratio,
    effective_n,
)
from pipeline.claims.partition import optimal_partition
from pipeline.claims.stats import rank_p_value


def ar1(n: int, *, step_days: float, memory_days: float, seed: int) -> np.ndarray:
    """A stationary series on a regular grid whose correlation is exp(-lag / memory)."""
    rng = np.random.default_rng(seed)
    rho = np.exp(-step_days / memory_days) if memory_days > 0 else 0.0
    out = np.empty(n)
    out[0] = rng.standard_normal()
    for i in range(1, n):
        out[i] = rho * out[i - 1] + np.sqrt(1 - rho**2) * rng.standard_normal()
    return out


def visits(n_days: int, *, stay_days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every 5th day of a port that holds 0 or 3 ships for whole stays of ``stay_days``."""
    rng = np.random.default_rng(seed)
    levels = rng.choice([0.0, 3.0], size=n_days // stay_days + 1)
    days = np.arange(0, n_days, 5, dtype=np.float64)
    return days, levels[(days // stay_days).astype(int)]


def test_autocorrelation_time_measures_the_memory() -> None:
    days = np.arange(0, 5 * 2000, 5, dtype=np.float64)
    independent = autocorrelation_time(days, ar1(2000, step_days=5, memory_days=0, seed=1))
    remembers = autocorrelation_time(days, ar1(2000, step_days=5, memory_days=20, seed=1))
    assert independent < 5
    assert 16 < remembers < 25


def test_autocorrelation_time_ignores_detector_noise_on_top() -> None:
    """Independent noise as large as the signal halves every correlation but not its decay."""
    days = np.arange(0, 5 * 2000, 5, dtype=np.float64)
    signal = ar1(2000, step_days=5, memory_days=20, seed=2)
    noisy = signal + np.random.default_rng(3).standard_normal(2000)
    assert 14 < autocorrelation_time(days, noisy) < 28


#: The demo's Tumangang-yard railcar readings in its baseline (SIMULATED, 2022-09-06 to
#: 2023-06-23, clear scenes): trains come and go, 23 scenes.
DEMO_YARD_DAYS = (
    0,
    15,
    20,
    25,
    30,
    35,
    60,
    75,
    85,
    100,
    110,
    125,
    140,
    150,
    170,
    195,
    210,
    230,
    235,
    245,
    250,
    265,
    290,
)
DEMO_YARD_CARS = (
    74.7,
    0.0,
    0.0,
    9.9,
    0.7,
    12.0,
    3.0,
    1.5,
    53.1,
    21.9,
    20.2,
    72.4,
    71.6,
    24.5,
    2.4,
    52.0,
    0.0,
    1.4,
    1.5,
    0.8,
    3.3,
    13.4,
    26.8,
)


def test_autocorrelation_time_is_not_a_year_when_the_correlation_is_gone_within_weeks() -> None:
    """A flat fit through a few noisy first lag bins must not stretch the memory past the
    first lag at which the correlation has fallen to noise (the demo's rail verdict had an
    effective n of 1.1 on 8 and 10 scenes because of it)."""
    days = np.array(DEMO_YARD_DAYS, dtype=np.float64)
    cars = np.array(DEMO_YARD_CARS)
    residuals = cars - cars.mean()
    lag = days[:, None] - days[None, :]
    product = residuals[:, None] * residuals[None, :] / np.mean(residuals**2)
    gone = next(  # the first 5-day lag bin whose mean correlation is at or below 0.05
        k * 5.0
        for k in range(1, 37)
        if np.mean(product[(lag > 5 * k - 5) & (lag <= 5 * k)]) <= 0.05
    )
    memory = autocorrelation_time(days, residuals)
    assert gone <= 30.0
    assert memory <= gone  # a memory longer than the lag at which it is gone is no memory
    assert effective_n(days, memory) > 0.4 * days.size  # was 1.1 of 23


def test_block_length_has_a_floor_of_14_days() -> None:
    assert BLOCK_FLOOR_DAYS == 14
    assert block_length(0.0) == 14
    assert block_length(5.0) == 14
    assert block_length(20.0) == 40


def test_effective_n_known_answers() -> None:
    days = np.arange(0, 100, 5, dtype=np.float64)
    assert effective_n(days, 0.0) == days.size  # independent looks
    assert effective_n(np.zeros(10), 12.0) == pytest.approx(1.0)  # ten looks at one moment
    far = np.arange(0, 100 * 1000, 1000, dtype=np.float64)
    assert effective_n(far, 12.0) == pytest.approx(100, rel=1e-6)  # too far apart to share
    assert 1 < effective_n(days, 30.0) < days.size / 3


def test_block_bootstrap_is_wider_than_a_scene_bootstrap_when_ships_stay() -> None:
    days, values = visits(3 * 365, stay_days=30, seed=3)
    side = Side(days, values, np.zeros(days.size, dtype=np.int64))
    rng = np.random.default_rng(0)
    blocks = block_bootstrap_means(side, length=60.0, n_boot=4000, rng=rng)
    scenes = values[rng.integers(0, values.size, size=(4000, values.size))].mean(axis=1)
    assert blocks.std() > 1.5 * scenes.std()
    assert blocks.mean() == pytest.approx(values.mean(), rel=0.05)


def test_block_variance_ratio_known_answers() -> None:
    assert block_variance_ratio(0.0, 14.0, 5.0) == 1.0  # independent scenes lose nothing
    rho = np.exp(-5 / 20)
    assert block_variance_ratio(20.0, 5.0, 5.0) == pytest.approx((1 - rho) / (1 + rho))
    assert block_variance_ratio(20.0, 40.0, 5.0) < block_variance_ratio(20.0, 400.0, 5.0) < 1


def test_corrected_block_bootstrap_has_the_spread_of_the_mean() -> None:
    """Over 300 AR(1) windows of 24 looks (5 days apart, memory 20 days), the bootstrap's
    spread, corrected, is about the true spread of the window's mean; uncorrected it is far
    too small."""
    n, reps, memory = 24, 300, 20.0
    days = np.arange(0, 5 * n, 5, dtype=np.float64)
    runs = np.zeros(n, dtype=np.int64)
    means, corrected, plain = [], [], []
    for seed in range(reps):
        values = ar1(n, step_days=5, memory_days=memory, seed=seed)
        side = Side(days, values + 10.0, runs)
        kw = {"length": 40.0, "n_boot": 400, "rng": np.random.default_rng(seed)}
        corrected.append(block_bootstrap_means(side, memory_days=memory, **kw).std())  # type: ignore[arg-type]
        plain.append(block_bootstrap_means(side, **kw).std())  # type: ignore[arg-type]
        means.append(values.mean())
    truth = float(np.std(means))
    assert 0.8 < np.median(corrected) / truth < 1.25
    assert np.median(plain) / truth < 0.75


def test_block_bootstrap_of_a_constant_is_the_constant() -> None:
    days = np.arange(0, 200, 5, dtype=np.float64)
    side = Side(days, np.full(days.size, 2.0), np.zeros(days.size, dtype=np.int64))
    means = block_bootstrap_means(side, length=14.0, n_boot=50, rng=np.random.default_rng(1))
    assert np.all(means == 2.0)


def test_block_permutation_sees_a_real_rise() -> None:
    days = np.arange(0, 400, 5, dtype=np.float64)
    base = Side(days, 1.0 + 0.1 * np.sin(days), np.zeros(days.size, dtype=np.int64))
    tdays = np.arange(500, 620, 5, dtype=np.float64)
    test = Side(tdays, 3.0 + 0.1 * np.sin(tdays), np.zeros(tdays.size, dtype=np.int64))
    kw = {"length": 14.0, "n_perm": 2000, "rng": np.random.default_rng(2)}
    assert block_permutation_p(base, test, direction="increase", **kw) < 0.01  # type: ignore[arg-type]
    assert block_permutation_p(base, test, direction="decrease", **kw) > 0.9  # type: ignore[arg-type]


def test_block_permutation_is_not_fooled_by_one_long_visit() -> None:
    """A test window that happens to hold one long visit: scene by scene it looks like a
    rise (Mann-Whitney p < 0.05); block by block it is one draw among many."""
    days, values = visits(4 * 365, stay_days=40, seed=11)
    base = Side(days, values, np.zeros(days.size, dtype=np.int64))
    tdays = np.arange(1500, 1540, 5, dtype=np.float64)
    tvalues = np.full(tdays.size, 3.0)
    test = Side(tdays, tvalues, np.zeros(tdays.size, dtype=np.int64))
    assert rank_p_value(values, tvalues, direction="increase") < 0.05
    p = block_permutation_p(
        base, test, length=80.0, direction="increase", n_perm=2000, rng=np.random.default_rng(3)
    )
    assert p > 0.05


@pytest.mark.parametrize("seed", range(16))
def test_optimal_partition_matches_ruptures_pelt(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, jump = int(rng.integers(10, 160)), int(rng.choice([1, 2, 3]))
    signal = 2 * np.sqrt(rng.poisson(rng.choice([0.3, 1.5, 4.0]), n) + 3 / 8)
    if seed % 2:
        signal[n // 2 :] += 1.5
    penalty = 3.0 * np.log(n)
    expected = rpt.Pelt(model="l2", min_size=4, jump=jump).fit(signal).predict(pen=penalty)
    assert optimal_partition(signal, penalty=penalty, min_size=4, jump=jump) == list(expected)

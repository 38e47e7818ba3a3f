"""Issue 15, points 2 and 3: season-matched baselines, clear scenes per month, the window scan."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from claims_fixtures import series

from pipeline.claims.parse import Claim
from pipeline.claims.rules import evaluate_claim
from pipeline.claims.scan import window_scan
from pipeline.claims.seasons import clear_per_month, empty_months, matched_ranges
from pipeline.types import Observation

D = date
PORT = Claim(id="port", quote="q", source="s", aoi="rajin-port", metric="ships")


def test_matched_ranges_are_the_same_calendar_days() -> None:
    ranges = matched_ranges((D(2023, 8, 1), D(2023, 11, 29)), (D(2019, 1, 1), D(2023, 6, 30)))
    assert ranges == tuple((D(y, 8, 1), D(y, 11, 29)) for y in (2019, 2020, 2021, 2022))


def test_matched_ranges_wrap_the_new_year_and_clip_to_the_baseline() -> None:
    ranges = matched_ranges((D(2023, 11, 15), D(2024, 2, 29)), (D(2020, 1, 10), D(2023, 6, 30)))
    assert ranges == (
        (D(2020, 1, 10), D(2020, 2, 29)),
        (D(2020, 11, 15), D(2021, 2, 28)),
        (D(2021, 11, 15), D(2022, 2, 28)),
        (D(2022, 11, 15), D(2023, 2, 28)),
    )


def test_clear_scenes_per_month_name_the_empty_months() -> None:
    dates = [D(2019, 8, 3), D(2019, 8, 20), D(2019, 10, 1)]
    per_month = clear_per_month(dates, [(D(2019, 8, 1), D(2019, 11, 29))])
    assert per_month == {"2019-08": 2, "2019-09": 0, "2019-10": 1, "2019-11": 0}
    assert empty_months(per_month) == ["2019-09", "2019-11"]


def seasonal(*, peak_doy: int, amplitude: float, rise: float = 1.0) -> list[Observation]:
    """Noise-free ships following the season, clear only in winter and in autumn 2023."""
    rows = []
    for obs in series([(D(2019, 1, 1), 0.0)], start=D(2019, 1, 1), end=D(2023, 11, 29), seed=4):
        day = obs.datetime.date()
        phase = 2 * np.pi * (day.timetuple().tm_yday - peak_doy) / 365.25
        level = 20.0 * (1 + amplitude * np.cos(phase))
        level *= rise if day >= D(2023, 8, 1) else 1.0
        clear = day.month in (12, 1, 2, 3, 9, 10, 11) or day.year == 2023
        rows.append(
            Observation(
                aoi=obs.aoi,
                scene_id=obs.scene_id,
                datetime=obs.datetime,
                detector_version=obs.detector_version,
                source=obs.source,
                clear_fraction=0.95 if clear else 0.1,
                ships=round(level),
                simulated=True,
            )
        )
    return rows


def test_season_matched_baseline_removes_the_seasons_bias() -> None:
    """Autumn is busy, the baseline's clear scenes mostly winter: against the full baseline
    autumn looks like a rise; against the same calendar days it is ×1."""
    v = evaluate_claim(PORT, seasonal(peak_doy=290, amplitude=0.5))
    assert v.evidence is not None
    matched, full, pre_closure = v.evidence.baselines
    assert (matched.name, full.name, pre_closure.name) == ("season-matched", "full", "2019")
    assert matched.ratio == pytest.approx(1.0, abs=0.05)
    assert full.ratio is not None
    assert full.ratio > 1.25
    assert v.ratio == matched.ratio  # the contract fields describe the deciding comparison
    assert v.verdict != "supported"
    assert pre_closure.ranges == ((D(2019, 1, 1), D(2019, 12, 31)),)


def test_months_without_clear_scenes_are_named() -> None:
    v = evaluate_claim(PORT, seasonal(peak_doy=290, amplitude=0.5))
    assert v.evidence is not None
    assert "2019-08" in v.evidence.primary.empty_months  # August is never clear before 2023
    assert any("2019-08" in note and "season-matched" in note for note in v.notes)


def bumpy(
    bumps: list[tuple[date, int]], *, window_level: float, seed: int = 5
) -> list[Observation]:
    """Flat 1 ship with a spell of 12 ships for ``days`` from each bump date, and the test
    window at ``window_level``: every scene clear."""
    rows = []
    for obs in series([(D(2019, 1, 1), 1.0)], start=D(2019, 1, 1), end=D(2023, 11, 29), seed=seed):
        day = obs.datetime.date()
        level = 1.0
        if any(b <= day < b + timedelta(days=n) for b, n in bumps):
            level = 12.0
        if day >= D(2023, 8, 1):
            level = window_level
        rows.append(
            Observation(
                aoi=obs.aoi,
                scene_id=obs.scene_id,
                datetime=obs.datetime,
                detector_version=obs.detector_version,
                source=obs.source,
                clear_fraction=1.0,
                ships=int(level),
                simulated=True,
            )
        )
    return rows


def test_a_window_that_stands_out_has_a_false_alarm_rate_of_zero() -> None:
    v = evaluate_claim(PORT, bumpy([], window_level=4.0))
    assert v.evidence is not None
    scan = v.evidence.scan
    assert scan is not None
    assert scan.windows >= 40
    assert scan.exceed == 0
    assert scan.false_alarm_rate == 0
    assert v.verdict == "supported", v.reason
    assert "false-alarm rate 0%" in v.reason


def test_a_window_like_many_in_the_baseline_does_not_stand_out() -> None:
    """Spells of twelve ships came and went before: four in the window is not a spike,
    whatever its interval says."""
    spells = [(D(2019, 1, 5), 120), (D(2020, 4, 20), 100), (D(2021, 12, 1), 120)]
    v = evaluate_claim(PORT, bumpy(spells, window_level=4.0))
    assert v.evidence is not None
    assert v.evidence.scan is not None
    assert v.evidence.scan.false_alarm_rate >= 0.05
    assert v.verdict == "inconclusive"
    assert "does not stand out" in v.reason


def test_the_scan_needs_enough_baseline_windows() -> None:
    obs = bumpy([], window_level=4.0)
    short = Claim(
        id="short", quote="q", source="s", aoi="rajin-port", metric="ships",
        baseline=(D(2022, 9, 1), D(2023, 6, 30)),
    )  # fmt: skip
    v = evaluate_claim(short, obs)
    assert v.verdict == "inconclusive"
    assert "window scan needs 40" in v.reason


def test_window_scan_counts_placebos_reaching_the_claim() -> None:
    dates = [D(2019, 1, 1) + timedelta(days=5 * i) for i in range(300)]
    values = np.ones(len(dates))
    kw = {
        "dates": dates,
        "values": values,
        "baseline": (D(2019, 1, 1), D(2022, 12, 31)),
        "length_days": 60,
        "min_n": 5,
    }
    up = window_scan(test=np.full(12, 2.0), reference=np.ones(40), direction="increase", **kw)  # type: ignore[arg-type]
    same = window_scan(test=np.ones(12), reference=np.ones(40), direction="increase", **kw)  # type: ignore[arg-type]
    assert up.windows == same.windows > 100
    assert up.exceed == 0
    assert same.exceed == same.windows  # every flat placebo reaches a flat claim

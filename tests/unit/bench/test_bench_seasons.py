"""The bench's season breakdown: seasons, errors and biases."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.bench.seasons import (
    SEASONS,
    Scored,
    by_season,
    count_errors,
    relative_errors,
    season_of,
)


@pytest.mark.parametrize(
    ("day", "season"),
    [
        (date(2023, 12, 1), "DJF"),
        (date(2024, 1, 31), "DJF"),
        (date(2023, 2, 28), "DJF"),
        (date(2023, 3, 1), "MAM"),
        (date(2023, 5, 31), "MAM"),
        (date(2023, 6, 1), "JJA"),
        (date(2023, 8, 31), "JJA"),
        (date(2023, 9, 1), "SON"),
        (date(2023, 11, 30), "SON"),
    ],
)
def test_meteorological_seasons(day: date, season: str) -> None:
    assert season_of(day) == season


def test_a_bias_that_cancels_over_the_year_shows_by_season() -> None:
    """+2 in winter and -2 in summer: no bias over the year, +2 and -2 in their seasons."""
    scored = [Scored(date(2023, 1, d), 3, 5) for d in (5, 10)] + [
        Scored(date(2023, 7, d), 3, 1) for d in (5, 10)
    ]
    assert count_errors(scored) == {"n": 4, "mae": 2.0, "bias": 0.0}
    seasons = by_season(scored, count_errors)
    assert list(seasons) == list(SEASONS)
    assert seasons["DJF"] == {"n": 2, "mae": 2.0, "bias": 2.0}
    assert seasons["JJA"] == {"n": 2, "mae": 2.0, "bias": -2.0}
    assert seasons["MAM"] == {"n": 0, "mae": None, "bias": None}


def test_relative_errors_are_medians_of_signed_and_absolute_ratios() -> None:
    scored = [Scored(date(2023, 10, 1), 50, 40), Scored(date(2023, 10, 6), 100, 150)]
    scored.append(Scored(date(2023, 10, 11), 40, 44))
    summary = relative_errors(scored)
    assert summary == {"n": 3, "median_relative_error": 0.2, "median_relative_bias": 0.1}
    assert relative_errors([])["median_relative_error"] is None

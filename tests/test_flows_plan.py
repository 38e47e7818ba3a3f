"""The plain planning rules the flows follow: windows, what is left to do, bounded submission."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipeline.backfill import (
    LOOKBACK_DAYS,
    OVERLAP_DAYS,
    REFERENCE_WINDOW_DAYS,
    batches,
    bounded,
    nightly_window,
    reference_window,
)
from pipeline.errors import ReadError
from pipeline.scene_work import TransientReadError, is_transient, one_line


def test_nightly_window_overlaps_the_last_processed_scene() -> None:
    last = datetime(2024, 6, 20, 2, 16, tzinfo=UTC)
    assert nightly_window(last, date(2024, 6, 30)) == (date(2024, 6, 10), date(2024, 6, 30))
    assert OVERLAP_DAYS == 10
    assert nightly_window(last, date(2024, 6, 30), overlap_days=0) == (
        date(2024, 6, 20),
        date(2024, 6, 30),
    )


def test_nightly_window_without_history_looks_back() -> None:
    assert nightly_window(None, date(2024, 6, 30)) == (date(2024, 5, 31), date(2024, 6, 30))
    assert LOOKBACK_DAYS == 30


def test_nightly_window_never_starts_after_it_ends() -> None:
    later = datetime(2024, 7, 30, tzinfo=UTC)  # stored scenes newer than --until
    assert nightly_window(later, date(2024, 6, 30)) == (date(2024, 6, 30), date(2024, 6, 30))


def test_reference_window_is_a_year_around_a_short_range() -> None:
    today = date(2026, 1, 1)
    short = reference_window(date(2023, 6, 1), date(2023, 6, 30), today=today)
    assert short == (date(2022, 12, 15), date(2023, 12, 14))
    assert (short[1] - short[0]).days + 1 == REFERENCE_WINDOW_DAYS
    long = reference_window(date(2021, 1, 1), date(2024, 6, 30), today=today)
    assert long == (date(2021, 1, 1), date(2024, 6, 30))


def test_reference_window_never_looks_past_today() -> None:
    nightly = reference_window(date(2025, 12, 22), date(2026, 1, 1), today=date(2026, 1, 1))
    assert nightly == (date(2025, 1, 2), date(2026, 1, 1))


def test_batches_cover_everything_in_order() -> None:
    assert batches(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert batches([], 3) == []


@pytest.mark.parametrize("window", [1, 2, 5])
def test_bounded_keeps_at_most_window_in_flight(window: int) -> None:
    in_flight: list[int] = []
    peak = 0

    def submit(item: int) -> int:
        nonlocal peak
        in_flight.append(item)
        peak = max(peak, len(in_flight))
        return item

    out = []
    for handle in bounded(range(10), submit, window=window):
        in_flight.remove(handle)  # the caller consumes it
        out.append(handle)
    assert out == list(range(10))
    assert peak == window


def test_transient_read_failures_are_told_apart() -> None:
    assert is_transient(TransientReadError("2 of 8 chips failed for now"))
    assert is_transient(ReadError("cannot read x after 3 attempts: HTTP response code: 503"))
    assert not is_transient(ReadError("cannot read x: HTTP response code: 404"))
    assert not is_transient(ReadError("cannot read /a/B04.tif: No such file or directory"))
    assert not is_transient(ValueError("a bug"))
    assert one_line(ValueError("two\nlines")) == "ValueError: two lines"

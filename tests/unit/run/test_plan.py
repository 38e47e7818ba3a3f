"""The plain planning rules the flows follow: windows, what is left to do, bounded submission."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipeline.claims.parse import DEFAULT_BASELINE, load_claims, parse_claims
from pipeline.errors import InvalidDateRangeError, ReadError
from pipeline.geo.dates import parse_period
from pipeline.run.job import CLAIMS_FILE, Job, claim_windows_within, nightly_window
from pipeline.run.options import DEFAULT_REFERENCE_PERIOD, LOOKBACK_DAYS, OVERLAP_DAYS, RunOptions
from pipeline.run.scene_work import TransientReadError, is_transient, one_line
from pipeline.run.steps import batches, bounded


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


def _claims(*windows: tuple[str, str]) -> str:
    return "\n".join(
        f'[claims.c{i}]\nquote = "q"\nsource = "s"\naoi = "rajin-port"\nmetric = "ships"\n'
        f"baseline = [2019-01-01, 2020-12-31]\nwindow = [{a}, {b}]\n"
        for i, (a, b) in enumerate(windows)
    )


def test_claim_windows_within_a_period_are_merged_in_order() -> None:
    claims = parse_claims(
        _claims(
            ("2023-08-01", "2023-11-29"),
            ("2023-10-01", "2023-12-31"),
            ("2021-03-01", "2021-03-31"),
            ("2025-01-01", "2025-02-01"),
        )
    )
    period = (date(2020, 1, 1), date(2024, 6, 30))
    assert claim_windows_within(claims, period) == (
        (date(2021, 3, 1), date(2021, 3, 31)),
        (date(2023, 8, 1), date(2023, 12, 31)),
    )
    assert claim_windows_within(claims, (date(2019, 1, 1), date(2021, 2, 28))) == ()


def test_the_default_reference_period_leaves_every_seed_test_window_out() -> None:
    job = Job.create(RunOptions())
    assert job.reference_period == DEFAULT_REFERENCE_PERIOD == DEFAULT_BASELINE

    for claim in load_claims(CLAIMS_FILE):
        for day in (claim.window[0], claim.window[1]):
            for aoi in job.aois:
                assert not job.reference_key(aoi).admits(day), (claim.id, day)
    wide = Job.create(RunOptions(reference_period=(date(2019, 1, 1), date(2024, 6, 30))))
    assert wide.excluded == ((date(2023, 8, 1), date(2023, 11, 29)),)
    key = wide.reference_key(wide.aois[0])
    assert key.admits(date(2023, 7, 31))
    assert not key.admits(date(2023, 9, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-01-01..2023-06-30", (date(2019, 1, 1), date(2023, 6, 30))),
        (" 2021-05-01..2021-05-01 ", (date(2021, 5, 1), date(2021, 5, 1))),
    ],
)
def test_parse_period(text: str, expected: tuple[date, date]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["2019-01-01", "2023-06-30..2019-01-01", "a..b", "..", ""])
def test_parse_period_refuses_with_one_line(text: str) -> None:
    with pytest.raises(InvalidDateRangeError, match="--reference-period") as info:
        parse_period(text)
    assert "\n" not in str(info.value)


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
    assert is_transient(
        ReadError("cannot read x after 3 attempts: HTTP response code: 503", kind="transient")
    )
    assert not is_transient(ReadError("cannot read x: HTTP response code: 404"))
    assert not is_transient(ReadError("cannot read /a/B04.tif: No such file or directory"))
    assert not is_transient(ValueError("a bug"))
    assert one_line(ValueError("two\nlines")) == "ValueError: two lines"

"""Property-based tests (hypothesis) of date parsing."""

from __future__ import annotations

from datetime import date

import pytest
from hostile_values import MANY, valid_or_refused
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import InvalidDateRangeError
from pipeline.geo.dates import parse_date, parse_range


# --- dates ------------------------------------------------------------------------------------
@MANY
@given(st.dates())
def test_parse_date_round_trips_iso_dates(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"  {day.isoformat()}\n") == day


@MANY
@given(st.text(max_size=20))
def test_parse_date_returns_a_date_or_refuses(text: str) -> None:
    parsed = valid_or_refused(lambda: parse_date(text))
    assert parsed is None or isinstance(parsed, date)


@MANY
@given(st.dates(), st.dates())
def test_parse_range_orders_or_refuses(first: date, last: date) -> None:
    if last < first:
        with pytest.raises(InvalidDateRangeError, match="reversed"):
            parse_range(first.isoformat(), last.isoformat())
    else:
        assert parse_range(first.isoformat(), last.isoformat()) == (first, last)

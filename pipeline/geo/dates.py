"""Parse and validate the dates and date ranges users type."""

from __future__ import annotations

from datetime import date

from pipeline.errors import InvalidDateRangeError


def parse_date(text: str, *, what: str = "date") -> date:
    """Parse an ISO calendar date (``YYYY-MM-DD``).

    Raises:
        InvalidDateRangeError: the text is not a valid calendar date.
    """
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidDateRangeError(
            f"{what} {text!r} is not a valid date; use YYYY-MM-DD, e.g. 2023-11-29"
        ) from None


def parse_range(start: str, end: str) -> tuple[date, date]:
    """Parse ``--start``/``--end``; both inclusive, ``end`` not before ``start``.

    Raises:
        InvalidDateRangeError: either date is invalid, or the range is reversed.
    """
    first = parse_date(start, what="--start")
    last = parse_date(end, what="--end")
    if last < first:
        raise InvalidDateRangeError(
            f"date range is reversed: --end {last.isoformat()} "
            f"is before --start {first.isoformat()}"
        )
    return first, last


def parse_period(text: str, *, what: str = "--reference-period") -> tuple[date, date]:
    """Parse ``START..END`` (both inclusive, ``END`` not before ``START``).

    Raises:
        InvalidDateRangeError: not two dates joined by ``..``, or reversed.
    """
    first_text, sep, last_text = text.strip().partition("..")
    if not sep:
        raise InvalidDateRangeError(
            f"{what} {text!r} is not a period; use START..END, e.g. 2019-01-01..2023-06-30"
        )
    first = parse_date(first_text, what=f"{what} start")
    last = parse_date(last_text, what=f"{what} end")
    if last < first:
        raise InvalidDateRangeError(
            f"{what} is reversed: {last.isoformat()} is before {first.isoformat()}"
        )
    return first, last

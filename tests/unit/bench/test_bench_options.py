"""``rasonwatch bench backfill``: its options and refusals, with no benchmark run."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Final

import pytest

from pipeline.bench.backfill import (
    MEASUREMENTS,
    BenchOptionError,
    parse_only,
    rss_spans,
    years_label,
)
from pipeline.cli.app import main

#: Three weeks of the small archive (as in ``integration/test_bench_backfill.py``).
SPAN: Final = (date(2022, 5, 1), date(2022, 5, 21))


def test_only_is_parsed_in_run_order_and_unknown_names_are_refused() -> None:
    assert parse_only(None) == MEASUREMENTS
    assert parse_only("plain, prefect") == ("prefect", "plain")
    for bad in ("", "prefect,fast", ","):
        with pytest.raises(BenchOptionError, match="--only"):
            parse_only(bad)


def test_rss_ranges_grow_by_years_up_to_the_whole_span() -> None:
    spans = rss_spans(date(2021, 1, 1), date(2024, 6, 30))
    assert spans == {
        "1y": (date(2021, 1, 1), date(2021, 12, 31)),
        "2y": (date(2021, 1, 1), date(2022, 12, 31)),
        "3.5y": (date(2021, 1, 1), date(2024, 6, 30)),
    }
    assert years_label(*SPAN) == "0.1y"


def test_a_missing_archive_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["bench", "backfill", "--archive", str(tmp_path / "none"), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "rasonwatch demo" in captured.err

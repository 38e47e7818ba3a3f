"""The table "CSIS counts per yard vs this tool": each zoned count against its own yard."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rail_yards import rail_scene as scene

from pipeline.report import write_report
from pipeline.report.osint import OsintPoint
from pipeline.report.yards import YardComparison, compare_yards, yards_section
from pipeline.store.results import Store
from pipeline.types import Observation

DAY = date(2024, 6, 17)
HEADER = "start,end,aoi,metric,value,reported,source,zone\n"


def rows(*scenes: tuple[Observation, list[Observation]]) -> list[Observation]:
    """The AOI totals and the yards' rows together, as a careless caller would pass them."""
    return [o for total, yards in scenes for o in (total, *yards)]


def count(
    zone: str | None, value: float | None, day: date = DAY, end: date | None = None
) -> OsintPoint:
    return OsintPoint(
        day, end or day, "tumangang-rail", "railcar_equivalents", value, "x", "CSIS", zone=zone
    )


def compare(
    points: list[OsintPoint], observations: list[Observation], **kw: int
) -> tuple[YardComparison, ...]:
    return compare_yards(
        points,
        observations,
        min_clear_fraction={"tumangang-rail": 0.9},
        default_min_clear=0.8,
        **kw,
    )


def test_each_count_is_compared_with_its_own_yard_not_the_total() -> None:
    found = compare(
        [count("tumangang-yard", 255.0), count("khasan-yard", 149.0)],
        rows(scene(DAY + timedelta(days=2), 300.0, 40.0, 120.0)),
    )
    assert [(c.point.zone, c.tool_value, c.gap_days, c.difference) for c in found] == [
        ("tumangang-yard", 40.0, 2, -215.0),
        ("khasan-yard", 120.0, 2, -29.0),
    ]
    assert all(c.simulated for c in found)
    assert found[0].scene_id == "S2X_T52TFM_20240619T021601_L2A"


def test_the_nearest_clear_scene_of_the_yard_is_taken() -> None:
    observations = rows(
        scene(DAY - timedelta(days=4), 300.0, 10.0, 0.0),
        scene(DAY + timedelta(days=1), 300.0, 99.0, 0.0, clear=0.5),  # the yard under cloud
        scene(DAY + timedelta(days=3), 300.0, 20.0, 0.0),
    )
    (found,) = compare([count("tumangang-yard", 255.0)], observations)
    assert (found.tool_value, found.gap_days, found.scene_date) == (20.0, 3, date(2024, 6, 20))
    # Two scenes as near: the earlier one, before the analysts' image.
    tie = rows(
        scene(DAY - timedelta(days=3), 300.0, 10.0, 0.0),
        scene(DAY + timedelta(days=3), 300.0, 20.0, 0.0),
    )
    assert compare([count("tumangang-yard", 255.0)], tie)[0].gap_days == -3


def test_no_clear_scene_within_the_gap_is_said_not_guessed() -> None:
    observations = rows(
        scene(DAY - timedelta(days=6), 300.0, 10.0, 0.0),
        scene(DAY + timedelta(days=7), 300.0, 20.0, 0.0),
    )
    (found,) = compare([count("tumangang-yard", 255.0)], observations)
    assert (found.tool_value, found.scene_date, found.gap_days, found.difference) == (
        None,
        None,
        None,
        None,
    )
    html = yards_section([found], simulated=True)
    assert html is not None
    assert "no clear scene within 5 days" in html
    (wider,) = compare([count("tumangang-yard", 255.0)], observations, max_gap_days=6)
    assert (wider.tool_value, wider.gap_days) == (10.0, -6)  # the bound is inclusive


def test_only_zoned_counts_of_one_image_are_compared() -> None:
    observations = rows(scene(DAY, 300.0, 40.0, 120.0))
    points = [
        count(None, 404.0),  # the whole AOI: drawn on the total's figure
        count("tumangang-yard", None),  # not a count
        count("tumangang-yard", 20.0, date(2018, 10, 5), date(2023, 9, 30)),  # a period
        count("khasan-yard", 149.0),
    ]
    assert [c.point.value for c in compare(points, observations)] == [149.0]
    assert yards_section([], simulated=True) is None


class Cells(HTMLParser):
    """The text of every table cell of a page, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


def cells(html: str) -> list[list[str]]:
    parser = Cells()
    parser.feed(html)
    return parser.rows


@pytest.mark.parametrize("simulated", [True, False])
def test_the_table_says_simulated_only_when_it_is(simulated: bool) -> None:
    (found,) = compare(
        [count("khasan-yard", 149.0)], rows(scene(DAY - timedelta(days=1), 300.0, 40.0, 120.0))
    )
    found = replace(found, simulated=simulated)
    html = yards_section([found], simulated=simulated)
    assert html is not None
    head, row = cells(html)
    assert row[:3] == ["17 Jun 2024", "khasan-yardtumangang-rail", "149x"]
    assert row[3].startswith("120.0")
    assert row[4:] == ["1 day before", "-29.0"]
    assert ("SIMULATED" in html) is simulated
    assert ("SIMULATED" in head[3]) is simulated


def test_the_report_compares_the_seed_counts_with_the_stored_yards(tmp_path: Path) -> None:
    db = tmp_path / "rasonwatch.sqlite"
    with Store(db) as store:
        for total, yards in (
            scene(date(2023, 10, 3), 310.0, 61.0, 90.0),
            scene(DAY + timedelta(days=1), 320.0, 230.0, 70.0),
        ):
            store.write(total, zones=yards)
    html = write_report(db, tmp_path / "out").path.read_text()
    table = html[html.index('<section id="yards">') :]
    table = table[: table.index("</section>")]
    assert "CSIS counts per yard vs this tool (SIMULATED)" in table
    by_date = {(r[0], r[1][:14]): r for r in cells(table)[1:]}
    assert by_date[("5 Oct 2023", "tumangang-yard")][3].startswith("61.0")
    assert by_date[("5 Oct 2023", "tumangang-yard")][4:] == ["2 days before", "-12.0"]
    assert by_date[("17 Jun 2024", "tumangang-yard")][3].startswith("230.0")
    assert by_date[("17 Jun 2024", "tumangang-yard")][5] == "-25.0"
    khasan = next(r for r in cells(table)[1:] if r[1].startswith("khasan-yard"))
    assert khasan[3].startswith("70.0")
    assert khasan[5] == "-79.0"  # 70 read against the 149 freight cars CSIS counted
    assert 'id="series-tumangang-rail-khasan-yard"' in html

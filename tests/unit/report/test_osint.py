"""The analysts' table (``seeds/osint.csv``): the optional ``zone`` column and its checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from claims_fixtures import fill_store

from pipeline.config import DEFAULT_AOI_DIR
from pipeline.geo.aoi import load_aois
from pipeline.report import write_report
from pipeline.report.osint import InvalidOsintError, load_osint, yard_zones

REPO = Path(__file__).resolve().parents[3]
OLD_HEADER = "start,end,aoi,metric,value,reported,source\n"
NEW_HEADER = "start,end,aoi,metric,value,reported,source,zone\n"


@pytest.fixture(scope="module")
def zones() -> dict[str, frozenset[str]]:
    """The yard zones of the AOIs in ``aoi/``."""
    return yard_zones(load_aois(DEFAULT_AOI_DIR))


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "osint.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_yard_zones_are_the_yards_only(zones: dict[str, frozenset[str]]) -> None:
    # The bridge is a zone of the AOI but has no series of its own.
    assert zones["tumangang-rail"] == {"tumangang-yard", "khasan-yard"}
    assert zones["rajin-port"] == frozenset()


def test_a_table_without_the_zone_column_still_loads(
    tmp_path: Path, zones: dict[str, frozenset[str]]
) -> None:
    path = _table(
        tmp_path,
        OLD_HEADER + "2023-10-05,2023-10-05,tumangang-rail,railcar_equivalents,73,x,CSIS\n",
    )
    (point,) = load_osint(path, aoi_zones=zones)
    assert (point.value, point.zone) == (73.0, None)


def test_the_zone_column_names_the_yard_and_may_be_empty(
    tmp_path: Path, zones: dict[str, frozenset[str]]
) -> None:
    # Columns in any order, as before; the zone column anywhere among them.
    path = _table(
        tmp_path,
        "zone,start,end,aoi,metric,value,reported,source\n"
        "khasan-yard,2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,149,x,CSIS\n"
        ",2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,404,x,CSIS\n"
        " tumangang-yard ,2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,255,x,CSIS\n",
    )
    points = load_osint(path, aoi_zones=zones)
    assert [(p.zone, p.value) for p in points] == [
        ("khasan-yard", 149.0),
        (None, 404.0),
        ("tumangang-yard", 255.0),
    ]


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        (
            "2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,112,x,CSIS,khasan-yrad",
            ("line 3", "'khasan-yrad' is not a yard zone of AOI 'tumangang-rail'", "khasan-yard"),
        ),
        (  # a zone of the AOI, but no yard: it has no railcar series to compare with
            "2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,5,x,CSIS,friendship-bridge",
            ("line 3", "not a yard zone"),
        ),
        (  # a yard of another AOI
            "2024-06-17,2024-06-17,rajin-port,railcar_equivalents,5,x,CSIS,khasan-yard",
            ("line 3", "not a yard zone of AOI 'rajin-port'", "none"),
        ),
        (
            "2024-06-17,2024-06-17,chongjin-rail,railcar_equivalents,5,x,CSIS,khasan-yard",
            ("line 3", "no AOI file for 'chongjin-rail'"),
        ),
        (
            "2023-08-01,2023-08-01,rajin-port,ships,3,x,RUSI,harbour",
            ("line 3", "zones are for railcar_equivalents rows only"),
        ),
        (
            "2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,5,x,CSIS,../yard",
            ("line 3", "must match"),
        ),
    ],
)
def test_a_bad_zone_is_refused_naming_its_row(
    tmp_path: Path, zones: dict[str, frozenset[str]], row: str, needles: tuple[str, ...]
) -> None:
    good = "2023-10-05,2023-10-05,tumangang-rail,railcar_equivalents,73,x,CSIS,tumangang-yard\n"
    path = _table(tmp_path, NEW_HEADER + good + row + "\n")
    with pytest.raises(InvalidOsintError) as caught:
        load_osint(path, aoi_zones=zones)
    for needle in needles:
        assert needle in str(caught.value)


def test_without_known_zones_only_the_form_of_the_name_is_checked(tmp_path: Path) -> None:
    path = _table(
        tmp_path,
        NEW_HEADER + "2024-06-17,2024-06-17,x-rail,railcar_equivalents,5,x,CSIS,some-yard\n",
    )
    assert load_osint(path)[0].zone == "some-yard"


def test_the_seed_counts_per_yard(zones: dict[str, frozenset[str]]) -> None:
    points = load_osint(REPO / "seeds" / "osint.csv", aoi_zones=zones)
    june = {p.zone: p.value for p in points if p.start == date(2024, 6, 17)}
    # CSIS Beyond Parallel, 2024-06-17: Tumangang 175 ore + 66 tank + 14 box cars; Khasan
    # 112 ore + 33 tank + 4 box cars (freight cars, as at Tumangang).
    assert june == {"tumangang-yard": 255.0, "khasan-yard": 149.0}
    october = next(p for p in points if p.start == date(2023, 10, 5))
    assert october.zone == "tumangang-yard"  # "North Korea's Tumangang Rail Facility"
    assert next(p for p in points if p.metric == "ships").zone is None


def test_the_report_refuses_an_unknown_zone_and_writes_nothing(tmp_path: Path) -> None:
    db = fill_store(tmp_path / "empty.sqlite", [])
    path = _table(
        tmp_path,
        NEW_HEADER + "2024-06-17,2024-06-17,tumangang-rail,railcar_equivalents,5,x,CSIS,yard-9\n",
    )
    with pytest.raises(InvalidOsintError, match="line 2: zone 'yard-9' is not a yard zone"):
        write_report(db, tmp_path / "out", osint_path=path)
    assert not (tmp_path / "out").exists()

"""Scenario files: defaults, and every kind of bad input refused with one clear line."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from pipeline.errors import InvalidScenarioError
from pipeline.simulate import Scenario, load_scenario, parse_scenario

GOOD = """
seed = 7
start = "2021-01-01"
end = "2021-01-31"
revisit_days = 5
cloud_probability = 0.4
[[aoi]]
id = "rajin-port"
activity = [ { from = "2021-01-01", ships = 0.5 }, { from = "2021-01-20", ships = 4.0 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2021-01-01", railcars = 10 } ]
"""


def test_good_scenario_parses_with_piecewise_activity() -> None:
    scenario = parse_scenario(GOOD, where="good.toml")
    assert scenario.seed == 7
    assert scenario.dates == tuple(date(2021, 1, d) for d in (1, 6, 11, 16, 21, 26, 31))
    port = scenario.site("rajin-port")
    assert port.mean_on(date(2021, 1, 19)) == 0.5
    assert port.mean_on(date(2021, 1, 20)) == 4.0
    assert scenario.site("tumangang-rail").mean_on(date(2021, 1, 31)) == 10.0


def test_missing_values_take_realistic_defaults() -> None:
    scenario = parse_scenario("", where="empty.toml")
    assert (scenario.start, scenario.end) == (date(2021, 1, 1), date(2024, 6, 30))
    assert scenario.revisit_days == 5
    assert 0.3 <= scenario.cloud_probability <= 0.5
    assert {s.aoi for s in scenario.sites} == {"rajin-port", "tumangang-rail"}
    assert scenario.site("rajin-port").mean_on(date(2022, 1, 1)) > 0


def test_normalised_toml_round_trips() -> None:
    scenario = parse_scenario(GOOD)
    assert parse_scenario(scenario.to_toml()) == scenario


def test_packaged_demo_scenario() -> None:
    path = Path(str(resources.files("pipeline") / "data" / "demo.toml"))
    demo = load_scenario(path)
    assert isinstance(demo, Scenario)
    assert (demo.start, demo.end, demo.revisit_days) == (date(2019, 1, 1), date(2023, 12, 31), 5)
    assert len(demo.dates) == 366
    port, rail = demo.site("rajin-port"), demo.site("tumangang-rail")
    assert port.mean_on(date(2023, 8, 9)) == 1.5
    assert port.mean_on(date(2023, 8, 10)) == 4.0
    assert rail.mean_on(date(2023, 9, 14)) == 12 + 40
    assert rail.mean_on(date(2023, 9, 15)) == 70 + 40
    # The realistic world of issue 13, not the kind one.
    assert port.dynamic
    assert rail.dynamic
    assert demo.world.shadows
    assert demo.world.misregistration_px == 0.5


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("seed = 1\nwind = 3\n", ["wind", "unknown key"]),
        ('[[aoi]]\nid = "rajin-port"\ncolour = "red"\n', ["aoi[0].colour", "unknown key"]),
        (
            '[[aoi]]\nid = "rajin-port"\nactivity = [{ from = "2021-01-01", shipz = 1 }]\n',
            ["aoi[0].activity[0].shipz", "unknown key"],
        ),
        ('start = "2021-03-01"\nend = "2021-02-01"\n', ["2021-02-01", "2021-03-01"]),
        ('start = "2021-02-30"\n', ["start", "not a valid date"]),
        ('start = "2010-01-01"\nend = "2011-01-01"\n', ["start", "Sentinel-2"]),
        ("cloud_probability = 1.5\n", ["cloud_probability", "1.5"]),
        ("cloud_probability = -0.1\n", ["cloud_probability", "negative"]),
        ("revisit_days = 0\n", ["revisit_days"]),
        ('revisit_days = "5"\n', ["revisit_days", "integer"]),
        ('[[aoi]]\nid = "wonsan-port"\n', ["aoi[0].id", "wonsan-port", "rajin-port"]),
        (
            '[[aoi]]\nid = "rajin-port"\nactivity = [{ from = "2021-01-01", ships = -1 }]\n',
            ["aoi[0].activity[0].ships", "negative"],
        ),
        (
            '[[aoi]]\nid = "tumangang-rail"\nactivity = [{ from = "2022-01-01", railcars = 5 },'
            ' { from = "2021-01-01", railcars = 9 }]\n',
            ["aoi[0].activity[1].from", "date order"],
        ),
        (
            '[[aoi]]\nid = "rajin-port"\nactivity = [{ from = "2021-01-01", railcars = 5 }]\n',
            ["aoi[0].activity[0].railcars", "ships"],
        ),
        ('[[aoi]]\nid = "rajin-port"\n[[aoi]]\nid = "rajin-port"\n', ["more than once"]),
        ("seed = [unclosed\n", ["not valid TOML"]),
    ],
)
def test_bad_scenarios_raise_one_line(text: str, needles: list[str]) -> None:
    with pytest.raises(InvalidScenarioError) as caught:
        parse_scenario(text, where="bad.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert "bad.toml" in message
    for needle in needles:
        assert needle in message


def test_load_scenario_names_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidScenarioError, match=r"none\.toml"):
        load_scenario(tmp_path / "none.toml")

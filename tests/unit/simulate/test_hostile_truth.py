"""Issue 13, part A: the hostile world at the level of the truth, on long series (no pixels)."""

from __future__ import annotations

import hashlib
import json
import math
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InvalidScenarioError
from pipeline.simulate import parse_scenario
from pipeline.simulate.conditions import scene_conditions
from pipeline.simulate.dynamics import present

sys.path.insert(0, str(Path(__file__).parents[2]))
from conftest import SMALL_SCENARIO

#: 20 years of 5-day revisits.
LONG = 'start = "2015-07-01"\nend = "2035-06-30"\n'
#: Digest of SMALL_SCENARIO's objects (per scene and AOI: ship x, y, length; railcar strings),
#: computed from the archive written BEFORE the issue-13 code existed.
SMALL_OBJECTS_DIGEST = "8b5ef51b74722baf1ec478e0f18b17b099bf858a38e6000649fb5c5e39171da2"


def _port(text: str) -> str:
    return f'{LONG}[[aoi]]\nid = "rajin-port"\n{text}'


def _counts(scenario_text: str, aoi: str = "rajin-port", **match: object) -> np.ndarray:
    scenario = parse_scenario(scenario_text, where="long.toml")
    out = []
    for day in scenario.dates:
        stays = present(scenario, aoi, day)
        keep = [s for s in stays if all(getattr(s, k) == v for k, v in match.items())]
        out.append(sum(s.size for s in keep) if aoi == "tumangang-rail" else len(keep))
    return np.asarray(out, float)


def test_persistence_lag_one_autocorrelation() -> None:
    counts = _counts(_port('activity = [{ from = "2015-07-01", ships = 3.0, dwell_days = 12 }]\n'))
    lag1 = float(np.corrcoef(counts[:-1], counts[1:])[0, 1])
    assert abs(lag1 - math.exp(-5 / 12)) < 0.1
    assert abs(counts.mean() - 3.0) < 0.3


def test_without_dwell_counts_are_independent() -> None:
    counts = _counts(_port('activity = [{ from = "2015-07-01", ships = 3.0, zone = "harbour" }]\n'))
    assert abs(float(np.corrcoef(counts[:-1], counts[1:])[0, 1])) < 0.1


def test_berth_occupancy() -> None:
    text = _port(
        'activity = [{ from = "2015-07-01", ships = 1.0, dwell_days = 4 }]\n'
        "[[aoi.berth]]\noccupancy = 0.9\ndwell_days = 30\nlength_m = 110\n"
    )
    occupied = _counts(text, berth=0) > 0
    assert abs(occupied.mean() - 0.9) < 0.05


def test_seasonal_amplitude_recovered() -> None:
    text = _port(
        'activity = [{ from = "2015-07-01", ships = 4.0, dwell_days = 4 }]\n'
        "seasonal_amplitude = 0.4\nseasonal_peak_day = 200\n"
    )
    scenario = parse_scenario(text)
    counts = _counts(text)
    doy = np.asarray([d.timetuple().tm_yday for d in scenario.dates], float)
    phase = 2 * np.pi * (doy - 200) / 365.25
    design = np.column_stack([np.ones_like(phase), np.cos(phase), np.sin(phase)])
    mean, a_cos, _ = np.linalg.lstsq(design, counts, rcond=None)[0]
    assert abs(a_cos / mean - 0.4) < 0.1


def test_zone_means_follow_their_steps() -> None:
    text = (
        f'{LONG}[[aoi]]\nid = "tumangang-rail"\nactivity = ['
        '{ from = "2015-07-01", railcars = 12, dwell_days = 3, zone = "tumangang-yard" }, '
        '{ from = "2015-07-01", railcars = 40, dwell_days = 3, zone = "khasan-yard" }, '
        '{ from = "2025-07-01", railcars = 80, zone = "khasan-yard" }]\n'
    )
    scenario = parse_scenario(text)
    late = np.asarray([d >= date(2025, 7, 1) for d in scenario.dates])
    yard = _counts(text, "tumangang-rail", zone="tumangang-yard")
    khasan = _counts(text, "tumangang-rail", zone="khasan-yard")
    assert abs(yard.mean() - 12) < 0.2 * 12
    assert abs(khasan[~late].mean() - 40) < 0.2 * 40
    assert abs(khasan[late].mean() - 80) < 0.2 * 80


def test_ship_lengths_follow_the_step() -> None:
    text = _port(
        'activity = [{ from = "2015-07-01", ships = 2, dwell_days = 5, length_m = [50, 60] }]\n'
    )
    scenario = parse_scenario(text)
    lengths = [s.size for d in scenario.dates[:200] for s in present(scenario, "rajin-port", d)]
    assert lengths
    assert min(lengths) >= 50
    assert max(lengths) <= 60


def test_misregistration_spread() -> None:
    text = f"{LONG}misregistration_px = 0.5\n"
    scenario = parse_scenario(text)
    shifts = np.asarray([scene_conditions(scenario, i).shift_px for i in range(0, 1461, 2)])
    assert abs(float(shifts.std()) - 0.5) < 0.2 * 0.5
    assert scene_conditions(parse_scenario(LONG), 0).shift_px == (0.0, 0.0)


def test_snow_and_clouds_by_month() -> None:
    snow = [0.9] + [0.0] * 11
    clouds = [0.1] * 6 + [0.8] + [0.1] * 5
    text = (
        f"{LONG}snow_probability_by_month = {snow}\ncloud_probability_by_month = {clouds}\n"
        "sea_ice_months = [1, 2]\n"
    )
    scenario = parse_scenario(text)
    conds = [scene_conditions(scenario, i) for i in range(len(scenario.dates))]
    months = np.asarray([d.month for d in scenario.dates])
    snowy = np.asarray([c.snow for c in conds])
    assert abs(snowy[months == 1].mean() - 0.9) < 0.06
    assert not snowy[months != 1].any()
    assert {c.cloud_probability for c, m in zip(conds, months, strict=True) if m == 7} == {0.8}
    assert all(c.sea_ice == (m in (1, 2)) for c, m in zip(conds, months, strict=True))


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("cloud_probability_by_month = [0.2]\n", ["cloud_probability_by_month", "12"]),
        (f"snow_probability_by_month = {[0.1] * 11 + [1.5]}\n", ["snow_probability_by_month[11]"]),
        ("sea_ice_months = [13]\n", ["sea_ice_months[0]", "1-12"]),
        ("misregistration_px = -1\n", ["misregistration_px", "negative"]),
        ("haze = 9\n", ["haze", "larger"]),
        ('shadows = "yes"\n', ["shadows", "true or false"]),
        (_port("seasonal_amplitude = 2\n"), ["aoi[0].seasonal_amplitude"]),
        (_port("seasonal_peak_day = 0\n"), ["aoi[0].seasonal_peak_day"]),
        (
            _port("[[aoi.berth]]\noccupancy = 0.5\ndwell_days = 3\n"),
            ["aoi[0].berth[0].length_m", "missing"],
        ),
        (
            _port("[[aoi.berth]]\noccupancy = 0.5\ndwell_days = 3\nlength_m = 9\n"),
            ["aoi[0].berth[0].length_m"],
        ),
        (
            _port("[[aoi.berth]]\noccupancy = 0.5\ndwell_days = 3\nlength_m = 90\nbow = 1\n"),
            ["aoi[0].berth[0].bow", "unknown key"],
        ),
        (
            _port('[[aoi.structure]]\nfrom = "2023-03-01"\nkind = "castle"\n'),
            ["aoi[0].structure[0].kind"],
        ),
        (_port("light_car_share = 0.2\n"), ["aoi[0].light_car_share", "no railcars"]),
        (
            _port('activity = [{ from = "2021-01-01", ships = 1, dwell_days = 0 }]\n'),
            ["activity[0].dwell_days"],
        ),
        (
            _port('activity = [{ from = "2021-01-01", ships = 1, zone = "dock" }]\n'),
            ["activity[0].zone", "dock"],
        ),
        (
            _port('activity = [{ from = "2021-01-01", ships = 1, length_m = [90, 50] }]\n'),
            ["activity[0].length_m", "reversed"],
        ),
        (
            '[[aoi]]\nid = "tumangang-rail"\n'
            'activity = [{ from = "2021-01-01", railcars = 5, zone = "friendship-bridge" }]\n',
            ["activity[0].zone", "friendship-bridge"],
        ),
    ],
)
def test_new_keys_refused_with_one_line(text: str, needles: list[str]) -> None:
    with pytest.raises(InvalidScenarioError) as caught:
        parse_scenario(text, where="bad.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert "bad.toml" in message
    for needle in needles:
        assert needle in message


#: ``pipeline/data/demo.toml`` as it was before issue 13 (the kind world, 2021-01..2024-06).
OLD_DEMO = """\
seed = 20231129
start = "2021-01-01"
end = "2024-06-30"
revisit_days = 5
cloud_probability = 0.4
[[aoi]]
id = "rajin-port"
activity = [ { from = "2021-01-01", ships = 0.5 }, { from = "2023-08-01", ships = 4.0 } ]
[[aoi]]
id = "tumangang-rail"
activity = [ { from = "2021-01-01", railcars = 10 }, { from = "2023-09-15", railcars = 70 } ]
"""


def test_old_files_parse_to_the_same_world() -> None:
    for text in (SMALL_SCENARIO, OLD_DEMO):
        scenario = parse_scenario(text)
        assert not any(site.dynamic for site in scenario.sites)
        assert scenario == parse_scenario(scenario.to_toml())


def test_small_scenario_truth_is_what_it_was() -> None:
    """The objects of a scenario without new keys are those written before issue 13."""
    from pipeline.simulate.placement import scene_objects

    scenario = parse_scenario(SMALL_SCENARIO, where="small.toml")
    rows = []
    for i in range(len(scenario.dates)):
        objects = scene_objects(scenario, i)
        scene_id = scene_conditions(scenario, i).scene_id
        for aoi, (ships, strings) in sorted(objects.items()):
            rows.append([
                scene_id, aoi,
                [[round(s.x, 2), round(s.y, 2), round(s.length_m, 2)] for s in ships],
                [[s.n_cars, s.zone, round(s.x0, 2)] for s in strings],
            ])  # fmt: skip
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    assert digest == SMALL_OBJECTS_DIGEST

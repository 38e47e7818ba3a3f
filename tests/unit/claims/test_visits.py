"""The visits test of claim (b), "first time since 2018" (issue 17), on SIMULATED worlds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from visit_worlds import (
    ALARM_DAYS,
    Call,
    World,
    contradicted_world,
    late_archive_world,
    marks_of,
    scenes,
    supported_world,
)

from pipeline.claims.parse import Claim, parse_claims
from pipeline.claims.rules import evaluate_claim
from pipeline.claims.verdict import Verdict
from pipeline.claims.visit_chances import (
    month_chances,
    month_ranges,
    months_between,
    quarters_of,
    seen_chance,
)
from pipeline.claims.visits import Look, VisitEvidence, link_visits

CLAIM = Claim(
    id="port-first-ships-since-2018",
    quote="ships docking there for the first time since 2018",
    source="test",
    aoi="rajin-port",
    metric="ships",
    test="visits",
)


ALARM = list(ALARM_DAYS)


def verdict_of(world: World, claim: Claim = CLAIM) -> Verdict:
    seen = scenes(world)
    return evaluate_claim(
        claim,
        [s.observation for s in seen],
        ships=marks_of(seen),
        aoi_zones={"rajin-port": frozenset({"harbour", "anchorage"})},
    )


def evidence(v: Verdict) -> VisitEvidence:
    assert v.visits is not None
    return v.visits


# --- linking --------------------------------------------------------------------------------
def _look(day: int, *points: tuple[float, float]) -> Look:
    return Look(date(2020, 1, 1) + timedelta(days=day), f"s{day}", points)


def test_a_ship_seen_in_consecutive_clear_scenes_is_one_visit() -> None:
    visits = link_visits([_look(0, (0, 0)), _look(5, (12, 5)), _look(10, (3, -4))])
    assert [(v.first.day, v.last.day, v.n_scenes) for v in visits] == [(1, 11, 3)]


def test_a_clear_scene_without_the_ship_ends_the_visit() -> None:
    visits = link_visits([_look(0, (0, 0)), _look(5), _look(10, (0, 0))])
    assert [v.n_scenes for v in visits] == [1, 1]


def test_a_ship_more_than_two_pixels_away_is_another_visit() -> None:
    visits = link_visits([_look(0, (0, 0)), _look(5, (25, 0))])
    assert len(visits) == 2


def test_ships_side_by_side_keep_their_own_visits() -> None:
    looks = [_look(0, (0, 0), (18, 0)), _look(5, (17, 1), (1, 1)), _look(10, (18, 0))]
    visits = link_visits(looks)
    assert sorted(v.n_scenes for v in visits) == [2, 3]


# --- the chance of seeing a visit --------------------------------------------------------------
def test_a_three_day_visit_under_a_five_day_revisit_is_seen_about_three_times_in_five() -> None:
    days = [date(2020, 1, 1) + timedelta(days=5 * i) for i in range(20)]
    (_, chance, n), *_ = month_chances(days, [date(2020, 1, 1)], visit_days=3)
    assert chance == pytest.approx(19 / 31)  # Jan 1 is seen only by its own scene
    assert n == 7


def test_a_month_without_clear_scenes_has_no_chance() -> None:
    days = [date(2020, 3, 1)]
    chances = month_chances(days, months_between(date(2020, 1, 1), date(2020, 1, 31)), visit_days=3)
    assert chances == [("2020-01", 0.0, 0)]


def test_quarters_take_a_short_remainder_into_the_last() -> None:
    months = [(f"2019-{m:02d}", 0.5, 3) for m in range(1, 8)]
    quarters = quarters_of(months, visits_per_month=1.0)
    assert [q.label for q in quarters] == ["2019-01..2019-03", "2019-04..2019-07"]
    assert quarters[0].chance == pytest.approx(seen_chance([0.5] * 3, visits_per_month=1.0))


def test_month_ranges_collapse_runs() -> None:
    months = ["2019-11", "2019-12", "2020-01", "2020-05"]
    assert month_ranges(months) == "2019-11..2020-01, 2020-05"


# --- the three worlds (SIMULATED) ---------------------------------------------------------------
def test_visits_before_2019_none_after_and_visits_from_august_2023_support_the_claim() -> None:
    v = verdict_of(supported_world())
    ev = evidence(v)
    assert v.verdict == "supported", v.reason
    assert ev.in_period(*ev.window)
    assert ev.last_before is not None
    assert ev.last_before.last.year == 2018
    assert "last visit seen before 2019-01-01: 2018-" in v.reason
    assert v.simulated


def test_regular_visits_throughout_contradict_the_claim() -> None:
    v = verdict_of(contradicted_world())
    assert v.verdict == "contradicted", v.reason
    assert "visits of ships >= 90 m at the harbour in 2019-01-01..2023-07-31" in v.reason


def test_an_archive_starting_in_2020_is_inconclusive_and_names_2019() -> None:
    v = verdict_of(late_archive_world())
    assert v.verdict == "inconclusive", v.reason
    assert "no clear scene in 2019-01..2019-12" in v.reason
    assert evidence(v).last_before is None
    assert not evidence(v).reaches_before


def test_small_craft_and_an_anchorage_false_alarm_do_not_break_the_absence() -> None:
    alarm = ALARM
    v = verdict_of(supported_world(small_craft=True, anchorage_false_alarms=alarm))
    assert v.verdict == "supported", v.reason
    ev = evidence(v)
    assert ev.n_small > 100
    assert ev.n_outside >= 1


def test_the_same_false_alarm_at_a_pier_does_break_it() -> None:
    """The negative control of the test above: the restriction is what protects."""
    alarm = ALARM
    v = verdict_of(supported_world(harbour_false_alarms=alarm))
    assert v.verdict == "contradicted"
    assert "2021-05-" in v.reason


def test_without_the_length_restriction_small_craft_contradict() -> None:
    claim = Claim(**{**CLAIM.__dict__, "min_ship_length_m": 20.0})
    assert verdict_of(supported_world(small_craft=True), claim).verdict == "contradicted"


def test_a_ship_at_berth_since_2018_is_not_one_docking_but_a_new_arrival_is() -> None:
    world = supported_world()
    laid_up = Call(date(2018, 10, 1), 120, 3)  # moored from October 2018 to late January 2019
    v = verdict_of(replace(world, calls=(*world.calls, laid_up)))
    assert v.verdict == "supported", v.reason
    assert "(still there after it)" in v.reason
    again = Call(date(2019, 6, 1), 20, 3)
    assert verdict_of(replace(world, calls=(*world.calls, laid_up, again))).verdict == (
        "contradicted"
    )


def test_a_cloudy_archive_cannot_show_absence() -> None:
    v = verdict_of(supported_world(revisit_days=5, cloud_probability=0.5))
    assert v.verdict == "inconclusive"
    assert "too few clear scenes in" in v.reason


def test_no_visit_in_a_well_seen_window_contradicts() -> None:
    world = supported_world()
    calls = tuple(c for c in world.calls if c.arrive.year < 2019)
    v = verdict_of(World(world.start, world.end, calls))
    assert v.verdict == "contradicted"
    assert "no visit" in v.reason


def test_a_zone_the_aoi_does_not_have_is_inconclusive() -> None:
    seen = scenes(supported_world(end=date(2023, 12, 31)))
    v = evaluate_claim(
        Claim(**{**CLAIM.__dict__, "harbour_zone": "piers"}),
        [s.observation for s in seen],
        ships=marks_of(seen),
        aoi_zones={"rajin-port": frozenset({"harbour"})},
    )
    assert v.verdict == "inconclusive"
    assert "no zone 'piers'" in v.reason


def test_the_json_carries_the_visits_and_the_contract_fields() -> None:
    out = verdict_of(supported_world()).to_json()
    assert out["verdict"] == "supported"
    assert out["test"] == "visits"
    visits = out["visits"]
    assert visits["n_visits_absence"] == 0
    assert visits["n_visits_window"] > 0
    assert visits["last_visit_before"]["last"].startswith("2018-")
    assert all(q["chance"] >= 0.9 for q in visits["quarters"])


def test_claim_keys_parse_with_their_defaults() -> None:
    (claim,) = parse_claims(
        '[claims.b]\nquote="q"\nsource="s"\naoi="rajin-port"\nmetric="ships"\ntest="visits"\n'
    )
    assert (claim.harbour_zone, claim.min_ship_length_m, claim.min_detection_chance) == (
        "harbour",
        90.0,
        0.9,
    )
    (other,) = parse_claims(
        '[claims.b]\nquote="q"\nsource="s"\naoi="rajin-port"\nmetric="ships"\ntest="visits"\n'
        'harbour_zone="piers"\nmin_ship_length_m=80\nmin_detection_chance=0.8\nvisit_days=5\n'
    )
    assert (other.harbour_zone, other.min_ship_length_m, other.visit_days) == ("piers", 80.0, 5.0)

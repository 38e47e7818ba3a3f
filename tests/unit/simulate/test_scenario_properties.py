"""Property-based tests (hypothesis) of the scenario parser: a valid scenario or a one-line
refusal.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hostile_values import FEW, HUGE_INT, MANY, json_values, scalars, toml_values, valid_or_refused
from hypothesis import example, given
from hypothesis import strategies as st

from pipeline.simulate import parse_scenario

# --- the scenario parser ------------------------------------------------------------------------
SCENARIO_KEYS = ["seed", "start", "end", "revisit_days", "cloud_probability", "aoi", "a\nb"]
STEP_KEYS = ["from", "ships", "railcars", "tons"]


@st.composite
def scenario_like(draw: st.DrawFn) -> dict[str, Any]:
    """Mappings like a parsed scenario file, with plausible and hostile values."""
    dates = st.one_of(st.dates(), st.datetimes(), st.text(max_size=12), json_values)
    numbers = st.one_of(st.integers(-5, 400), st.floats(), st.just(HUGE_INT), toml_values)
    step = st.dictionaries(st.sampled_from(STEP_KEYS), st.one_of(dates, numbers), max_size=3)
    site = st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.sampled_from(["rajin-port", "tumangang-rail", "wonsan"]), scalars),
            "activity": st.one_of(st.lists(st.one_of(step, json_values), max_size=3), scalars),
        },
    )
    values = {
        "seed": numbers,
        "start": dates,
        "end": dates,
        "revisit_days": numbers,
        "cloud_probability": numbers,
        "aoi": st.one_of(st.lists(st.one_of(site, json_values), max_size=3), scalars),
        "a\nb": scalars,  # an unknown key; TOML allows any quoted key
    }
    keys = draw(st.lists(st.sampled_from(SCENARIO_KEYS[:-1]), unique=True, max_size=6))
    if draw(st.integers(0, 9)) == 0:
        keys.append("a\nb")
    return {key: draw(values[key]) for key in keys}


@FEW
@given(scenario_like())
@example({"start": date(9999, 12, 1)})  # regression: OverflowError (a year after 9999)
@example({"cloud_probability": HUGE_INT})  # regression: OverflowError (int to float)
@example({"a\nb": 1})  # regression: a two-line message
def test_scenario_parser_validates_or_refuses(doc: dict[str, Any]) -> None:
    scenario = valid_or_refused(lambda: parse_scenario(doc, where="prop.toml"))
    if scenario is None:
        return
    assert scenario.start <= scenario.end
    assert 0.0 <= scenario.cloud_probability <= 1.0
    assert scenario.revisit_days >= 1
    assert parse_scenario(scenario.to_toml()) == scenario  # what it writes, it reads back


@MANY
@given(st.text(max_size=80))
@example("seed = " + "1" * 5000)  # regression: tomllib's ValueError escaped
def test_scenario_parser_survives_any_text(text: str) -> None:
    valid_or_refused(lambda: parse_scenario(text))

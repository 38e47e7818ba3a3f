"""Property-based tests (hypothesis) of the claims parser: valid claims or a one-line refusal."""

from __future__ import annotations

from typing import Any

from hostile_values import FEW, HUGE_INT, MANY, scalars, toml_values, valid_or_refused
from hypothesis import example, given
from hypothesis import strategies as st

from pipeline.claims.parse import CLAIM_ID, parse_claims

# --- the claims parser --------------------------------------------------------------------------
VALID_CLAIM = {"quote": "q", "source": "s", "aoi": "rajin-port", "metric": "ships"}
CLAIM_KEYS = ["quote", "source", "aoi", "metric", "test", "direction", "baseline", "window"]
CLAIM_KEYS += ["min_clear_fraction", "min_n", "margin", "alpha", "presence_min", "col\nour"]


@st.composite
def claims_like(draw: st.DrawFn) -> dict[str, Any]:
    """Mappings like a parsed claims file: plausible members, hostile values."""
    texts = st.one_of(st.sampled_from(["q", "rajin-port", " "]), toml_values)
    choices = st.one_of(
        st.sampled_from(["ships", "railcar_equivalents", "presence", "rate-ratio", "increase"]),
        toml_values,
    )
    windows_ = st.one_of(st.lists(st.one_of(st.dates(), st.text(max_size=10)), max_size=3), scalars)
    numbers = st.one_of(st.floats(), st.integers(-3, 50), st.just(HUGE_INT), scalars)
    values = {
        "quote": texts,
        "source": texts,
        "aoi": texts,
        "metric": choices,
        "test": choices,
        "direction": choices,
        "baseline": windows_,
        "window": windows_,
        "col\nour": scalars,
    }
    body = {
        key: draw(values.get(key, numbers))
        for key in draw(st.lists(st.sampled_from(CLAIM_KEYS), unique=True, max_size=9))
    }
    ids = st.one_of(st.sampled_from(["port-spike", "Port Spike", "a\n", ""]), st.text(max_size=6))
    claims = draw(st.dictionaries(ids, st.one_of(st.just(body), toml_values), max_size=3))
    extra = draw(st.sampled_from([{}, {"title": "x"}]))
    return {"claims": claims, **extra} if draw(st.integers(0, 9)) else dict(extra)


@FEW
@given(claims_like())
@example({"claims": {"x": {**VALID_CLAIM, "margin": HUGE_INT}}})  # regression: OverflowError
@example({"claims": {"a\n": {}}})  # regression: a two-line message
def test_claims_parser_validates_or_refuses(doc: dict[str, Any]) -> None:
    claims = valid_or_refused(lambda: parse_claims(doc, where="prop.toml"))
    for claim in claims or ():
        assert CLAIM_ID.fullmatch(claim.id)
        assert claim.baseline[0] <= claim.baseline[1] < claim.window[0] <= claim.window[1]
        assert claim.metric in ("ships", "railcar_equivalents")


@MANY
@given(st.text(max_size=80))
@example("[claims.x]\nmin_n = " + "1" * 5000)  # regression: tomllib's ValueError escaped
def test_claims_parser_survives_any_text(text: str) -> None:
    valid_or_refused(lambda: parse_claims(text))

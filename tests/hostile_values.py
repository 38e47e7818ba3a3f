"""Shared by the property-based tests (``test_*_properties.py``): the hypothesis profiles
and hostile values, and :func:`valid_or_refused`, the contract every parser of outside input
keeps: a valid object or a one-line RasonWatchError, never a KeyError, TypeError, ValueError
or AttributeError.

The profile is deterministic (``derandomize``) so a failure reproduces run after run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pipeline.errors import RasonWatchError

T = TypeVar("T")
#: Few examples, no deadline (the AOI parser projects with pyproj), reproducible.
FEW = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
MANY = settings(max_examples=200, deadline=None, derandomize=True)


def valid_or_refused(parse: Callable[[], T]) -> T | None:
    """``parse()``'s result, or None when it refused with a RasonWatchError (nothing else)."""
    try:
        return parse()
    except RasonWatchError as exc:
        refusal = str(exc)
    assert "\n" not in refusal.strip(), f"message is not one line: {refusal}"
    return None


# --- hostile values ---------------------------------------------------------------------------
HUGE_INT = 10**400  # finite as an int, infinite as a float
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(HUGE_INT),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
#: Anything json.loads could return (and a huge integer).
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
#: Anything tomllib could return: JSON values plus dates and datetimes.
toml_values = st.recursive(
    st.one_of(scalars, st.dates(), st.datetimes()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

"""Property: whatever stripe-python's own encoder sends, the emulator decodes to the same data."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from reconciler.emulator.forms import parse_form

keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=8)
scalars = st.one_of(st.text(max_size=12), st.integers(-(10**6), 10**6))
# Booleans only as map values: stripe-python sends a boolean *array item* as "False" (unlowered),
# and no Stripe parameter we serve is an array of booleans.
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(keys, st.one_of(inner, st.booleans()), min_size=1, max_size=3),
    ),
    max_leaves=10,
)


def expected(value: Any) -> Any:
    """What the form layer should see: strings, and indexed arrays as digit-keyed maps."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return {str(index): expected(item) for index, item in enumerate(value)}
    if isinstance(value, dict):
        return {key: expected(item) for key, item in value.items()}
    return str(value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, st.one_of(values, st.booleans()), min_size=1, max_size=4))
def test_stripe_python_encoding_round_trips(data: dict[str, Any]) -> None:
    body = urlencode(list(_api_encode(data))).encode()
    assert parse_form(body) == expected(data)

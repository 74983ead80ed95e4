"""Idempotency keys: equal inputs give equal keys, any difference gives another key."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.apply.idempotency import idempotency_key
from reconciler.resources.changes import canonical_json

BASE: dict[str, Any] = {
    "account": "acct_1",
    "mode": "test",
    "stripe_account": None,
    "plan_checksum": "sha256:abc",
    "address": "webhook_endpoints.orders",
    "action": "create",
    "method": "POST",
    "path": "/v1/webhook_endpoints",
    "params": {"url": "https://example.com/hook", "enabled_events": ["invoice.paid"]},
}

VARIANTS: list[tuple[str, Any]] = [
    ("account", "acct_2"),
    ("mode", "live"),
    ("stripe_account", "acct_connected"),
    ("plan_checksum", "sha256:abd"),
    ("address", "webhook_endpoints.billing"),
    ("action", "replace"),
    ("method", "DELETE"),
    ("path", "/v1/webhook_endpoints/we_1"),
    ("params", {"url": "https://example.com/hook2", "enabled_events": ["invoice.paid"]}),
    ("params", {"url": "https://example.com/hook", "enabled_events": ["invoice.paid", "*"]}),
    ("params", {"url": "https://example.com/hook"}),
    ("params", None),
]


def test_key_shape() -> None:
    key = idempotency_key(**BASE)
    assert key.startswith("sr-")
    assert len(key) == 3 + 48
    assert all(c in "0123456789abcdef" for c in key[3:])


def test_equal_inputs_give_equal_keys_even_with_another_dict_order() -> None:
    reordered = dict(reversed(list(BASE.items())))
    reordered["params"] = {"enabled_events": ["invoice.paid"], "url": "https://example.com/hook"}
    assert idempotency_key(**reordered) == idempotency_key(**BASE)


def test_method_case_does_not_matter() -> None:
    assert idempotency_key(**{**BASE, "method": "post"}) == idempotency_key(**BASE)


@pytest.mark.parametrize(("field", "value"), VARIANTS)
def test_any_difference_changes_the_key(field: str, value: Any) -> None:
    assert idempotency_key(**{**BASE, field: value}) != idempotency_key(**BASE)


def test_all_variants_are_distinct_from_each_other() -> None:
    keys = {idempotency_key(**{**BASE, field: value}) for field, value in VARIANTS}
    assert len(keys) == len(VARIANTS)


def test_field_boundaries_cannot_be_shifted() -> None:
    # Concatenating fields naively would make these two equal.
    a = idempotency_key(**{**BASE, "account": "acct_1x", "mode": "test"})
    b = idempotency_key(**{**BASE, "account": "acct_1", "mode": "xtest"})
    assert a != b


def test_canonical_json_is_sorted_and_compact() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]}) == (
        '{"a":[1,{"c":null,"d":"é"}],"b":1}'
    )

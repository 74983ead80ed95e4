"""check_shapes: a fetched object the kinds cannot read is one named error, never a TypeError.

Table-driven over the packaged response schemas: each row is a kind, the objects Stripe
returned, and the exact message (``None``: they are readable). Messages name the field and what
it is, never its value.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import MalformedResponseError
from reconciler.resources.shape import check_shapes

ENDPOINT: dict[str, Any] = {
    "id": "we_1",
    "object": "webhook_endpoint",
    "url": "https://example.com/hooks",
    "enabled_events": ["invoice.paid"],
    "metadata": {"managed_by": "stripe-reconciler"},
    "description": None,
    "api_version": None,
    "livemode": False,
    "created": 1700000000,
    "status": "enabled",
}
REGISTRATION: dict[str, Any] = {
    "id": "taxreg_1",
    "object": "tax.registration",
    "country": "US",
    "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
    "active_from": 1700000000,
    "expires_at": None,
    "status": "active",
}
SETTINGS: dict[str, Any] = {
    "object": "tax.settings",
    "defaults": {"provider": "stripe", "tax_code": None, "tax_behavior": None},
    "head_office": {"address": {"country": "US", "state": "CA"}},
    "status": "active",
}


def endpoint(**fields: Any) -> dict[str, Any]:
    return {**ENDPOINT, **fields}


def cannot(component: str, label: str, found: str) -> str:
    return f"Stripe returned a {component} this tool cannot read ({label}): {found}"


WE = "webhook_endpoint"
CASES: list[tuple[str, str, tuple[Any, ...], str | None]] = [
    ("readable endpoints", "webhook_endpoints", (ENDPOINT, endpoint(id="we_2")), None),
    ("no objects", "webhook_endpoints", (), None),
    ("a kind without a schema", "customers", ({"id": 5},), None),
    ("fields it does not know", "webhook_endpoints", (endpoint(extra={"x": [1]}),), None),
    ("enums are not enforced", "tax_registrations", ({**REGISTRATION, "status": "new"},), None),
    ("a singleton needs no id", "tax_settings", (SETTINGS,), None),
    ("a nullable field that is null", "webhook_endpoints", (endpoint(api_version=None),), None),
    ("an anyOf that is null", "tax_settings", ({**SETTINGS, "head_office": None},), None),
    (
        "a string that is a number",
        "webhook_endpoints",
        (endpoint(url=5),),
        cannot(WE, "we_1", "webhook_endpoint.url is an integer, not string"),
    ),
    (
        "a required string that is null",
        "webhook_endpoints",
        (endpoint(url=None),),
        cannot(WE, "we_1", "webhook_endpoint.url is null"),
    ),
    (
        "an array item",
        "webhook_endpoints",
        (endpoint(enabled_events=["invoice.paid", 3]),),
        cannot(WE, "we_1", "webhook_endpoint.enabled_events[1] is an integer, not string"),
    ),
    (
        "an array that is a string",
        "webhook_endpoints",
        (endpoint(enabled_events="invoice.paid"),),
        cannot(WE, "we_1", "webhook_endpoint.enabled_events is a string, not array"),
    ),
    (
        "a map value",
        "webhook_endpoints",
        (endpoint(metadata={"owner": "bob", "tier": {"a": 1}}),),
        cannot(WE, "we_1", "webhook_endpoint.metadata.tier is an object, not string"),
    ),
    (
        "a map that is a list",
        "webhook_endpoints",
        (endpoint(metadata=["owner"]),),
        cannot(WE, "we_1", "webhook_endpoint.metadata is an array, not object"),
    ),
    (
        "a boolean that is an integer",
        "webhook_endpoints",
        (endpoint(livemode=0),),
        cannot(WE, "we_1", "webhook_endpoint.livemode is an integer, not boolean"),
    ),
    (
        "an integer that is a boolean",
        "webhook_endpoints",
        (endpoint(created=True),),
        cannot(WE, "we_1", "webhook_endpoint.created is a boolean, not integer"),
    ),
    (
        "an integer that is a float",
        "tax_registrations",
        ({**REGISTRATION, "active_from": 1.5},),
        cannot(
            "tax.registration", "taxreg_1", "tax.registration.active_from is a number, not integer"
        ),
    ),
    (
        "a field behind a $ref",
        "tax_settings",
        ({**SETTINGS, "defaults": {"provider": "stripe", "tax_code": 7}},),
        cannot(
            "tax.settings",
            "tax.settings #1",
            "tax.settings.defaults.tax_code is an integer, not string",
        ),
    ),
    (
        "a field behind $refs in an anyOf",
        "tax_settings",
        ({**SETTINGS, "head_office": {"address": {"country": ["US"]}}},),
        cannot(
            "tax.settings",
            "tax.settings #1",
            "tax.settings.head_office matches none of its allowed shapes",
        ),
    ),
    (
        "not an object",
        "webhook_endpoints",
        (ENDPOINT, ["we_2"]),
        cannot(WE, "webhook_endpoint #2", "it is not an object"),
    ),
    (
        "a listed object without an id",
        "webhook_endpoints",
        ({k: v for k, v in ENDPOINT.items() if k != "id"},),
        cannot(WE, "webhook_endpoint #1", "it has no id"),
    ),
    (
        "an empty id",
        "tax_registrations",
        (REGISTRATION, {**REGISTRATION, "id": ""}),
        cannot("tax.registration", "tax.registration #2", "it has no id"),
    ),
    (
        "an id that is not a string",
        "webhook_endpoints",
        (endpoint(id=12),),
        cannot(WE, "webhook_endpoint #1", "it has no id"),
    ),
    (
        "the first bad object is named",
        "webhook_endpoints",
        (endpoint(id="we_a", url=1), endpoint(id="we_b", livemode="no")),
        cannot(WE, "we_a", "webhook_endpoint.url is an integer, not string"),
    ),
]


@pytest.mark.parametrize(
    ("kind", "objects", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_check_shapes(kind: str, objects: tuple[Any, ...], message: str | None) -> None:
    if message is None:
        check_shapes(kind, objects)
        return
    with pytest.raises(MalformedResponseError) as refused:
        check_shapes(kind, objects)
    assert str(refused.value) == message

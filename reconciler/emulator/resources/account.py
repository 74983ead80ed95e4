"""``GET /v1/account``: the account the key (or ``Stripe-Account``) acts on.

Not part of ``openapi-subset.json``; the shape follows Stripe's account object, trimmed to what
a client needs to learn its account id.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.resources.base import Call, Route

#: The account object is not in the spec subset; it accepts only ``expand`` like any GET.
QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"expand": {"type": "array", "items": {"type": "string", "maxLength": 5000}}},
    "additionalProperties": False,
}


def retrieve_account(call: Call) -> dict[str, Any]:
    return {
        "id": call.account,
        "object": "account",
        "business_type": None,
        "charges_enabled": True,
        "country": "US",
        "default_currency": "usd",
        "details_submitted": True,
        "payouts_enabled": True,
        "type": "standard",
    }


ROUTES = (Route("get", "/v1/account", retrieve_account),)

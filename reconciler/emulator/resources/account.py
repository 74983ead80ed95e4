"""Accounts: ``GET /v1/account`` (who am I) and a platform's connected accounts,
``GET /v1/accounts`` (list) and ``POST /v1/accounts`` (create).

Neither is part of ``openapi-subset.json``; the shapes follow Stripe's account object and
stripe-python 16.1.0 (``stripe/params/_account_create_params.py``, ``_account_list_params.py``,
``Account.list``: "Returns a list of accounts connected to your platform via Connect. If you're
not a platform, the list is empty."), trimmed to what a reconciler of connected accounts needs.
The create accepts the parameters of a minimal create (``type``, or ``controller``; ``country``,
``email``, ``business_type``, ``default_currency``, ``metadata``) and refuses the rest as
unknown: a modelling limit of the emulator, not a claim about Stripe.

Which accounts ``Stripe-Account`` reaches: at Stripe, only accounts connected to the platform
whose key is used ("does not have access to account … (or that account does not exist)").
The emulator records the accounts a platform creates here as its connected accounts, and with
the ``refuse_unknown_accounts`` knob refuses any other (see :func:`check_connected`). Without it
(the default) any well-formed ``acct_`` id is treated as connected, so tests and examples can
name one without creating it first; such an account is reachable but not listed.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.errors import EmulatedError
from reconciler.emulator.resources.base import Call, Route, paginate
from reconciler.emulator.resources.webhook_endpoints import apply_metadata
from reconciler.emulator.store import Store, new_id

_STRING = {"type": "string", "maxLength": 5000}
_METADATA = {
    "anyOf": [
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "string", "enum": [""]},
    ]
}

#: The account objects are not in the spec subset; ``GET /v1/account`` accepts only ``expand``.
QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"expand": {"type": "array", "items": _STRING}},
    "additionalProperties": False,
}

_RANGE = {
    "type": "object",
    "properties": {op: {"type": "integer"} for op in ("gt", "gte", "lt", "lte")},
    "additionalProperties": False,
}
#: stripe-python's ``AccountListParams``: no filter by metadata, so a client filters itself.
LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "created": {"anyOf": [_RANGE, {"type": "integer"}]},
        "ending_before": _STRING,
        "expand": {"type": "array", "items": _STRING},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "starting_after": _STRING,
    },
    "additionalProperties": False,
}

#: The parameters of a minimal ``AccountCreateParams`` (see the module docstring).
CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "business_type": {
            "type": "string",
            "enum": ["company", "government_entity", "individual", "non_profit"],
        },
        "controller": {
            "type": "object",
            "properties": {
                "fees": {
                    "type": "object",
                    "properties": {"payer": {"type": "string", "enum": ["account", "application"]}},
                },
                "losses": {
                    "type": "object",
                    "properties": {
                        "payments": {"type": "string", "enum": ["application", "stripe"]}
                    },
                },
                "requirement_collection": {"type": "string", "enum": ["application", "stripe"]},
                "stripe_dashboard": {
                    "type": "object",
                    "properties": {"type": {"type": "string", "enum": ["express", "full", "none"]}},
                },
            },
        },
        "country": _STRING,
        "default_currency": _STRING,
        "email": _STRING,
        "expand": {"type": "array", "items": _STRING},
        "metadata": _METADATA,
        "type": {"type": "string", "enum": ["custom", "express", "standard"]},
    },
    "additionalProperties": False,
}


def _connected(call: Call) -> dict[str, dict[str, Any]]:
    return call.store.connected_accounts(call.platform_account, call.livemode)


def check_connected(store: Store, platform: str, account: str, livemode: bool) -> None:
    """Stripe's refusal of a ``Stripe-Account`` the platform may not act on (only with the
    ``refuse_unknown_accounts`` knob; the caller decides)."""
    if account == platform or account in store.connected_accounts(platform, livemode):
        return
    raise EmulatedError(
        403,
        f"The provided key does not have access to account '{account}' (or that account does "
        "not exist). Application access may have been revoked.",
        code="account_invalid",
        stored=False,
    )


def retrieve_account(call: Call) -> dict[str, Any]:
    platform = call.store.connected_accounts(call.platform_account, call.livemode)
    created = platform.get(call.account)
    if created is not None:
        return render(created)
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


def list_accounts(call: Call) -> dict[str, Any]:
    """The platform's connected accounts, newest first (none under ``Stripe-Account``: a
    connected account is not a platform)."""
    accounts = [] if call.account != call.platform_account else list(_connected(call).values())
    created = call.params.get("created")
    if isinstance(created, int):
        accounts = [a for a in accounts if a["created"] == created]
    elif isinstance(created, dict):
        tests = {
            "gt": lambda v, b: v > b,
            "gte": lambda v, b: v >= b,
            "lt": lambda v, b: v < b,
            "lte": lambda v, b: v <= b,
        }
        accounts = [
            a for a in accounts if all(tests[op](a["created"], b) for op, b in created.items())
        ]
    newest_first = sorted(accounts, key=lambda a: (a["created"], a["_seq"]), reverse=True)
    return paginate(newest_first, call.params, "/v1/accounts", "account", render)


def create_account(call: Call) -> dict[str, Any]:
    params = call.params
    accounts = _connected(call)
    controller = params.get("controller")
    account = {
        "id": new_id("acct_1", 15),
        "object": "account",
        "business_type": params.get("business_type"),
        "charges_enabled": False,
        "controller": controller,
        "country": params.get("country", "US"),
        "created": call.now,
        "default_currency": params.get("default_currency", "usd"),
        "details_submitted": False,
        "email": params.get("email"),
        "metadata": apply_metadata({}, params.get("metadata", {})),
        "payouts_enabled": False,
        # the deprecated ``type``, or "none" when the controller describes the account instead
        "type": params.get("type", "none"),
        "_seq": len(accounts),
    }
    accounts[account["id"]] = account
    return render(account)


def render(stored: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in stored.items() if key != "_seq"}


ROUTES = (
    Route("get", "/v1/account", retrieve_account),
    Route("get", "/v1/accounts", list_accounts),
    Route("post", "/v1/accounts", create_account),
)

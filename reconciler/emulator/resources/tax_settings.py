"""``/v1/tax/settings``: one object per account and mode (FACTS.md §2).

``pending`` with ``missing_fields: ["head_office"]`` until a head office is set ("It includes
the entry ``head_office`` when the status is ``pending``", stripe-python 16.1.0
``tax/_settings.py``). "All parameters are editable but none can be removed once set": the
params have no ``""`` alternative in the spec, so validation refuses ``""`` before this module
runs.

Where Stripe's docs are silent the emulator accepts:

- ``head_office`` is one ``validated_country_address`` param (its ``address`` required, every
  part of it optional), and nothing says a part the request leaves out survives from the old
  address: sending ``head_office`` replaces the whole address (an assumption, listed in README).
- No part of the address is required, so a head office without ``country`` is accepted and
  counts as set.
- ``defaults`` merges field by field (each is its own parameter).
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.resources.base import Call, Route

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def _stored(call: Call) -> dict[str, Any]:
    settings = call.namespace.get("tax_settings")
    if settings is None:
        settings = {"defaults": {"tax_behavior": None, "tax_code": None}, "head_office": None}
    return dict(settings)


def render(settings: dict[str, Any], livemode: bool) -> dict[str, Any]:
    head_office = settings["head_office"]
    active = head_office is not None
    return {
        "object": "tax.settings",
        "defaults": {"provider": "stripe", **settings["defaults"]},
        "head_office": head_office,
        "livemode": livemode,
        "status": "active" if active else "pending",
        "status_details": (
            {"active": {}} if active else {"pending": {"missing_fields": ["head_office"]}}
        ),
    }


def retrieve_settings(call: Call) -> dict[str, Any]:
    return render(_stored(call), call.livemode)


def update_settings(call: Call) -> dict[str, Any]:
    settings = _stored(call)
    defaults = dict(settings["defaults"])
    defaults.update(call.params.get("defaults", {}))
    head_office = settings["head_office"]
    if "head_office" in call.params:
        # the whole address, as sent: no part of the old one survives (see the docstring)
        address = dict.fromkeys(ADDRESS_FIELDS)
        address.update(call.params["head_office"]["address"])
        head_office = {"address": address}
    updated = {"defaults": defaults, "head_office": head_office}
    call.namespace["tax_settings"] = updated
    return render(updated, call.livemode)


ROUTES = (
    Route("get", "/v1/tax/settings", retrieve_settings),
    Route("post", "/v1/tax/settings", update_settings),
)

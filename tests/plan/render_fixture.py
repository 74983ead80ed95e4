"""A small plan with one action of each common type, shared by the renderer tests."""

from __future__ import annotations

from typing import Any

from plan_helpers import plan_of

from reconciler.plan.model import Plan

TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}

DESIRED: dict[str, Any] = {
    "version": 1,
    "webhook_endpoints": {
        "billing": {"url": "https://example.com/billing", "enabled_events": ["invoice.paid"]},
        "orders": {
            "url": "https://example.com/orders",
            "enabled_events": ["invoice.paid", "charge.refunded"],
        },
    },
    "tax_registrations": {
        "us-ca": {
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
            "expires_at": "now",
        }
    },
}

LIVE: dict[str, Any] = {
    "webhook_endpoints": [
        {
            "id": "we_orders",
            "url": "https://example.com/orders",
            "enabled_events": ["invoice.paid"],
            "status": "enabled",
            "metadata": {**TAGS, "reconciler_name": "orders"},
        },
        {
            "id": "we_gone",
            "url": "https://example.com/gone",
            "enabled_events": ["invoice.paid"],
            "status": "enabled",
            "metadata": {**TAGS, "reconciler_name": "gone"},
        },
        {
            "id": "we_hand",
            "url": "https://example.com/hand",
            "enabled_events": ["charge.failed"],
            "status": "disabled",
            "metadata": {},
        },
    ],
    "tax_registrations": [
        {
            "id": "taxreg_ca",
            "country": "US",
            "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
            "active_from": 1700000000,
            "expires_at": None,
            "status": "active",
        }
    ],
}


def small_plan() -> Plan:
    return plan_of(DESIRED, LIVE)

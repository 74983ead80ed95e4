"""One module per Stripe resource; each exports ``ROUTES`` (method, path template, handler)."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.resources import (
    account,
    event_destinations,
    tax_registrations,
    tax_settings,
    webhook_endpoints,
)
from reconciler.emulator.resources.base import Route

ROUTES: tuple[Route, ...] = (
    *account.ROUTES,
    *webhook_endpoints.ROUTES,
    *tax_settings.ROUTES,
    *tax_registrations.ROUTES,
    *event_destinations.ROUTES,
)

#: Parameter schemas for routes that ``openapi-subset.json`` does not describe, by (method,
#: path template).
SCHEMA_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/v1/account"): account.QUERY_SCHEMA,
    ("get", "/v1/accounts"): account.LIST_SCHEMA,
    ("post", "/v1/accounts"): account.CREATE_SCHEMA,
}

#: (method, template) → parameters of the v2 routes (:mod:`reconciler.emulator.v2`)
V2_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = dict(event_destinations.SCHEMAS)

"""A small fleet for the end-to-end tests: manifests, a fleet file, connected accounts made
through the emulator's ``POST /v1/accounts``, and reading the emulator's log per account."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from apply_helpers import KEY

from reconciler.emulator.server import EmulatorServer

BASE = """\
version: 1
account: {mode: test}
webhook_endpoints:
  orders:
    url: https://${SHOP_HOST:-shops.example.com}/hooks
    enabled_events: [invoice.paid, checkout.session.completed]
  refunds:
    url: https://${SHOP_HOST:-shops.example.com}/refunds
    enabled_events: [charge.refunded]
tax_settings:
  defaults: {tax_behavior: exclusive}
  head_office:
    address:
      {country: US, state: CA, city: San Francisco, line1: 510 Townsend St, postal_code: "94103"}
tax_registrations:
  us-ca: {country: US, country_options: {us: {type: state_sales_tax, state: CA}}}
  us-ny: {country: US, country_options: {us: {type: state_sales_tax, state: NY}}}
  us-wa: {country: US, country_options: {us: {type: state_sales_tax, state: WA}}}
"""

OVERLAY = """\
version: 1
webhook_endpoints:
  billing:
    url: https://billing.example.com/hooks
    enabled_events: [invoice.paid]
"""

#: Budgets far above the test key's defaults, for tests about something else than pace (the
#: emulator enforces no limit unless told to).
FAST = "rate_limits:\n  per_account: {rate: 500}\n  platform: {rate: 500, operation_rate: 500}\n"

#: The two accounts the fleet file names (the rest come from the platform's listing).
NAMED = ("acct_1Named", "acct_2Named")


def post(
    emulator: EmulatorServer, path: str, data: dict[str, str], *, account: str | None = None
) -> dict[str, Any]:
    headers = {"Stripe-Account": account} if account else {}
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        response = api.post(path, data=data, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def connect_accounts(emulator: EmulatorServer, count: int, *, on: bool = True) -> list[str]:
    """``count`` connected accounts of the test key's platform, tagged for the fleet (or not)."""
    value = "on" if on else "off"
    return [
        post(emulator, "/v1/accounts", {"type": "custom", "metadata[stripe_reconciler]": value})[
            "id"
        ]
        for _ in range(count)
    ]


def write_fleet(directory: Path, *, extra: str = "", listed: bool = True) -> Path:
    """``base/``, an overlay for the first named account and ``fleet.yaml``; returns the latter."""
    (directory / "base").mkdir(parents=True, exist_ok=True)
    (directory / "base" / "stripe.yaml").write_text(BASE, encoding="utf-8")
    overlay = directory / "overlays" / NAMED[0]
    overlay.mkdir(parents=True, exist_ok=True)
    (overlay / "billing.yaml").write_text(OVERLAY, encoding="utf-8")
    text = (
        "version: 1\nmanifests: [base/]\naccounts:\n"
        f"  - stripe_account: {NAMED[0]}\n    vars: {{SHOP_HOST: a.example.com}}\n"
        f"    manifests: [overlays/{NAMED[0]}/]\n"
        f"  - stripe_account: {NAMED[1]}\n    vars: {{SHOP_HOST: b.example.com}}\n"
    )
    if listed:
        text += "connected_accounts:\n  metadata: {stripe_reconciler: 'on'}\n"
    path = directory / "fleet.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def requests_since(emulator: EmulatorServer, start: int) -> list[dict[str, Any]]:
    return [entry for entry in emulator.requests() if entry["seq"] > start]


def last_seq(emulator: EmulatorServer) -> int:
    log = emulator.requests()
    return int(log[-1]["seq"]) if log else 0


def per_account(entries: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for entry in entries:
        found.setdefault(entry["account"], Counter())[f"{entry['method']} {entry['path']}"] += 1
    return found

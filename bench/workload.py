"""Workload W1: 16 webhook endpoints, tax settings and 150 tax registrations.

The same objects exist twice: as a manifest set (two files, as a team would split them) and as
live Stripe objects seeded through the API, i.e. POSTs to the emulator, tagged exactly as
``apply`` tags what it creates. Seeded W1 therefore plans to "No changes".

Registrations: the 50 US states (``state_sales_tax``) and one ``standard``/``simplified``
registration in each of the first 100 other countries Stripe Tax supports (read from the
packaged OpenAPI subset, so no Stripe fact is retyped here).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from reconciler.data import enabled_events
from reconciler.manifest.country_options import country_option_schemas, type_values
from reconciler.stripe import encode_form

ENDPOINTS = 16
REGISTRATIONS = 150
#: Not Stripe facts: ISO 3166-2 subdivision codes of the 50 US states.
US_STATES = (
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
)
TAX_SETTINGS: dict[str, Any] = {
    "defaults": {"tax_behavior": "exclusive", "tax_code": "txcd_10000000"},
    "head_office": {
        "address": {
            "country": "US",
            "state": "CA",
            "city": "San Francisco",
            "line1": "510 Townsend St",
            "postal_code": "94103",
        }
    },
}
_TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    enabled_events: tuple[str, ...]
    description: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class Registration:
    name: str
    country: str
    country_options: dict[str, dict[str, Any]]


def endpoints(count: int = ENDPOINTS) -> list[Endpoint]:
    events = sorted(e for e in enabled_events() if e != "*")
    return [
        Endpoint(
            name=f"service-{i:02d}",
            url=f"https://hooks{i % 4}.example.com/stripe/{i}",
            # a different, overlapping slice of real event names per endpoint
            enabled_events=tuple(events[(7 * i) % (len(events) - 5) :][: 2 + i % 4]),
            description=f"Service {i} events",
            metadata={"team": f"team-{i % 3}"},
        )
        for i in range(count)
    ]


def registrations(count: int = REGISTRATIONS) -> list[Registration]:
    found = [
        Registration(
            name=f"us-{state.lower()}-sales",
            country="US",
            country_options={"us": {"type": "state_sales_tax", "state": state}},
        )
        for state in US_STATES
    ]
    for code in sorted(country_option_schemas()):
        if code == "us" or len(found) >= count:
            continue
        kinds = type_values(code)
        kind = "standard" if "standard" in kinds else kinds[0]
        found.append(
            Registration(
                name=f"{code}-{kind}", country=code.upper(), country_options={code: {"type": kind}}
            )
        )
    if len(found) < count:
        raise ValueError(f"only {len(found)} distinct registrations available, {count} wanted")
    return found[:count]


def manifest_documents(
    endpoint_list: list[Endpoint], registration_list: list[Registration]
) -> dict[str, dict[str, Any]]:
    """File name → manifest document (a set of two files that merge into one desired state)."""
    hooks = {
        "version": 1,
        "account": {"mode": "test"},
        "policy": {"unmanaged": "report"},
        "webhook_endpoints": {
            e.name: {
                "url": e.url,
                "enabled_events": list(e.enabled_events),
                "description": e.description,
                "metadata": dict(e.metadata),
            }
            for e in endpoint_list
        },
    }
    tax = {
        "version": 1,
        "tax_settings": TAX_SETTINGS,
        "tax_registrations": {
            r.name: {
                "country": r.country,
                "country_options": r.country_options,
                "active_from": "now",
            }
            for r in registration_list
        },
    }
    return {"webhook_endpoints.yaml": hooks, "tax.yaml": tax}


def write_manifests(
    directory: Path,
    endpoint_list: list[Endpoint] | None = None,
    registration_list: list[Registration] | None = None,
) -> Path:
    """Write W1 (or the given subset) as a manifest directory and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    documents = manifest_documents(
        endpoints() if endpoint_list is None else endpoint_list,
        registrations() if registration_list is None else registration_list,
    )
    for name, document in documents.items():
        (directory / name).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return directory


def seed(base_url: str, api_key: str) -> int:
    """Create W1 in the emulator through the API, as ``apply`` would have; return the POSTs."""
    posts = 0
    with httpx.Client(base_url=base_url, auth=(api_key, ""), timeout=30.0) as http:

        def post(path: str, params: dict[str, Any]) -> dict[str, Any]:
            nonlocal posts
            posts += 1
            response = http.post(
                path,
                content=encode_form(params).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        post("/v1/tax/settings", TAX_SETTINGS)
        for e in endpoints():
            post(
                "/v1/webhook_endpoints",
                {
                    "url": e.url,
                    "enabled_events": list(e.enabled_events),
                    "description": e.description,
                    "connect": False,
                    "metadata": {**e.metadata, **_TAGS, "reconciler_name": e.name},
                },
            )
        for r in registrations():
            post(
                "/v1/tax/registrations",
                {"country": r.country, "country_options": r.country_options, "active_from": "now"},
            )
    return posts


def plan_command(manifests: Path) -> list[str]:
    """The real console script (the venv's), as a user or CI job would run it."""
    return [str(Path(sys.executable).with_name("stripe-reconciler")), "plan", str(manifests)]


def cli_env(base_url: str, api_key: str) -> dict[str, str]:
    """The environment of a CLI run: our key and base, no other STRIPE_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE")}
    env.update({"STRIPE_API_KEY": api_key, "STRIPE_API_BASE": base_url, "NO_COLOR": "1"})
    return env

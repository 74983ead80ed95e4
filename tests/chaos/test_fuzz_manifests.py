"""Hypothesis-made manifests through the real ``plan`` command: any mix of valid and invalid
names, URLs, events, metadata, windows, countries and policies ends in a plan (exit 0) or a
located error (exit 1), never a traceback. The account is served by a MockTransport (empty
account, or one holding tagged and untagged objects) so planning runs on every valid manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler import api
from reconciler.cli.main import cli
from reconciler.data import enabled_events
from reconciler.stripe import StripeClient

KEY = "sk_test_" + "m" * 16
EVENTS = sorted(enabled_events())

LIVE_ENDPOINT = {
    "id": "we_1",
    "object": "webhook_endpoint",
    "url": "https://a.example.com/x",
    "enabled_events": ["invoice.paid"],
    "description": None,
    "metadata": {"managed_by": "stripe-reconciler", "reconciler_name": "a"},
    "status": "enabled",
    "api_version": None,
    "created": 1,
    "livemode": False,
}
LIVE_REGISTRATION = {
    "id": "taxreg_1",
    "object": "tax.registration",
    "country": "US",
    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
    "active_from": 1,
    "expires_at": None,
    "status": "active",
    "created": 1,
    "livemode": False,
}
SETTINGS = {
    "object": "tax.settings",
    "defaults": {"tax_behavior": None, "tax_code": None, "provider": "stripe"},
    "head_office": None,
    "status": "pending",
    "status_details": {"pending": {"missing_fields": ["head_office"]}},
    "livemode": False,
}

names = st.text(
    "abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=12
) | st.sampled_from(["a", "orders", "UPPER", "with space", "", "x" * 70])
urls = st.sampled_from(
    [
        "https://a.example.com/x",
        "https://b.example.com/y",
        "http://localhost:3000/hooks",
        "http://example.com/insecure",
        "ftp://example.com",
        "not a url",
        "https://",
        "https://${HOST}/x",
        "https://${UNSET_VARIABLE_FOR_FUZZ}/x",
        "https://deploy:hunter2@a.example.com/x",
        "https://a.example.com:99999/x",
        "https://a.example.com/a b",
        "https://${NEWLINE_HOST}/x",
    ]
)
events = st.lists(
    st.sampled_from(EVENTS) | st.sampled_from(["invoice.payed", "*", "", "charge"]),
    max_size=4,
)
scalars = st.none() | st.booleans() | st.integers(-5, 10**10) | st.text(max_size=6)
metadata = st.dictionaries(st.text(max_size=42), scalars, max_size=3) | scalars
timestamps = st.sampled_from(
    ["now", 1_700_000_000, 4_000_000_000, "2027-12-31T00:00:00Z", "soon", -1, 253402300800]
)
countries = st.sampled_from(["US", "GB", "DE", "CA", "us", "XX", "FR"])
options = st.fixed_dictionaries(
    {"type": st.sampled_from(["state_sales_tax", "standard", "simplified", "oss_union", "bogus"])},
    optional={"state": st.sampled_from(["CA", "NY", "ZZ", 5])},
)

endpoint = st.fixed_dictionaries(
    {"url": urls, "enabled_events": events},
    optional={
        "description": st.text(max_size=8) | st.none(),
        "disabled": st.booleans() | st.sampled_from(["yes", "true", 1, "Off"]),
        "api_version": st.sampled_from(["2026-08-26.dahlia", "2026-09-30.endive", "1999-01-01"]),
        "connect": st.booleans() | st.just("false"),
        "metadata": metadata,
        "lifecycle": st.fixed_dictionaries(
            {},
            optional={
                "protect": st.booleans() | st.just("yes"),
                "ignore_changes": st.lists(
                    st.sampled_from(["description", "metadata.team", "nope"])
                ),
            },
        ),
        "colour": st.just("blue"),
    },
)
registration = st.builds(
    lambda country, opts, window: {
        "country": country,
        "country_options": {country.lower(): opts},
        **window,
    },
    countries,
    options,
    st.fixed_dictionaries({}, optional={"active_from": timestamps, "expires_at": timestamps}),
)
manifests = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2, "1"])},
    optional={
        "account": st.fixed_dictionaries(
            {"mode": st.sampled_from(["test", "test", "live", "staging"])},
            optional={"id": st.sampled_from(["acct_1", "acct_2", "bogus"])},
        ),
        "policy": st.fixed_dictionaries(
            {},
            optional={
                "unmanaged": st.sampled_from(["report", "ignore", "delete", "explode"]),
                "max_destroy": st.integers(-1, 5) | st.just("3"),
            },
        ),
        "webhook_endpoints": st.dictionaries(names, endpoint, max_size=3),
        "tax_settings": st.fixed_dictionaries(
            {},
            optional={
                "defaults": st.fixed_dictionaries(
                    {},
                    optional={"tax_behavior": st.sampled_from(["exclusive", "inclusive", "x"])},
                ),
                "head_office": st.fixed_dictionaries(
                    {"address": st.fixed_dictionaries({"country": countries})}
                ),
            },
        ),
        "tax_registrations": st.dictionaries(names, registration, max_size=3),
    },
)


def _must_be_refused(document: dict[str, Any]) -> str | None:
    """Inputs validate must refuse (issue 13), whatever else the manifest holds: a plan made of
    them never converges, misreads the user, leaks a password or crashes later."""
    policy = document.get("policy") or {}
    if "max_destroy" in policy and not isinstance(policy["max_destroy"], int):
        return "a quoted max_destroy"
    for endpoint in (document.get("webhook_endpoints") or {}).values():
        flags = [endpoint.get(k) for k in ("disabled", "connect")]
        flags.append((endpoint.get("lifecycle") or {}).get("protect"))
        if any(flag is not None and not isinstance(flag, bool) for flag in flags):
            return "a boolean that is not true/false"
        if isinstance(endpoint.get("metadata"), dict) and "" in endpoint["metadata"].values():
            return "an empty metadata value"
        if any(bad in endpoint["url"] for bad in ("hunter2@", ":99999", " ", "NEWLINE")):
            return f"the URL {endpoint['url']!r}"
    for registration in (document.get("tax_registrations") or {}).values():
        if 253402300800 in (registration.get("active_from"), registration.get("expires_at")):
            return "a timestamp after year 9999"
    return None


def _transport(populated: bool) -> httpx.MockTransport:
    def page(path: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [item] if populated else [],
            "has_more": False,
            "url": path,
        }

    bodies = {
        "/v1/webhook_endpoints": page("/v1/webhook_endpoints", LIVE_ENDPOINT),
        "/v1/tax/registrations": page("/v1/tax/registrations", LIVE_REGISTRATION),
        "/v1/tax/settings": SETTINGS,
        "/v1/account": {"id": "acct_1", "object": "account"},
        "/v2/core/event_destinations": {"data": [], "next_page_url": None},
    }

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(bodies[request.url.path]).encode())

    return httpx.MockTransport(handle)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("manifests")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=manifests, populated=st.booleans())
def test_any_manifest_plans_or_fails_with_a_located_message(
    workdir: Path, document: dict[str, Any], populated: bool
) -> None:
    path = workdir / "stripe.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    transport = _transport(populated)

    class MockedClient(StripeClient):
        def __init__(self, config: Any, transport_: Any = None, **kw: Any) -> None:
            super().__init__(config, transport)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(api, "StripeClient", MockedClient)  # every command's way to Stripe
        env = {
            "STRIPE_API_KEY": KEY,
            "NO_COLOR": "1",
            "HOST": "h.example.com",
            "NEWLINE_HOST": "h.example.com\n",
        }
        result = CliRunner().invoke(cli, ["plan", str(path)], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1), result.output
    refusal = _must_be_refused(document)
    if result.exit_code == 0:
        assert refusal is None, f"planned a manifest with {refusal}"
        assert result.stdout.strip().splitlines()[-1].startswith(("Plan: ", "No changes."))
        assert "hunter2" not in result.output
    else:
        assert result.stderr.strip(), "exit 1 without a message"
        assert str(path) in result.stderr or result.stderr.startswith("Error: ")

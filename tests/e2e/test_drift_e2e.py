"""`drift` end to end: the real CLI against the emulator over a socket, with a real alert receiver.

The account is seeded and then changed through the Stripe API with the official SDK, the way a
Dashboard user (or Stripe itself) would change it; the manifests describe the seeded state.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe
from click.testing import CliRunner, Result

from reconciler import api
from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer
from reconciler.stripe import StripeConfig

KEY = "sk_test_" + "drift" + "d" * 8
ORDERS_URL = "https://shop.example.com/stripe/orders"
BILLING_URL = "https://shop.example.com/stripe/billing"
TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}

MANIFEST = f"""\
version: 1
account: {{mode: test}}
tax_settings:
  defaults: {{tax_behavior: exclusive}}
  head_office:
    address:
      {{country: US, state: CA, city: San Francisco, line1: 510 Townsend St, postal_code: "94103"}}
webhook_endpoints:
  orders:
    url: {ORDERS_URL}
    enabled_events: [checkout.session.completed, invoice.paid]
    metadata: {{team: payments}}
  billing:
    url: {BILLING_URL}
    enabled_events: [invoice.payment_failed]
tax_registrations:
  us-ca:
    country: US
    country_options: {{us: {{type: state_sales_tax, state: CA}}}}
    active_from: now
"""


class Receiver:
    """A tiny alert receiver on 127.0.0.1 (ephemeral port) that records every POST body."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(self.rfile.read(length))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@dataclasses.dataclass
class Account:
    """The seeded account: SDK client, ids, every signing secret Stripe handed out."""

    sdk: stripe.StripeClient
    emulator: EmulatorServer
    manifest: Path
    ids: dict[str, str]
    secrets: list[str]

    def create_endpoint(self, url: str, events: list[Any], metadata: dict[str, str]) -> str:
        endpoint = self.sdk.v1.webhook_endpoints.create(
            {"url": url, "enabled_events": events, "metadata": metadata}
        )
        self.secrets.append(str(endpoint.secret))
        return str(endpoint.id)


@pytest.fixture
def account(emulator: EmulatorServer, tmp_path: Path) -> Account:
    sdk = stripe.StripeClient(KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0)
    seeded = Account(sdk, emulator, tmp_path / "stripe.yaml", {}, [])
    sdk.v1.tax.settings.update(
        {
            "defaults": {"tax_behavior": "exclusive"},
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
    )
    seeded.ids["orders"] = seeded.create_endpoint(
        ORDERS_URL,
        ["checkout.session.completed", "invoice.paid"],
        {**TAGS, "reconciler_name": "orders", "team": "payments"},
    )
    seeded.ids["billing"] = seeded.create_endpoint(
        BILLING_URL, ["invoice.payment_failed"], {**TAGS, "reconciler_name": "billing"}
    )
    registration = sdk.v1.tax.registrations.create(
        {
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
            "active_from": "now",
        }
    )
    seeded.ids["us-ca"] = str(registration.id)
    seeded.manifest.write_text(MANIFEST)
    return seeded


def run_drift(account: Account, *args: str, env: dict[str, str | None] | None = None) -> Result:
    runner = CliRunner(
        env={
            "STRIPE_API_KEY": KEY,
            "STRIPE_API_BASE": account.emulator.base_url,
            "STRIPE_ACCOUNT": None,
            "STRIPE_RECONCILER_ALERT_URL": None,
            "GITHUB_STEP_SUMMARY": None,
            "NO_COLOR": "1",
            **(env or {}),
        }
    )
    return runner.invoke(cli, ["drift", str(account.manifest), *args])


def test_in_sync_exits_0_and_sends_no_alert(account: Account, receiver: Receiver) -> None:
    result = run_drift(account, "--alert-url", receiver.url)
    assert result.exit_code == 0, result.output
    assert result.stdout == "No drift: 4 resources in sync.\n"
    assert receiver.bodies == []


def _change_url(a: Account) -> None:
    a.sdk.v1.webhook_endpoints.update(a.ids["orders"], {"url": "https://evil.example.com/x"})


def _change_events(a: Account) -> None:
    a.sdk.v1.webhook_endpoints.update(a.ids["orders"], {"enabled_events": ["invoice.paid"]})


def _change_metadata(a: Account) -> None:
    a.sdk.v1.webhook_endpoints.update(a.ids["orders"], {"metadata": {"team": "growth"}})


def _disable(a: Account) -> None:
    a.sdk.v1.webhook_endpoints.update(a.ids["billing"], {"disabled": True})


def _delete(a: Account) -> None:
    a.sdk.v1.webhook_endpoints.delete(a.ids["billing"])


def _add_unmanaged(a: Account) -> None:
    a.ids["stranger"] = a.create_endpoint("https://stranger.example.com/h", ["charge.failed"], {})


def _change_tax_settings(a: Account) -> None:
    a.sdk.v1.tax.settings.update({"defaults": {"tax_behavior": "inclusive"}})


def _expire_registration(a: Account) -> None:
    a.emulator.advance_clock(1)  # Stripe wants expires_at later than active_from
    a.sdk.v1.tax.registrations.update(a.ids["us-ca"], {"expires_at": "now"})


CASES: list[tuple[str, Callable[[Account], None], list[str]]] = [
    (
        "changed url",
        _change_url,
        [
            "~ webhook_endpoints.orders ({orders}): changed",
            'url: declared "https://shop.example.com/stripe/orders", '
            'live "https://evil.example.com/x"',
        ],
    ),
    (
        "changed events",
        _change_events,
        [
            "~ webhook_endpoints.orders ({orders}): changed",
            'enabled_events: live lacks "checkout.session.completed"',
        ],
    ),
    (
        "changed metadata",
        _change_metadata,
        [
            "~ webhook_endpoints.orders ({orders}): changed",
            'metadata.team: declared "payments", live "growth"',
        ],
    ),
    (
        "endpoint disabled",
        _disable,
        [
            "! webhook_endpoints.billing ({billing}): disabled — the endpoint is disabled",
            "disabled: declared false, live true",
        ],
    ),
    (
        "endpoint deleted",
        _delete,
        ["- webhook_endpoints.billing: missing — declared, but no endpoint is tagged"],
    ),
    (
        "new unmanaged endpoint",
        _add_unmanaged,
        [
            "? webhook_endpoints[{stranger}]: unmanaged — not declared: "
            "https://stranger.example.com/h (enabled)"
        ],
    ),
    (
        "tax settings changed",
        _change_tax_settings,
        [
            "~ tax_settings: changed",
            'defaults.tax_behavior: declared "exclusive", live "inclusive"',
        ],
    ),
    (
        "registration expired",
        _expire_registration,
        [
            "- tax_registrations.us-ca: missing — declared US/state_sales_tax/CA has no active or "
            "scheduled registration: {us-ca} expired at "
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_dashboard_change_is_drift_with_one_alert(
    account: Account,
    receiver: Receiver,
    change: Callable[[Account], None],
    expected: list[str],
) -> None:
    change(account)
    mark = len(account.emulator.requests())
    result = run_drift(account, "--alert-url", receiver.url)
    assert result.exit_code == 2, result.output
    for line in expected:
        assert line.format(**account.ids) in result.stdout, result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("Drift: 1 ")
    assert "Drift alert sent." in result.stderr
    # read-only: the run sent GETs and nothing else
    sent = account.emulator.requests()[mark:]
    assert sent and {entry["method"].upper() for entry in sent} == {"GET"}
    # exactly one alert, carrying the drift, and nothing secret
    assert len(receiver.bodies) == 1
    (payload,) = receiver.payloads()
    assert payload["text"].startswith(":warning: *Stripe drift*")
    assert len(payload["drift"]) == 1
    for secret in (KEY, *account.secrets):
        assert secret.encode() not in receiver.bodies[0]
    assert b"whsec_" not in receiver.bodies[0] and b"sk_test_" not in receiver.bodies[0]


def test_policy_ignore_hides_unmanaged_objects(account: Account, receiver: Receiver) -> None:
    _add_unmanaged(account)
    account.manifest.write_text(
        MANIFEST.replace("version: 1\n", "version: 1\npolicy: {unmanaged: ignore}\n")
    )
    result = run_drift(account, "--alert-url", receiver.url)
    assert result.exit_code == 0, result.output
    assert receiver.bodies == []


def test_json_format_is_the_documented_document(account: Account) -> None:
    _change_url(account)
    result = run_drift(account, "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["format_version"] == 1
    assert document["in_sync"] is False
    assert document["account"]["mode"] == "test"
    assert document["account"]["id"].startswith("acct_")
    assert document["tax_settings_status"] == "active"
    assert document["summary"] == {
        "resources_checked": 4,
        "drifted": 1,
        "by_drift": {"changed": 1},
    }
    (item,) = document["drift"]
    assert item["address"] == "webhook_endpoints.orders"
    assert item["id"] == account.ids["orders"]
    assert item["changes"] == [
        {"path": "url", "declared": ORDERS_URL, "live": "https://evil.example.com/x"}
    ]


def test_github_format_annotates_and_appends_the_job_summary(
    account: Account, tmp_path: Path
) -> None:
    _delete(account)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = run_drift(account, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith(
        f"::warning file={account.manifest},line=13,col=3,"
        "title=Stripe drift%3A webhook_endpoints.billing (missing)::declared, but"
    )
    text = summary.read_text()
    assert text.startswith("earlier step\n### Stripe drift — acct_")
    assert "| `webhook_endpoints.billing` | missing |" in text


def test_github_format_points_at_the_manifest_line_of_each_declared_resource(
    account: Account,
) -> None:
    _change_url(account)
    _add_unmanaged(account)
    result = run_drift(account, "--format", "github")
    assert result.exit_code == 2
    heads = [line.split("::")[1] for line in result.stdout.splitlines()[:-1]]
    # `orders:` is written at line 9, column 3 of MANIFEST; the stranger is declared nowhere
    assert heads == [
        f"warning file={account.manifest},line=9,col=3,"
        "title=Stripe drift%3A webhook_endpoints.orders (changed)",
        f"warning title=Stripe drift%3A webhook_endpoints[{account.ids['stranger']}] (unmanaged)",
    ]


def test_authentication_error_is_an_error_never_in_sync(
    account: Account, receiver: Receiver
) -> None:
    # a well-formed key the emulator (like Stripe) does not know answers 401
    result = run_drift(
        account, "--alert-url", receiver.url, env={"STRIPE_API_KEY": "sk_test_revoked_key1"}
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Error: Invalid API Key provided" in result.stderr
    assert "sk_test_revoked_key1" not in result.output
    assert "Traceback" not in result.output
    assert receiver.bodies == []


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry policy, with waits short enough for a test."""

    original = api.Account.config

    def quick(self: api.Account, *args: Any, **kwargs: Any) -> StripeConfig:
        config = original(self, *args, **kwargs)
        return dataclasses.replace(config, backoff_initial=0.01, backoff_max=0.02)

    monkeypatch.setattr(api.Account, "config", quick)


@pytest.mark.usefixtures("quick_retries")
def test_network_error_is_an_error_never_in_sync(account: Account, receiver: Receiver) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = run_drift(account, "--alert-url", receiver.url, env={"STRIPE_API_BASE": closed})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Could not complete GET ")
    assert "Traceback" not in result.output
    assert receiver.bodies == []


@pytest.mark.usefixtures("quick_retries")
def test_persistent_server_errors_are_an_error_never_in_sync(
    account: Account, receiver: Receiver
) -> None:
    account.emulator.configure(rates={"500": 1.0})
    result = run_drift(account, "--alert-url", receiver.url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "HTTP 500" in result.stderr
    assert receiver.bodies == []


@pytest.mark.usefixtures("quick_retries")
def test_transient_faults_are_retried_and_the_answer_is_right(account: Account) -> None:
    _change_metadata(account)
    faults = [(1, "429"), (2, "503"), (3, "429"), (4, "drop_before"), (6, "429")]
    account.emulator.configure(schedule=[{"request": n, "fault": f} for n, f in faults])
    mark = len(account.emulator.requests())
    result = run_drift(account)
    assert result.exit_code == 2, result.output
    assert result.stdout.endswith("Drift: 1 changed.\n")
    statuses = [entry["status"] for entry in account.emulator.requests()[mark:]]
    assert statuses.count(429) == 3 and statuses.count(503) == 1


def test_undeliverable_alert_prints_the_report_and_exits_1(
    account: Account, receiver: Receiver
) -> None:
    receiver.status = 403  # not retryable
    _change_metadata(account)
    result = run_drift(account, "--alert-url", receiver.url)
    assert result.exit_code == 1
    assert "~ webhook_endpoints.orders" in result.stdout
    assert result.stderr.strip().endswith(
        "Error: could not deliver the drift alert to "
        f"http://127.0.0.1:{receiver.server.server_address[1]}/…: HTTP 403 (after 1 attempt)."
    )
    assert len(receiver.bodies) == 1


def test_bad_alert_url_fails_before_reading_stripe(account: Account) -> None:
    mark = len(account.emulator.requests())
    result = run_drift(account, "--alert-url", "http://hooks.example.com/x")
    assert result.exit_code == 1
    assert "must use https://" in result.stderr
    assert account.emulator.requests()[mark:] == []


def test_tax_settings_still_pending_is_drift(emulator: EmulatorServer, tmp_path: Path) -> None:
    key = "sk_test_" + "pending" + "p" * 6
    sdk = stripe.StripeClient(key, base_addresses={"api": emulator.base_url}, max_network_retries=0)
    sdk.v1.tax.settings.update({"defaults": {"tax_behavior": "exclusive"}})
    manifest = tmp_path / "tax.yaml"
    manifest.write_text("version: 1\ntax_settings:\n  defaults: {tax_behavior: exclusive}\n")
    runner = CliRunner(
        env={"STRIPE_API_KEY": key, "STRIPE_API_BASE": emulator.base_url, "NO_COLOR": "1"}
    )
    result = runner.invoke(cli, ["drift", str(manifest), "--format", "json"])
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert document["tax_settings_status"] == "pending"
    assert [(d["address"], d["drift"], d["message"]) for d in document["drift"]] == [
        (
            "tax_settings",
            "pending",
            "tax settings status: pending (missing fields: head_office); Stripe Tax calculates "
            "no tax until they are set: declare tax_settings.head_office.address (apply sets it "
            "before any registration) or set it in the Dashboard (Settings → Tax)",
        )
    ]


def test_console_process_exit_codes(account: Account) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "GITHUB_"))},
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": account.emulator.base_url,
    }
    command = [sys.executable, "-m", "reconciler", "--no-color", "drift", str(account.manifest)]
    in_sync = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert (in_sync.returncode, in_sync.stdout) == (0, "No drift: 4 resources in sync.\n")
    _disable(account)
    drifted = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert drifted.returncode == 2
    assert drifted.stdout.endswith("Drift: 1 disabled.\n")
    assert drifted.stderr == ""


def test_connected_account_is_checked_through_stripe_account(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    key = "sk_test_" + "platform" + "c" * 6
    sdk = stripe.StripeClient(key, base_addresses={"api": emulator.base_url}, max_network_retries=0)
    sdk.v1.webhook_endpoints.create(  # on the platform: not the connected account's business
        {"url": "https://platform.example.com/h", "enabled_events": ["invoice.paid"]}
    )
    sdk.v1.webhook_endpoints.create(
        {
            "url": ORDERS_URL,
            "enabled_events": ["invoice.paid"],
            "metadata": {**TAGS, "reconciler_name": "orders"},
        },
        {"stripe_account": "acct_conn1"},
    )
    manifest = tmp_path / "conn.yaml"
    manifest.write_text(
        "version: 1\naccount: {stripe_account: acct_conn1}\nwebhook_endpoints:\n"
        f"  orders: {{url: {ORDERS_URL}, enabled_events: [invoice.paid]}}\n"
    )
    runner = CliRunner(
        env={
            "STRIPE_API_KEY": key,
            "STRIPE_API_BASE": emulator.base_url,
            "STRIPE_ACCOUNT": None,
            "NO_COLOR": "1",
        }
    )
    result = runner.invoke(cli, ["drift", str(manifest), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["account"] == {
        "id": "acct_conn1",
        "mode": "test",
        "stripe_account": "acct_conn1",
    }
    assert document["in_sync"] is True

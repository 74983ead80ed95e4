"""End-to-end: the real ``stripe-reconciler plan`` process against the emulator over a socket,
with the account seeded through the Stripe API the way an earlier apply would have left it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.server import EmulatorServer

KEY = "sk_test_" + "p" * 16
LIVE_KEY = "sk_live_" + "p" * 16

MANIFEST = """\
version: 1
policy: {unmanaged: report}
webhook_endpoints:
  orders:
    url: https://example.com/orders
    enabled_events: [invoice.paid, checkout.session.completed]
    description: Orders
    metadata: {team: payments}
  billing:
    url: https://example.com/billing
    enabled_events: ["invoice.paid"]
tax_settings:
  defaults: {tax_behavior: exclusive}
  head_office:
    address:
      {country: US, state: CA, city: San Francisco, line1: 510 Townsend St, postal_code: "94103"}
tax_registrations:
  us-ca:
    country: US
    country_options: {us: {type: state_sales_tax, state: CA}}
"""


def _tags(name: str) -> dict[str, str]:
    return {
        "metadata[managed_by]": "stripe-reconciler",
        "metadata[reconciler_name]": name,
        "metadata[reconciler_connect]": "false",
    }


def seed(emulator: EmulatorServer, *, extra_registrations: int = 0) -> dict[str, str]:
    """Create exactly what MANIFEST declares, through the API. Returns name → live id."""
    ids: dict[str, str] = {}
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:

        def post(path: str, data: Any) -> dict[str, Any]:
            response = api.post(path, data=data)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        post(
            "/v1/tax/settings",
            {
                "defaults[tax_behavior]": "exclusive",
                "head_office[address][country]": "US",
                "head_office[address][state]": "CA",
                "head_office[address][city]": "San Francisco",
                "head_office[address][line1]": "510 Townsend St",
                "head_office[address][postal_code]": "94103",
            },
        )
        ids["orders"] = post(
            "/v1/webhook_endpoints",
            {
                "url": "https://example.com/orders",
                "enabled_events[]": ["checkout.session.completed", "invoice.paid"],
                "description": "Orders",
                "metadata[team]": "payments",
                **_tags("orders"),
            },
        )["id"]
        ids["billing"] = post(
            "/v1/webhook_endpoints",
            {
                "url": "https://example.com/billing",
                "enabled_events[]": "invoice.paid",
                **_tags("billing"),
            },
        )["id"]
        registration = {
            "country": "US",
            "country_options[us][type]": "state_sales_tax",
            "country_options[us][state]": "CA",
            "active_from": "now",
        }
        for _ in range(extra_registrations):
            # expired history: listed with status=all but never a candidate
            old = post("/v1/tax/registrations", registration)
            emulator.advance_clock(1)  # expires_at must be later than active_from
            post(f"/v1/tax/registrations/{old['id']}", {"expires_at": "now"})
        ids["us-ca"] = post("/v1/tax/registrations", registration)["id"]
    return ids


def run_plan(
    emulator: EmulatorServer, *args: str, key: str = KEY, stripe_account: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STRIPE_API_KEY": key,
        "STRIPE_API_BASE": emulator.base_url,
        "NO_COLOR": "1",
    }
    env.pop("STRIPE_ACCOUNT", None)
    if stripe_account:
        env["STRIPE_ACCOUNT"] = stripe_account
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def plan_requests(emulator: EmulatorServer, since: int) -> list[str]:
    return sorted(f"{r['method']} {r['path']}" for r in emulator.requests()[since:])


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "stripe.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


def test_seeded_to_the_manifest_means_no_changes(emulator: EmulatorServer, manifest: Path) -> None:
    seed(emulator)
    before = len(emulator.requests())
    result = run_plan(emulator, str(manifest), "--detailed-exitcode")
    assert result.stderr == ""
    assert result.stdout == "No changes.\n"
    assert result.returncode == 0
    # 1 settings read + ⌈2/100⌉ endpoint pages + ⌈1/100⌉ registration pages + one (empty)
    # page of event destinations, nothing else
    assert plan_requests(emulator, before) == [
        "GET /v1/tax/registrations",
        "GET /v1/tax/settings",
        "GET /v1/webhook_endpoints",
        "GET /v2/core/event_destinations",
    ]


def test_one_changed_field_exits_2_and_shows_only_that_field(
    emulator: EmulatorServer, manifest: Path
) -> None:
    ids = seed(emulator)
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        response = api.post(
            f"/v1/webhook_endpoints/{ids['orders']}", data={"description": "Edited"}
        )
        assert response.status_code == 200
    result = run_plan(emulator, str(manifest), "--detailed-exitcode")
    assert result.returncode == 2, result.stderr
    assert result.stdout == (
        f"  ~ webhook_endpoints.orders: update ({ids['orders']})\n"
        "      # fields differ\n"
        '      description: "Edited" → "Orders"\n'
        "\n"
        "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire.\n"
    )


def test_request_count_with_pages_and_plan_file(
    emulator: EmulatorServer, manifest: Path, tmp_path: Path
) -> None:
    seed(emulator, extra_registrations=120)  # 121 registrations → 2 pages
    out = tmp_path / "plan.json"
    before = len(emulator.requests())
    result = run_plan(emulator, str(manifest), "--out", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr
    # +1 account lookup because a plan file records the account id
    assert plan_requests(emulator, before) == [
        "GET /v1/account",
        "GET /v1/tax/registrations",
        "GET /v1/tax/registrations",
        "GET /v1/tax/settings",
        "GET /v1/webhook_endpoints",
        "GET /v2/core/event_destinations",
    ]
    document = json.loads(result.stdout)
    assert document["format_version"] == 1
    assert document["summary_line"] == "No changes."
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["account"]["id"].startswith("acct_")
    assert saved["account"]["mode"] == "test"
    assert saved["checksum"] and saved["plan_checksum"] == document["checksum"]
    for text in (result.stdout, result.stderr, out.read_text(encoding="utf-8")):
        assert KEY not in text
        assert "whsec_" not in text


def test_plans_are_byte_identical_and_markdown_renders(
    emulator: EmulatorServer, manifest: Path
) -> None:
    seed(emulator)
    manifest.write_text(MANIFEST.replace("[invoice.paid, ", "[invoice.paid, charge.failed, "))
    first = run_plan(emulator, str(manifest), "--format", "json")
    second = run_plan(emulator, str(manifest), "--format", "json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    markdown = run_plan(emulator, str(manifest), "--format", "markdown")
    assert "**Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire.**" in (
        markdown.stdout
    )
    assert "<code>webhook_endpoints.orders</code>" in markdown.stdout


def test_live_key_without_live_mode_is_refused(emulator: EmulatorServer, manifest: Path) -> None:
    result = run_plan(emulator, str(manifest), key=LIVE_KEY)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Refusing to use a live-mode key")
    assert "Traceback" not in result.stderr
    assert LIVE_KEY not in result.stderr
    assert emulator.requests() == []


def test_pinned_account_mismatch_is_refused(
    emulator: EmulatorServer, manifest: Path, tmp_path: Path
) -> None:
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(MANIFEST.replace("version: 1\n", "version: 1\naccount: {id: acct_Other1}\n"))
    result = run_plan(emulator, str(pinned))
    assert result.returncode == 1
    assert "but the manifests pin account.id acct_Other1" in result.stderr
    assert [f"{r['method']} {r['path']}" for r in emulator.requests()] == ["GET /v1/account"]


def test_max_destroy_refusal_shows_the_plan_then_names_the_override(
    emulator: EmulatorServer, manifest: Path
) -> None:
    seed(emulator)
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        for url in ("https://example.com/x", "https://example.com/y"):
            response = api.post(
                "/v1/webhook_endpoints", data={"url": url, "enabled_events[]": "invoice.paid"}
            )
            assert response.status_code == 200
    manifest.write_text(
        MANIFEST.replace(
            "policy: {unmanaged: report}", "policy: {unmanaged: delete, max_destroy: 1}"
        )
    )
    result = run_plan(emulator, str(manifest))
    assert result.returncode == 1
    assert result.stdout.endswith(
        "Plan: 0 to create, 0 to update, 0 to replace, 2 to delete, 0 to expire.\n"
    )
    assert result.stderr == (
        "Error: 2 destructive actions (replace/delete/expire) exceed policy.max_destroy=1; "
        "review them or pass --force\n"
    )
    forced = run_plan(emulator, str(manifest), "--force", "--detailed-exitcode")
    assert forced.returncode == 2, forced.stderr
    targeted = run_plan(
        emulator, str(manifest), "--target", "webhook_endpoints.orders", "--detailed-exitcode"
    )
    assert (targeted.returncode, targeted.stdout) == (0, "No changes.\n")


def test_stripe_account_option_sets_the_header(emulator: EmulatorServer, manifest: Path) -> None:
    before = len(emulator.requests())
    result = run_plan(emulator, "--detailed-exitcode", str(manifest), stripe_account="acct_Conn1")
    assert result.returncode == 2, result.stderr
    accounts = {r["account"] for r in emulator.requests()[before:]}
    assert accounts == {"acct_Conn1"}


def test_a_broken_link_in_the_manifest_directory_stops_plan(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Skipping the file behind the link would plan to delete every endpoint it declares."""
    seed(emulator)
    directory = tmp_path / "stripe"
    directory.mkdir()
    (tmp_path / "stripe.yaml").write_text(MANIFEST, encoding="utf-8")
    (directory / "main.yaml").symlink_to(tmp_path / "stripe.yaml")
    (directory / "account.yaml").write_text("version: 1\naccount: {mode: test}\n", "utf-8")
    assert run_plan(emulator, str(directory)).stdout.endswith("No changes.\n")
    (tmp_path / "stripe.yaml").rename(tmp_path / "moved.yaml")
    before = len(emulator.requests())
    result = run_plan(emulator, str(directory))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {directory}/main.yaml:1:1: broken symbolic link: its target "
        f"{tmp_path}/stripe.yaml does not exist\n"
    )
    assert plan_requests(emulator, before) == []  # nothing read, nothing planned

"""A fleet's plan as text, markdown and JSON, its apply report and drift, and the saved fleet plan:
per-account sections, quiet accounts on one line, the summary line, masking, the markdown cap,
and a plan file whose parts carry their own checksums."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.api import Planned
from reconciler.drift.model import DriftReport
from reconciler.errors import AuthenticationError, MaxDestroyExceededError, PlanFileError
from reconciler.fleet.drift_report import build_fleet_payload, render_drift
from reconciler.fleet.model import RateLimits
from reconciler.fleet.planfile import dump_fleet_plan_file, load_any_plan_file
from reconciler.fleet.render import render_plan
from reconciler.fleet.results import FleetDrift, FleetPlan
from reconciler.fleet.session import AccountRun
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.planfile import PlanFile
from reconciler.resources.base import LiveState

KEY = "sk_test_" + "k" * 20
TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}
DESIRED: dict[str, Any] = {
    "version": 1,
    "webhook_endpoints": {
        "orders": {"url": "https://example.com/orders", "enabled_events": ["invoice.paid"]}
    },
}
IN_SYNC = {
    "id": "we_1",
    "url": "https://example.com/orders",
    "enabled_events": ["invoice.paid"],
    "status": "enabled",
    "metadata": {**TAGS, "reconciler_name": "orders"},
}


def planned(account: str, *, live: list[dict[str, Any]] | None = None) -> Planned:
    manifest = Manifest.model_validate(DESIRED)
    state = LiveState(
        objects={
            "webhook_endpoints": tuple(live or ()),
            "tax_settings": (),
            "tax_registrations": (),
        }
    )
    return Planned(
        manifest=manifest,
        plan=build_plan(manifest, state),
        live=state,
        mode="test",
        account_id=account,
        stripe_account=account,
        api_version="2026-10-28.endive",
    )


def fleet_plan() -> FleetPlan:
    return FleetPlan(
        runs=(
            AccountRun("acct_1A", planned("acct_1A")),
            AccountRun("acct_2B", planned("acct_2B", live=[IN_SYNC])),
            AccountRun("acct_3C", None, AuthenticationError(f"Invalid API Key provided: {KEY}")),
            AccountRun("acct_4D", planned("acct_4D", live=[IN_SYNC])),
            AccountRun(
                "acct_5E",
                planned("acct_5E"),
                MaxDestroyExceededError("2 destructive actions exceed max_destroy=1"),
            ),
        ),
        rate_limits=RateLimits(),
    )


EXPECTED_TEXT = """\
acct_1A:
    + webhook_endpoints.orders: create
        # no endpoint is tagged with this name
        url: (none) → "https://example.com/orders"
        enabled_events: (none) → ["invoice.paid"]
        connect: (none) → false
        metadata.managed_by: (none) → "stripe-reconciler"
        metadata.reconciler_connect: (none) → "false"
        metadata.reconciler_name: (none) → "orders"

  Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 0 to expire.

acct_3C: failed
  Error: Invalid API Key provided: (sensitive)

acct_5E:
    + webhook_endpoints.orders: create
        # no endpoint is tagged with this name
        url: (none) → "https://example.com/orders"
        enabled_events: (none) → ["invoice.paid"]
        connect: (none) → false
        metadata.managed_by: (none) → "stripe-reconciler"
        metadata.reconciler_connect: (none) → "false"
        metadata.reconciler_name: (none) → "orders"

  Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 0 to expire.
  Error: 2 destructive actions exceed max_destroy=1

No changes in 2 accounts: acct_2B, acct_4D.

Fleet: 5 accounts, 2 with changes, 2 failed.
"""


def test_text_has_a_section_per_account_with_something_to_show() -> None:
    assert render_plan(fleet_plan(), "text", secrets=(KEY,)) == EXPECTED_TEXT


def test_json_is_one_document_with_an_entry_per_account() -> None:
    document = json.loads(render_plan(fleet_plan(), "json", secrets=(KEY,)))
    assert document["summary"] == {"accounts": 5, "with_changes": 2, "failed": 2}
    assert document["summary_line"] == "Fleet: 5 accounts, 2 with changes, 2 failed."
    assert [(e["stripe_account"], e["status"]) for e in document["accounts"]] == [
        ("acct_1A", "changes"),
        ("acct_2B", "no_changes"),
        ("acct_3C", "failed"),
        ("acct_4D", "no_changes"),
        ("acct_5E", "failed"),
    ]
    first = document["accounts"][0]
    assert first["plan"]["summary_line"].startswith("Plan: 1 to create")
    assert document["accounts"][2]["error"] == {
        "type": "AuthenticationError",
        "message": "Invalid API Key provided: (sensitive)",
    }
    assert document["accounts"][2]["plan"] is None
    assert KEY not in json.dumps(document)


def test_markdown_has_a_table_and_stays_under_the_cap() -> None:
    text = render_plan(fleet_plan(), "markdown", secrets=(KEY,))
    assert text.startswith(
        "### stripe-reconciler fleet plan\n\n**Fleet: 5 accounts, 2 with changes, 2 failed.**\n"
    )
    assert "| `acct_1A` | 1 | 0 | 0 | 0 | 0 | |" in text
    assert "| `acct_3C` | | | | | | failed |" in text
    assert text.rstrip().endswith("No changes in 2 accounts: `acct_2B`, `acct_4D`.")
    many = FleetPlan(
        runs=tuple(AccountRun(f"acct_{n}", planned(f"acct_{n}")) for n in range(400)),
        rate_limits=RateLimits(),
    )
    capped = render_plan(many, "markdown")
    assert len(capped) < 65_536
    assert "> ✂️ Truncated:" in capped and "accounts not shown" in capped


def test_a_saved_fleet_plan_keeps_each_part_and_refuses_any_edit() -> None:
    fleet = fleet_plan()
    saved = fleet.plan_file()
    # the failed accounts (unreadable, refused by the safety policy) have no part
    assert [part.stripe_account for part in saved.parts] == ["acct_1A", "acct_2B", "acct_4D"]
    text = dump_fleet_plan_file(saved, secrets=(KEY,))
    loaded = load_any_plan_file(text)
    assert not isinstance(loaded, PlanFile)
    assert [p.plan.checksum for p in loaded.parts] == [p.plan.checksum for p in saved.parts]
    assert loaded.rate_limits == RateLimits()
    document = json.loads(text)
    document["accounts"][1]["desired"]["webhook_endpoints"]["orders"]["url"] = "https://evil"
    with pytest.raises(PlanFileError, match="it was modified"):
        load_any_plan_file(json.dumps(document))


def test_a_part_edited_with_a_new_outer_checksum_is_still_refused() -> None:
    from reconciler.plan.model import sha256_of

    document = json.loads(dump_fleet_plan_file(fleet_plan().plan_file()))
    document["accounts"][0]["account"]["stripe_account"] = "acct_9Z"
    body = {k: v for k, v in document.items() if k != "checksum"}
    document["checksum"] = sha256_of(body)
    with pytest.raises(PlanFileError) as caught:
        load_any_plan_file(json.dumps(document))
    assert str(caught.value) == (
        "accounts[0]: plan file checksum does not match its content: it was modified"
    )


def test_a_single_account_plan_file_still_loads_as_one() -> None:
    from reconciler.plan.planfile import dump_plan_file

    single = planned("acct_1A").plan_file()
    assert isinstance(load_any_plan_file(dump_plan_file(single)), PlanFile)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_one_account_in_sync_is_one_account(fmt: str) -> None:
    report = DriftReport("acct_1A", "test", "acct_1A", "2026-01-01T00:00:00Z", 3)
    fleet = FleetDrift(runs=(AccountRun("acct_1A", report),), mode="test")
    shown = render_drift(fleet, fmt)
    assert "No drift in 1 account: " in shown
    assert "1 accounts" not in shown


def test_the_fleet_slack_alert_shows_an_error_text_literally() -> None:
    """An account's error may quote what a server answered (``<html>``): Slack would read
    ``<…>`` as a link or a mention, so the slack text escapes it; the json text keeps it."""
    error = AuthenticationError("Stripe answered <html> & gave up")
    fleet = FleetDrift(runs=(AccountRun("acct_1A", None, error),), mode="test")
    slack = build_fleet_payload(fleet, "slack")["text"].splitlines()[-1]
    assert slack == "• `acct_1A` could not be read: Stripe answered &lt;html&gt; &amp; gave up"
    text = build_fleet_payload(fleet, "json")["text"].splitlines()[-1]
    assert text.endswith("Stripe answered <html> & gave up")

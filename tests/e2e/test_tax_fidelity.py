"""End-to-end through the CLI: tax settings and registrations as Stripe documents them.

Issue 14 items 1-4 and issue 13 items 3 and 5, against the emulator that now enforces what
Stripe documents (a head office before any registration, no past start on create) and accepts
what it does not forbid (``expires_at=now`` in a registration's first second).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from apply_helpers import KEY, assert_no_changes, invoke, list_all, write_manifest, writes

from reconciler.emulator.server import EmulatorServer

REGISTRATION = """\
tax_registrations:
  us-ca:
    country: US
    country_options: {us: {type: state_sales_tax, state: CA}}
"""
HEAD_OFFICE = """\
tax_settings:
  head_office:
    address:
      {country: US, state: CA, city: San Francisco, line1: 510 Townsend St, postal_code: "94103"}
"""


def manifest(tmp_path: Path, *parts: str) -> Path:
    return write_manifest(tmp_path, "version: 1\n" + "".join(parts))


def apply(emulator: EmulatorServer, path: Path, *extra: str) -> Any:
    return invoke(emulator, "apply", str(path), "--auto-approve", *extra)


def settings(emulator: EmulatorServer) -> dict[str, Any]:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        body: dict[str, Any] = api.get("/v1/tax/settings").json()
    return body


def registrations(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return list_all(emulator, "/v1/tax/registrations", status="all")


def test_registrations_without_a_head_office_are_refused_before_any_write(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    path = manifest(tmp_path, REGISTRATION)
    for command in ("plan", "apply"):
        run = invoke(
            emulator, command, str(path), *(("--auto-approve",) if command == "apply" else ())
        )
        assert run.code == 1
        assert run.stderr.strip() == (
            "Error: tax_registrations.us-ca: the account has no head office address, and Stripe "
            "refuses to create a tax registration without one; declare "
            "tax_settings.head_office.address in the manifests (apply sets it before any "
            "registration) or set it in the Dashboard (Settings → Tax)"
        )
        assert "Traceback" not in run.stderr
    assert writes(emulator) == []


def test_a_declared_head_office_is_set_before_the_registrations(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    path = manifest(tmp_path, HEAD_OFFICE, REGISTRATION)
    plan = invoke(emulator, "plan", str(path))
    assert plan.code == 0, plan.stderr
    assert "pending" not in plan.stdout  # the plan sets what Stripe waits for
    run = apply(emulator, path)
    assert run.code == 0, run.stderr
    assert [(w["method"], w["path"], w["status"]) for w in writes(emulator)] == [
        ("POST", "/v1/tax/settings", 200),
        ("POST", "/v1/tax/registrations", 200),
    ]
    assert settings(emulator)["status"] == "active"
    assert_no_changes(emulator, path)


def test_the_head_office_moves_whole(emulator: EmulatorServer, tmp_path: Path) -> None:
    """San Francisco → Berlin left `state: CA` in Germany, and the next plan said No changes."""
    first = manifest(tmp_path, HEAD_OFFICE)
    assert apply(emulator, first).code == 0
    berlin = manifest(
        tmp_path,
        "tax_settings:\n  head_office:\n    address: {country: DE, city: Berlin, "
        'postal_code: "10117", line1: Unter den Linden 1}\n',
    )
    plan = invoke(emulator, "plan", str(berlin))
    assert 'head_office.address.state: "CA" → (none)' in plan.stdout
    assert 'the live head office has state "CA", which the manifest leaves out' in plan.stdout
    assert apply(emulator, berlin).code == 0
    assert settings(emulator)["head_office"]["address"] == {
        "city": "Berlin",
        "country": "DE",
        "line1": "Unter den Linden 1",
        "line2": None,
        "postal_code": "10117",
        "state": None,
    }
    assert_no_changes(emulator, berlin)


def test_expiring_in_the_first_second_sends_now_and_never_waits(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    assert apply(emulator, manifest(tmp_path, HEAD_OFFICE, REGISTRATION)).code == 0
    (created,) = registrations(emulator)
    ending = manifest(tmp_path, HEAD_OFFICE, REGISTRATION.rstrip() + "\n    expires_at: now\n")
    mark = len(emulator.requests())
    run = apply(emulator, ending)
    assert run.code == 0, run.stderr
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 to expire." in run.stdout
    sent = [r for r in emulator.requests()[mark:] if r["method"] == "POST"]
    assert [(r["path"], r["status"]) for r in sent] == [
        (f"/v1/tax/registrations/{created['id']}", 200)
    ]
    (ended,) = registrations(emulator)
    assert ended["status"] == "expired"
    assert ended["expires_at"] - ended["active_from"] <= 1  # not held open a second longer
    assert_no_changes(emulator, ending)


def test_a_past_start_is_created_as_now(emulator: EmulatorServer, tmp_path: Path) -> None:
    past = REGISTRATION.rstrip() + "\n    active_from: 2020-01-01T00:00:00Z\n"
    path = manifest(tmp_path, HEAD_OFFICE, past)
    run = apply(emulator, path)
    assert run.code == 0, run.stderr
    assert (
        "its declared start 2020-01-01T00:00:00Z has passed and Stripe cannot backdate a "
        "registration, so it is created active from now" in run.stdout
    )
    (created,) = registrations(emulator)
    assert created["status"] == "active"
    assert_no_changes(emulator, path)  # it started later than declared: that is no difference


def test_a_past_expires_at_on_a_protected_registration_is_refused(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    protected = REGISTRATION.rstrip() + "\n    lifecycle: {protect: true}\n"
    assert apply(emulator, manifest(tmp_path, HEAD_OFFICE, protected)).code == 0
    emulator.advance_clock(60)
    for end in ("2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"):
        ending = manifest(tmp_path, HEAD_OFFICE, protected.rstrip() + f"\n    expires_at: {end}\n")
        mark = len(emulator.requests())
        run = apply(emulator, ending, "--force")
        assert run.code == 1
        assert "protected resource(s) would be destroyed" in run.stderr
        assert "tax_registrations.us-ca (" in run.stderr
        assert [r for r in emulator.requests()[mark:] if r["method"] == "POST"] == []
    (live,) = registrations(emulator)
    assert (live["status"], live["expires_at"]) == ("active", None)


def test_a_past_expires_at_counts_against_max_destroy(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    policy = "policy: {max_destroy: 0}\n"
    assert apply(emulator, manifest(tmp_path, policy, HEAD_OFFICE, REGISTRATION)).code == 0
    emulator.advance_clock(60)
    past = REGISTRATION.rstrip() + "\n    expires_at: 2020-01-01T00:00:00Z\n"
    ending = manifest(tmp_path, policy, HEAD_OFFICE, past)
    plan = invoke(emulator, "plan", str(ending))
    assert plan.code == 1
    assert "1 destructive actions (replace/delete/expire) exceed policy.max_destroy=0" in (
        plan.stderr
    )
    forced = apply(emulator, ending, "--force")
    assert forced.code == 0, forced.stderr
    assert "1 to expire." in forced.stdout
    (live,) = registrations(emulator)
    assert live["status"] == "expired"
    assert_no_changes(emulator, ending)


def test_an_end_before_the_start_is_refused_before_any_write(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Issue 13 item 5: what Stripe refuses is refused by plan, naming the resource."""
    scheduled = (
        "tax_registrations:\n  us-ca:\n    country: US\n"
        "    country_options: {us: {type: state_sales_tax, state: CA}}\n"
        "    active_from: 2099-01-01T00:00:00Z\n"
    )
    assert apply(emulator, manifest(tmp_path, HEAD_OFFICE, scheduled)).code == 0
    ending = manifest(
        tmp_path,
        HEAD_OFFICE,
        scheduled.replace("2099-01-01T00:00:00Z", "now")
        + "    expires_at: 2098-01-01T00:00:00Z\n    lifecycle: {ignore_changes: [active_from]}\n",
    )
    mark = len(emulator.requests())
    run = invoke(emulator, "apply", str(ending), "--auto-approve")
    assert run.code == 1
    assert run.stderr.startswith("Error: tax_registrations.us-ca: it would end (2098-01-01")
    assert "which Stripe refuses" in run.stderr
    assert [r for r in emulator.requests()[mark:] if r["method"] == "POST"] == []


def test_pending_is_not_reported_for_manifests_without_tax(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    hooks = manifest(
        tmp_path,
        "webhook_endpoints:\n  orders: {url: 'https://shop.example.com/h', "
        "enabled_events: [invoice.paid]}\n",
    )
    run = invoke(emulator, "plan", str(hooks))
    assert run.code == 0, run.stderr
    assert settings(emulator)["status"] == "pending"
    assert "pending" not in run.stdout


def test_registrations_of_the_newest_api_version_apply(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """2026-10-28.endive (stripe-python 16.1.0), the pinned version, added BW, CI, GH, MU and
    US utility_users_tax; validation, the tool and the emulator all take them (issue 14 item 9)."""
    newer = (
        "tax_registrations:\n"
        "  bw: {country: BW, country_options: {bw: {type: simplified}}}\n"
        "  la-uut:\n    country: US\n    country_options:\n"
        "      us: {type: utility_users_tax, state: CA, utility_users_tax: {jurisdiction: LA}}\n"
    )
    path = manifest(tmp_path, HEAD_OFFICE, newer)
    run = apply(emulator, path)
    assert run.code == 0, run.stderr
    assert sorted(r["country"] for r in registrations(emulator)) == ["BW", "US"]
    assert_no_changes(emulator, path)

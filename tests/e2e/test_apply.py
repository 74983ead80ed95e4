"""End-to-end: ``stripe-reconciler apply`` against the emulator over a real socket."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from apply_helpers import (
    KEY,
    LIVE_KEY,
    MANIFEST,
    assert_no_changes,
    endpoints,
    invoke,
    live_registrations,
    read_dotenv,
    recorded,
    recording_command,
    write_manifest,
    writes,
)
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer


def test_apply_from_empty_then_no_changes_and_a_second_apply_writes_nothing(
    emulator: EmulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    manifest = write_manifest(tmp_path)
    sink = tmp_path / "secrets.env"
    log = tmp_path / "deliveries.jsonl"
    run = invoke(
        emulator,
        "--log-level",
        "debug",
        "apply",
        str(manifest),
        "--auto-approve",
        "--secrets-file",
        str(sink),
        "--secrets-command",
        recording_command(log),
    )
    assert run.code == 0, run.stderr
    assert "Plan: 4 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire." in run.stdout
    assert run.stdout.rstrip().endswith(
        "Apply complete: 4 created, 1 updated in " + run.stdout.rstrip().rsplit(" in ", 1)[1]
    )
    for address in ("tax_settings", "webhook_endpoints.orders", "tax_registrations.us-ny"):
        assert f"{address}: " in run.stdout
    live = endpoints(emulator)
    by_name = {e["metadata"]["reconciler_name"]: e for e in live}
    assert sorted(by_name) == ["alerts", "orders"]
    assert by_name["alerts"]["status"] == "disabled"
    assert "webhook_endpoints.orders: Created after" in run.stdout
    assert f"[id={by_name['orders']['id']}]" in run.stdout
    assert len(live_registrations(emulator)) == 2

    # secrets: in the 0600 sink, each the secret of the live endpoint, and nowhere else
    assert stat.S_IMODE(sink.stat().st_mode) == 0o600
    stored = read_dotenv(sink)
    assert sorted(stored) == ["STRIPE_WEBHOOK_SECRET_ALERTS", "STRIPE_WEBHOOK_SECRET_ORDERS"]
    deliveries = {d["webhook_endpoint_id"]: d["secret"] for d in recorded(log)}
    assert stored["STRIPE_WEBHOOK_SECRET_ORDERS"] == deliveries[by_name["orders"]["id"]]
    for secret in stored.values():
        assert secret.startswith("whsec_")
        assert secret not in run.stdout
        assert secret not in run.stderr  # debug logs included
    assert KEY not in run.stdout + run.stderr
    logs = caplog.text
    assert "handed the signing secret of webhook_endpoints.orders" in logs  # logs were on
    assert "POST /v1/webhook_endpoints" in logs
    assert not any(secret in logs for secret in stored.values())
    assert KEY not in logs

    plan_file = tmp_path / "after.plan.json"
    assert_no_changes(emulator, manifest, "--out", str(plan_file))
    assert not any(s in plan_file.read_text() for s in stored.values())

    before = len(writes(emulator))
    again = invoke(emulator, "apply", str(manifest), "--auto-approve")
    assert again.code == 0, again.stderr
    assert "No changes." in again.stdout
    assert len(writes(emulator)) == before
    assert read_dotenv(sink) == stored


def test_refuses_to_create_endpoints_without_a_sink(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    run = invoke(emulator, "apply", str(write_manifest(tmp_path)), "--auto-approve")
    assert run.code == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "Error: the plan creates or replaces 2 webhook endpoint(s) (webhook_endpoints.alerts, "
        "webhook_endpoints.orders) and Stripe returns a signing secret only once, at creation; "
        "pass --secrets-file PATH or --secrets-command CMD so it is kept. Nothing was applied."
    )
    assert writes(emulator) == []


def test_refuses_without_a_terminal_or_auto_approve(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    run = invoke(
        emulator,
        "apply",
        str(write_manifest(tmp_path)),
        "--secrets-file",
        str(tmp_path / "s.env"),
    )
    assert run.code == 1
    assert "Plan: 4 to create" in run.stdout  # shown, then refused
    assert run.stderr.strip() == (
        "Error: refusing to apply without confirmation: stdin is not a terminal. Review the "
        "plan above and re-run with --auto-approve, or apply a saved plan with --plan"
    )
    assert writes(emulator) == []
    assert not (tmp_path / "s.env").exists()


def test_live_mode_guard_both_ways(emulator: EmulatorServer, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    live_key = invoke(emulator, "apply", str(manifest), "--auto-approve", key=LIVE_KEY)
    assert live_key.code == 1
    assert live_key.stderr.startswith("Error: Refusing to use a live-mode key")
    live_manifest = write_manifest(tmp_path, MANIFEST.replace("mode: test", "mode: live"))
    test_key = invoke(emulator, "apply", str(live_manifest), "--auto-approve")
    assert test_key.code == 1
    assert "declare account.mode: live but the key is a test-mode key" in test_key.stderr
    assert emulator.requests() == []  # refused before any request
    assert LIVE_KEY not in live_key.stderr + live_key.stdout


def test_github_actions_masks_and_prints_secrets_only_as_masks(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    sink = tmp_path / "s.json"
    env = {
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": emulator.base_url,
        "GITHUB_ACTIONS": "true",
        "NO_COLOR": "1",
    }
    args = ["apply", str(write_manifest(tmp_path)), "--auto-approve", "--secrets-file", str(sink)]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.stderr
    stored = json.loads(sink.read_text())
    assert sorted(stored) == ["STRIPE_WEBHOOK_SECRET_ALERTS", "STRIPE_WEBHOOK_SECRET_ORDERS"]
    assert stat.S_IMODE(sink.stat().st_mode) == 0o600
    for secret in stored.values():
        lines = [line for line in result.stdout.splitlines() if secret in line]
        assert lines == [f"::add-mask::{secret}"]
        assert secret not in result.stderr


def test_the_shipped_example_applies_and_converges(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "basic"
    sink = tmp_path / "secrets.json"
    run = invoke(emulator, "apply", str(example), "--auto-approve", "--secrets-file", str(sink))
    assert run.code == 0, run.stderr
    assert sorted(json.loads(sink.read_text())) == [
        "STRIPE_WEBHOOK_SECRET_BILLING_ALERTS",
        "STRIPE_WEBHOOK_SECRET_ORDERS",
    ]
    assert_no_changes(emulator, example)


def test_registration_replace_expires_the_old_then_creates_the_new(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path)
    sink = ["--secrets-file", str(tmp_path / "s.env")]
    assert invoke(emulator, "apply", str(manifest), "--auto-approve", *sink).code == 0
    old = {r["country_options"]["us"]["state"]: r["id"] for r in live_registrations(emulator)}
    elections = (
        "    country_options: {us: {type: state_sales_tax, state: CA, state_sales_tax: "
        "{elections: [{type: simplified_sellers_use_tax}]}}}\n"
    )
    write_manifest(
        tmp_path,
        MANIFEST.replace(
            "    country_options: {us: {type: state_sales_tax, state: CA}}\n", elections
        ),
    )
    run = invoke(emulator, "apply", str(manifest), "--auto-approve", *sink)
    assert run.code == 0, run.stderr
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 0 to expire." in run.stdout
    order = [(r["method"], r["path"]) for r in writes(emulator)[-2:]]
    assert order == [
        ("POST", f"/v1/tax/registrations/{old['CA']}"),
        ("POST", "/v1/tax/registrations"),
    ]
    now = {r["country_options"]["us"]["state"]: r for r in live_registrations(emulator)}
    assert now["NY"]["id"] == old["NY"]
    assert now["CA"]["id"] != old["CA"]
    assert now["CA"]["country_options"]["us"]["state_sales_tax"]["elections"][0]["type"] == (
        "simplified_sellers_use_tax"
    )
    check = invoke(emulator, "plan", str(manifest))
    assert check.stdout.strip().splitlines()[-1] == "No changes.", check.stdout


@pytest.mark.parametrize(("answer", "code"), [("yes", 0), ("no", 1)])
def test_confirmation_on_a_terminal(
    emulator: EmulatorServer, tmp_path: Path, answer: str, code: int
) -> None:
    manifest = write_manifest(tmp_path)
    sink = ["--secrets-file", str(tmp_path / "s.env")]
    controller, terminal = os.openpty()
    try:
        env = {**os.environ, "STRIPE_API_KEY": KEY, "STRIPE_API_BASE": emulator.base_url}
        for name in ("GITHUB_ACTIONS", "STRIPE_ACCOUNT", "STRIPE_RECONCILER_TEST_CRASH_AFTER"):
            env.pop(name, None)
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", str(manifest), *sink],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        os.write(controller, f"{answer}\n".encode())
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == code, stderr
    assert "Apply these changes? Only 'yes' is accepted:" in stdout
    if code == 0:
        assert len(endpoints(emulator)) == 2
    else:
        assert stderr.strip() == "Apply cancelled; nothing was changed."
        assert writes(emulator) == []

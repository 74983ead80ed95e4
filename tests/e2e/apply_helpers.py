"""Shared pieces of the apply end-to-end tests: manifest, CLI runners, listing, sink checks."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import e2e_support
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer

KEY = "sk_test_" + "a" * 16
LIVE_KEY = "sk_live_" + "a" * 16

MANIFEST = """\
version: 1
account: {mode: test}
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid, checkout.session.completed]
    metadata: {team: payments}
  alerts:
    url: https://alerts.example.com/hooks
    enabled_events: [customer.subscription.deleted]
    description: On-call
    disabled: true
tax_settings:
  defaults: {tax_behavior: exclusive}
  head_office:
    address:
      {country: US, state: CA, city: San Francisco, line1: 510 Townsend St, postal_code: "94103"}
tax_registrations:
  us-ca:
    country: US
    country_options: {us: {type: state_sales_tax, state: CA}}
  us-ny:
    country: US
    country_options: {us: {type: state_sales_tax, state: NY}}
"""

NAMES = ("alerts", "orders")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def write_manifest(directory: Path, text: str = MANIFEST) -> Path:
    path = directory / "stripe.yaml"
    path.write_text(text)
    return path


def env_for(emulator: EmulatorServer, key: str = KEY) -> dict[str, str | None]:
    return {
        "STRIPE_API_KEY": key,
        "STRIPE_API_BASE": emulator.base_url,
        "GITHUB_ACTIONS": None,
        "STRIPE_RECONCILER_TEST_CRASH_AFTER": None,
        "STRIPE_ACCOUNT": None,
        "STRIPE_RECONCILER_LOG_LEVEL": None,
        "NO_COLOR": "1",
    }


def invoke(emulator: EmulatorServer, *args: str, key: str = KEY) -> Run:
    """The real CLI, in-process (fast); stdin is not a terminal."""
    result = CliRunner().invoke(cli, list(args), env=env_for(emulator, key))
    return Run(result.exit_code, result.stdout, result.stderr)


def spawn(
    emulator: EmulatorServer, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The real CLI in its own process (for SIGKILL and concurrency)."""
    return e2e_support.spawn_cli(env_for(emulator), *args, extra_env=extra_env)


def list_all(emulator: EmulatorServer, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every object of a list endpoint, by listing (how duplicates are counted)."""
    return e2e_support.list_all(emulator, path, key=KEY, **params)


def endpoints(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return list_all(emulator, "/v1/webhook_endpoints")


def live_registrations(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """Active and scheduled registrations, counted on an emulator that accepts duplicates."""
    assert not emulator.configure()["refuse_duplicate_registrations"]
    regs = list_all(emulator, "/v1/tax/registrations", status="all")
    return [r for r in regs if r["status"] in ("active", "scheduled")]


def writes(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r["method"] in ("POST", "DELETE") and r["path"].startswith("/v1/")
    ]


def read_dotenv(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entries[key] = value
    return entries


def recorded(log: Path) -> list[dict[str, Any]]:
    """What the recording --secrets-command received, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def recording_command(log: Path) -> str:
    # one write per delivery: parallel creates run the command concurrently, and a separate
    # `cat` and `echo` could interleave two deliveries on one line
    return f'line=$(cat); printf "%s\\n" "$line" >> {log}'


def assert_converged(emulator: EmulatorServer, sink: Path, log: Path) -> None:
    """One endpoint per name, two live registrations, and each live endpoint's own secret kept."""
    live = endpoints(emulator)
    names = sorted(e["metadata"].get("reconciler_name") for e in live)
    assert names == list(NAMES), names
    assert all("reconciler_secret_pending" not in e["metadata"] for e in live)
    regs = live_registrations(emulator)
    states = sorted(r["country_options"]["us"]["state"] for r in regs)
    assert states == ["CA", "NY"]
    stored = read_dotenv(sink)
    deliveries = recorded(log)
    for endpoint in live:
        name = endpoint["metadata"]["reconciler_name"]
        mine = [d for d in deliveries if d["webhook_endpoint_id"] == endpoint["id"]]
        assert mine, f"no secret was delivered for {endpoint['id']}"
        assert stored[f"STRIPE_WEBHOOK_SECRET_{name.upper()}"] == mine[-1]["secret"]
        assert mine[-1]["secret"].startswith("whsec_")


def assert_no_changes(emulator: EmulatorServer, manifest: Path, *plan_args: str) -> None:
    """``plan`` of the manifest succeeds and its last line says there is nothing to do."""
    run = invoke(emulator, "plan", str(manifest), *plan_args)
    assert run.code == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "No changes."

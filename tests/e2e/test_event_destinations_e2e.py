"""Event destinations end to end (issue 17's "done when"): the real CLI in its own process
against the emulator over a socket.

A thin-payload webhook destination and an EventBridge destination apply (the webhook one's
signing secret goes to the secrets file, never to output), re-plan to ``No changes.``, an
out-of-band disable (stripe-python's v2 client, as a Dashboard user would) is drift, apply
re-enables it through ``POST …/enable`` (never an update), and export writes them back as a
manifest that plans to no changes.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import e2e_support
import pytest
import stripe
import yaml
from apply_helpers import KEY, env_for, read_dotenv

from reconciler.apply.executor import CRASH_HOOK_ENV as CRASH
from reconciler.emulator.server import EmulatorServer

PATH = "/v2/core/event_destinations"
THIN_EVENT = "v1.billing.meter.error_report_triggered"
MANIFEST = f"""\
version: 1
account: {{mode: test}}
event_destinations:
  meters:
    type: webhook_endpoint
    event_payload: thin
    enabled_events: [{THIN_EVENT}]
    webhook_endpoint: {{url: https://shop.example.com/stripe/thin}}
    description: Meter errors
    metadata: {{team: billing}}
  bridge:
    name: Invoices to AWS
    type: amazon_eventbridge
    event_payload: snapshot
    snapshot_api_version: 2026-09-30.endive
    enabled_events: [invoice.paid, invoice.payment_failed]
    amazon_eventbridge: {{aws_account_id: "123456789012", aws_region: eu-west-1}}
"""


def cli(emulator: EmulatorServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m reconciler ARGS`` in its own process; its output for the leak scan."""
    process = e2e_support.spawn_cli(env_for(emulator), *args)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def client(emulator: EmulatorServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0
    )


def destinations(emulator: EmulatorServer) -> dict[str, Any]:
    """Live destinations by their tagged name, read with stripe-python's v2 client."""
    listed = client(emulator).v2.core.event_destinations.list({"include": ["webhook_endpoint.url"]})
    return {d.metadata["reconciler_name"]: d for d in listed.auto_paging_iter()}


def writes(emulator: EmulatorServer, since: int) -> list[tuple[str, str, bool]]:
    """The writes since ``since``: method, path and whether it carried an idempotency key."""
    return [
        (r["method"], r["path"], r["idempotency_key"] is not None)
        for r in emulator.requests()[since:]
        if r["method"] in ("POST", "DELETE")
    ]


@pytest.fixture
def emulator() -> Any:
    with EmulatorServer() as server:
        yield server


def test_thin_webhook_and_eventbridge_destinations_apply_drift_reenable_and_export(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = tmp_path / "stripe.yaml"
    manifest.write_text(MANIFEST)
    sink = tmp_path / "secrets.env"

    applied = cli(emulator, "apply", str(manifest), "--auto-approve", "--secrets-file", str(sink))
    assert applied.returncode == 0, applied.stderr
    live = destinations(emulator)
    assert sorted(live) == ["bridge", "meters"]
    meters, bridge = live["meters"], live["bridge"]
    assert (meters.type, meters.event_payload, meters.status) == (
        "webhook_endpoint",
        "thin",
        "enabled",
    )
    assert meters.webhook_endpoint.url == "https://shop.example.com/stripe/thin"
    assert (bridge.name, bridge.type, bridge.status) == (
        "Invoices to AWS",
        "amazon_eventbridge",
        "enabled",
    )
    assert bridge.amazon_eventbridge.aws_account_id == "123456789012"
    assert "reconciler_secret_pending" not in meters.metadata  # the secret was delivered
    secrets = read_dotenv(sink)
    assert list(secrets) == ["STRIPE_EVENT_DESTINATION_SECRET_METERS"]
    secret = secrets["STRIPE_EVENT_DESTINATION_SECRET_METERS"]
    assert secret.startswith("whsec_")
    assert secret not in applied.stdout + applied.stderr

    again = cli(emulator, "plan", str(manifest), "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout

    # out of band, as a Dashboard user would: the v2 disable endpoint
    client(emulator).v2.core.event_destinations.disable(meters.id)
    drift = cli(emulator, "drift", str(manifest))
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "event_destinations.meters" in drift.stdout
    assert "the destination is disabled in Stripe" in drift.stdout
    assert "bridge" not in drift.stdout

    mark = len(emulator.requests())
    fixed = cli(emulator, "apply", str(manifest), "--auto-approve", "--secrets-file", str(sink))
    assert fixed.returncode == 0, fixed.stderr
    assert writes(emulator, mark) == [("POST", f"{PATH}/{meters.id}/enable", True)]
    assert destinations(emulator)["meters"].status == "enabled"
    assert cli(emulator, "drift", str(manifest)).returncode == 0

    out = tmp_path / "exported"
    exported = cli(emulator, "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    written = yaml.safe_load((out / "event_destinations.yaml").read_text())
    assert written["event_destinations"]["bridge"]["amazon_eventbridge"] == {
        "aws_account_id": "123456789012",
        "aws_region": "eu-west-1",
    }
    assert written["event_destinations"]["meters"]["webhook_endpoint"] == {
        "url": "https://shop.example.com/stripe/thin"
    }
    replanned = cli(emulator, "plan", str(out), "--detailed-exitcode")
    assert replanned.returncode == 0, replanned.stdout + replanned.stderr
    assert "No changes." in replanned.stdout


#: the bridge declared disabled; the crash hook counts with --parallelism 1: the EventBridge
#: create (1), its disable (2), the webhook destination's create (3), its secret delivered (4),
#: its marker removed (5)
DISABLED_BRIDGE = MANIFEST.replace(
    "    amazon_eventbridge:", "    disabled: true\n    amazon_eventbridge:"
)


@pytest.mark.parametrize(
    ("crash_after", "left"),
    [
        (1, {"bridge": ("enabled", None)}),
        (3, {"bridge": ("disabled", None), "meters": ("enabled", "true")}),
        (4, {"bridge": ("disabled", None), "meters": ("enabled", "true")}),
    ],
)
def test_a_killed_apply_of_destinations_converges_on_the_next(
    emulator: EmulatorServer,
    tmp_path: Path,
    crash_after: int,
    left: dict[str, tuple[str, str | None]],
) -> None:
    """SIGKILL after the EventBridge create (before its disable), after the webhook
    destination's create (its secret not delivered: the next apply replaces it) and after the
    delivery (before the marker is removed): the next apply converges, one destination per
    name, the EventBridge one disabled, the webhook one's secret in the sink."""
    manifest = tmp_path / "stripe.yaml"
    manifest.write_text(DISABLED_BRIDGE)
    sink = tmp_path / "secrets.env"
    args = ("apply", str(manifest), "--auto-approve", "--parallelism", "1")
    process = e2e_support.spawn_cli(
        env_for(emulator), *args, "--secrets-file", str(sink), extra_env={CRASH: str(crash_after)}
    )
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    pending = "reconciler_secret_pending"
    assert {
        name: (d.status, d.metadata.to_dict().get(pending))
        for name, d in destinations(emulator).items()
    } == left

    again = cli(emulator, *args, "--secrets-file", str(sink))
    assert again.returncode == 0, again.stderr
    live = destinations(emulator)
    listed = client(emulator).v2.core.event_destinations.list().data
    assert len(listed) == 2 and sorted(live) == ["bridge", "meters"]
    assert live["bridge"].status == "disabled"
    assert "reconciler_secret_pending" not in live["meters"].metadata
    assert list(read_dotenv(sink)) == ["STRIPE_EVENT_DESTINATION_SECRET_METERS"]
    assert cli(emulator, "plan", str(manifest), "--detailed-exitcode").returncode == 0

"""The real CLI against hostile servers on 127.0.0.1: a trickling answer, an endless body and a
server that never answers end in one clear error and exit 1, within ``--timeout``; a slow API
prints one waiting line; an apply cut by the deadline reports what was done and what was not.

Durations stay short through a small ``--timeout``; nothing here asserts on elapsed time."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from e2e_support import list_all, spawn_cli
from hostile_server import HostileServer

from reconciler.api import Account
from reconciler.apply.secrets import FileSink, SecretSinks
from reconciler.apply.session import apply_session
from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest import load_manifests
from reconciler.manifest.model import Manifest
from reconciler.plan.model import Plan
from reconciler.stripe import StripeConfig

KEY = "sk_test_" + "h" * 16

MANIFEST = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
  billing:
    url: https://billing.example.com/hooks
    enabled_events: [invoice.paid]
tax_settings:
  defaults: {tax_behavior: exclusive}
"""


def manifest_in(tmp_path: Path) -> str:
    path = tmp_path / "stripe.yaml"
    path.write_text(MANIFEST)
    return str(path)


def run_cli(base_url: str, *args: str, timeout: str | None = None) -> tuple[int, str, str]:
    env: dict[str, str | None] = {
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": base_url,
        "STRIPE_RECONCILER_TIMEOUT": timeout,
        "GITHUB_ACTIONS": None,
    }
    process = spawn_cli(env, *args)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


# The kinds are read concurrently: whichever read the deadline ends first (a v1 list or the v2
# event destinations) is the one named.
@pytest.mark.parametrize(
    ("behaviour", "command", "expected"),
    [
        ("trickle", "plan", "Error: Stopped waiting for GET /v"),
        ("silent", "drift", "Error: Stopped waiting for GET /v"),
        ("endless", "plan", "answered with more than 8 MiB, far more than any Stripe answer"),
        ("trickle", "export", "Error: Stopped waiting for GET /v"),
    ],
)
def test_a_hostile_server_ends_in_one_clear_error(
    tmp_path: Path, behaviour: str, command: str, expected: str
) -> None:
    paths = [] if command == "export" else [manifest_in(tmp_path)]
    with HostileServer(behaviour, interval=0.1) as server:
        code, out, err = run_cli(server.base_url, "--timeout", "1.5", command, *paths)
    assert code == 1, (out, err)
    assert expected in err, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, err


def test_the_timeout_has_an_environment_twin(tmp_path: Path) -> None:
    with HostileServer("silent") as server:
        code, _, err = run_cli(server.base_url, "plan", manifest_in(tmp_path), timeout="1")
    assert code == 1
    assert "the 1s deadline for talking to Stripe ran out" in err


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf"])
def test_a_bad_timeout_is_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(cli, ["--timeout", value, "plan", "x.yaml"])
    assert result.exit_code == 1
    assert "Invalid value for '--timeout'" in result.output


def test_an_apply_cut_by_the_deadline_says_what_was_done(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = manifest_in(tmp_path)
    sink = tmp_path / "s.env"
    # Every endpoint create hangs; everything else reaches the emulator.
    with HostileServer(
        "proxy", upstream=emulator.base_url, hang="POST /v1/webhook_endpoints"
    ) as proxy:
        code, out, err = run_cli(
            proxy.base_url,
            "--timeout",
            "4",
            "apply",
            manifest,
            "--auto-approve",
            "--secrets-file",
            str(sink),
        )
    assert code == 1, (out, err)
    assert "tax_settings: Updated" in out
    assert "Error: apply stopped: 2 failed, 1 done, 0 never started." in err
    assert "  done: tax_settings (update)" in err
    failed = [line for line in err.splitlines() if line.startswith("  failed: ")]
    assert len(failed) == 2 and all("deadline for talking to Stripe ran out" in f for f in failed)
    assert "Traceback" not in err
    # nothing half-done: the settings were written, no endpoint exists, no secret was kept
    assert list_all(emulator, "/v1/webhook_endpoints", key=KEY) == []
    assert not sink.exists() or "whsec_" not in sink.read_text()


@pytest.mark.parametrize(("level", "lines"), [("warning", 1), ("error", 0)])
def test_a_slow_api_prints_one_waiting_line(
    emulator: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    level: str,
    lines: int,
) -> None:
    original = Account.config

    def quick_notice(self: Account, manifest: Manifest | None = None) -> StripeConfig:
        return dataclasses.replace(original(self, manifest), wait_notice_after=0.2)

    monkeypatch.setattr(Account, "config", quick_notice)
    with HostileServer("slow", interval=0.6, upstream=emulator.base_url) as server:
        result = CliRunner().invoke(
            cli,
            [
                *("--api-base", server.base_url, "--api-key", KEY, "--log-level", level),
                *("plan", manifest_in(tmp_path)),
            ],
        )
    assert result.exit_code == 0, result.output
    waiting = [line for line in result.stderr.splitlines() if line.startswith("Waiting for")]
    # three reads at once, all slow: one phase, one line (none with --log-level error)
    assert len(waiting) == lines, result.stderr
    assert all(line.startswith("Waiting for Stripe (GET /v1/") for line in waiting)
    assert result.stdout.rstrip().endswith("0 to delete, 0 to expire.")


def test_time_at_the_confirmation_prompt_is_not_counted(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = load_manifests([manifest_in(tmp_path)]).manifest
    config = StripeConfig(api_key=KEY, api_base=emulator.base_url, deadline=1.0)

    def slow_reader(plan: Plan) -> bool:
        time.sleep(1.2)  # longer than the whole deadline, spent reading the plan
        return True

    sinks = SecretSinks([FileSink(tmp_path / "s.env")])
    outcome = asyncio.run(apply_session(config, manifest, sinks, confirm=slow_reader))
    assert outcome.result is not None and outcome.result.ok, outcome.result

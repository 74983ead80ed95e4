"""End-to-end: an apply interrupted at Stripe's 16-endpoint limit converges when run again.

Issue 13, defect 1: with 16 declared endpoints, an apply whose sink fails (or that is killed)
leaves some endpoints marked ``reconciler_secret_pending``. Each must be replaced to get a new
secret, and a replace used to create the successor before deleting the old one, so every later
plan wanted 20 endpoints at once and was refused for good. An endpoint whose secret was never
delivered is deleted before its successor is created (its secret is lost anyway), so reruns fit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_helpers import (
    assert_no_changes,
    endpoints,
    invoke,
    read_dotenv,
    recorded,
    recording_command,
    spawn,
    write_manifest,
)

from reconciler.emulator.server import EmulatorServer
from reconciler.manifest.checks import MAX_WEBHOOK_ENDPOINTS

NAMES = tuple(f"ep{i:02d}" for i in range(MAX_WEBHOOK_ENDPOINTS))


def full_manifest() -> str:
    lines = ["version: 1", "webhook_endpoints:"]
    for name in NAMES:
        lines += [
            f"  {name}:",
            f"    url: https://hooks.example.com/{name}",
            "    enabled_events: [invoice.paid]",
        ]
    return "\n".join(lines) + "\n"


def assert_converged_at_the_limit(emulator: EmulatorServer, sink: Path, log: Path) -> None:
    """16 endpoints, one per name, none pending, each one's own secret in the sink."""
    live = endpoints(emulator)
    names = sorted(e["metadata"].get("reconciler_name") for e in live)
    assert names == list(NAMES), names
    assert not [e["id"] for e in live if "reconciler_secret_pending" in e["metadata"]]
    stored = read_dotenv(sink)
    deliveries = recorded(log)
    for endpoint in live:
        name = endpoint["metadata"]["reconciler_name"]
        mine = [d["secret"] for d in deliveries if d["webhook_endpoint_id"] == endpoint["id"]]
        assert mine, f"no secret was delivered for {endpoint['id']} ({name})"
        assert stored[f"STRIPE_WEBHOOK_SECRET_{name.upper()}"] == mine[-1]


def apply_recording(emulator: EmulatorServer, manifest: Path, sink: Path, log: Path) -> int:
    run = invoke(
        emulator,
        "apply",
        str(manifest),
        "--auto-approve",
        "--secrets-file",
        str(sink),
        "--secrets-command",
        recording_command(log),
    )
    return run.code


def test_a_failing_sink_at_the_limit_is_recovered_by_the_next_apply(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, full_manifest())
    failed = invoke(
        emulator, "apply", str(manifest), "--auto-approve", "--secrets-command", "exit 1"
    )
    assert failed.code == 1
    pending = [e for e in endpoints(emulator) if "reconciler_secret_pending" in e["metadata"]]
    assert pending, "the failing sink should leave endpoints whose secret was never delivered"

    plan = invoke(emulator, "plan", str(manifest))
    assert plan.code == 0, plan.stderr
    sink, log = tmp_path / "s.env", tmp_path / "deliveries.jsonl"
    assert apply_recording(emulator, manifest, sink, log) == 0
    assert_converged_at_the_limit(emulator, sink, log)
    assert_no_changes(emulator, manifest)


@pytest.mark.parametrize("crash_after", [3, 20])
def test_a_killed_apply_at_the_limit_converges(
    emulator: EmulatorServer, tmp_path: Path, crash_after: int
) -> None:
    manifest = write_manifest(tmp_path, full_manifest())
    sink, log = tmp_path / "s.env", tmp_path / "deliveries.jsonl"
    args = ("apply", str(manifest), "--auto-approve", "--secrets-file", str(sink))
    killed = spawn(
        emulator,
        *args,
        "--secrets-command",
        recording_command(log),
        extra_env={"STRIPE_RECONCILER_TEST_CRASH_AFTER": str(crash_after)},
    )
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    for _ in range(3):
        if apply_recording(emulator, manifest, sink, log) == 0:
            break
    assert_converged_at_the_limit(emulator, sink, log)
    assert_no_changes(emulator, manifest)


# The fault mix at the limit runs in tests/chaos/test_chaos_limit.py, in-process with
# fast retries: through the CLI its default back-off made one run take over 30 s.


def versioned_manifest(pinned: dict[str, str]) -> str:
    lines = ["version: 1", "webhook_endpoints:"]
    for name in NAMES[:15]:
        lines += [
            f"  {name}:",
            f"    url: https://hooks.example.com/{name}",
            "    enabled_events: [invoice.paid]",
        ]
        if name in pinned:
            lines.append(f"    api_version: {pinned[name]}")
    return "\n".join(lines) + "\n"


def test_an_interrupted_replace_one_place_below_the_limit_converges(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Review finding 1: 15 endpoints and two create-only changes fit (one place for the
    replaces); a failing sink stops the first replace after its new endpoint exists, so 16
    exist, one of them the old twin to delete. Its delete now runs first and frees the place
    the second replace needs; it used to be counted as live, and every rerun was refused."""
    old = {"ep00": "2026-08-26.dahlia", "ep01": "2026-08-26.dahlia"}
    manifest = write_manifest(tmp_path, versioned_manifest(old))
    sink, log = tmp_path / "s.env", tmp_path / "deliveries.jsonl"
    assert apply_recording(emulator, manifest, sink, log) == 0
    manifest.write_text(versioned_manifest(dict.fromkeys(old, "2026-09-30.endive")))
    failed = invoke(
        emulator,
        "apply",
        str(manifest),
        "--auto-approve",
        "--parallelism",
        "1",
        "--secrets-command",
        "exit 1",
    )
    assert failed.code == 1
    assert len(endpoints(emulator)) == 16
    assert apply_recording(emulator, manifest, sink, log) == 0
    live = endpoints(emulator)
    assert len(live) == 15
    assert {e["api_version"] for e in live if e["metadata"]["reconciler_name"] in old} == {
        "2026-09-30.endive"
    }
    assert_no_changes(emulator, manifest)

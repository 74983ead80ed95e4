"""End-to-end: apply under injected faults and after SIGKILL converges with no duplicates and
every secret kept."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from apply_helpers import (
    KEY,
    MANIFEST,
    assert_converged,
    assert_no_changes,
    endpoints,
    invoke,
    recorded,
    recording_command,
    spawn,
    write_manifest,
)

from reconciler.apply.executor import CRASH_HOOK_ENV
from reconciler.apply.secrets import CommandSink, FileSink, SecretSinks
from reconciler.apply.session import apply_session
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest import load_manifests
from reconciler.stripe import StripeConfig

NEW_VERSION = "    api_version: 2026-08-26.dahlia\n"
#: orders with a new api_version: a replace
NEW_VERSION_MANIFEST = MANIFEST.replace("    metadata: {team", NEW_VERSION + "    metadata: {team")


def recording_sinks(directory: Path) -> tuple[Path, Path, list[str]]:
    """A secrets file and a recording command; the file, the log and their apply arguments."""
    sink, log = directory / "s.env", directory / "log.jsonl"
    return sink, log, ["--secrets-file", str(sink), "--secrets-command", recording_command(log)]


def killed_by_crash_hook(emulator: EmulatorServer, crash_after: int, *args: str) -> tuple[str, str]:
    """Run the CLI in its own process until the crash hook SIGKILLs it after write N."""
    process = spawn(emulator, *args, extra_env={CRASH_HOOK_ENV: str(crash_after)})
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr
    return stdout, stderr


def test_dropped_answers_and_429s_converge_without_duplicates(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path)
    desired = load_manifests([str(manifest)]).manifest
    sink, log = tmp_path / "s.env", tmp_path / "log.jsonl"
    sinks = SecretSinks([FileSink(sink), CommandSink(recording_command(log))])
    emulator.configure(seed=7, rates={"drop_after": 0.3, "429": 0.2})
    config = StripeConfig(
        api_key=KEY,
        api_base=emulator.base_url,
        max_attempts=25,
        backoff_initial=0.002,
        backoff_max=0.02,
        deadline=120.0,  # one deadline for the whole session, as a command has
    )
    outcome = asyncio.run(apply_session(config, desired, sinks, parallelism=4))
    assert outcome.result is not None and outcome.result.ok, outcome.result
    requests = emulator.requests()
    faults = [r["fault"] for r in requests if r["fault"]]
    assert faults.count("drop_after") >= 3 and faults.count("429") >= 2, faults
    emulator.configure(rates={})
    assert_converged(emulator, sink, log)
    # a dropped create was retried with its key: the retry replayed, it did not create again
    creates = [
        r for r in requests if r["method"] == "POST" and r["path"] == "/v1/webhook_endpoints"
    ]
    assert len({r["idempotency_key"] for r in creates}) == 2
    assert_no_changes(emulator, manifest)


# Milestones with --parallelism 1: 1 tax settings, 2 create alerts (committed, secret not yet
# kept), 3 its secret delivered (marker still on), 4 alerts disabled, 5 marker removed,
# 6 create orders, 7 delivered, 8 confirmed, 9 create us-ca, 10 create us-ny.
@pytest.mark.parametrize("crash_after", [2, 3, 4, 6, 9])
def test_sigkill_then_apply_again_converges(
    emulator: EmulatorServer, tmp_path: Path, crash_after: int
) -> None:
    manifest = write_manifest(tmp_path)
    sink, log, sink_args = recording_sinks(tmp_path)
    stdout, stderr = killed_by_crash_hook(
        emulator,
        crash_after,
        "--log-level",
        "debug",
        "apply",
        str(manifest),
        "--auto-approve",
        "--parallelism",
        "1",
        *sink_args,
    )
    for delivery in recorded(log):
        assert delivery["secret"] not in stdout + stderr
    assert endpoints(emulator) or crash_after < 2

    again = invoke(emulator, "apply", str(manifest), "--auto-approve", *sink_args)
    assert again.code == 0, again.stderr
    if crash_after in (2, 3, 4):
        # the alerts endpoint's secret may never have been kept: it is replaced, not trusted
        assert "webhook_endpoints.alerts: replace" in again.stdout
    assert_converged(emulator, sink, log)
    assert_no_changes(emulator, manifest)
    for delivery in recorded(log):
        assert delivery["secret"] not in again.stdout + again.stderr


# Replacing orders (api_version changed), --parallelism 1: 1 create the new endpoint, 2 its
# secret delivered, 3 marker removed, then the old one is deleted.
@pytest.mark.parametrize("crash_after", [1, 3])
def test_sigkill_during_a_replace_converges(
    emulator: EmulatorServer, tmp_path: Path, crash_after: int
) -> None:
    manifest = write_manifest(tmp_path)
    sink, log, sink_args = recording_sinks(tmp_path)
    first = invoke(emulator, "apply", str(manifest), "--auto-approve", *sink_args)
    assert first.code == 0, first.stderr
    old = {e["metadata"]["reconciler_name"]: e["id"] for e in endpoints(emulator)}["orders"]
    write_manifest(tmp_path, NEW_VERSION_MANIFEST)
    killed_by_crash_hook(
        emulator,
        crash_after,
        "apply",
        str(manifest),
        "--auto-approve",
        "--parallelism",
        "1",
        *sink_args,
    )
    assert len(endpoints(emulator)) == 3  # old and new side by side at the kill

    again = invoke(emulator, "apply", str(manifest), "--auto-approve", *sink_args)
    assert again.code == 0, again.stderr
    assert_converged(emulator, sink, log)
    orders = [e for e in endpoints(emulator) if e["metadata"]["reconciler_name"] == "orders"]
    assert [e["api_version"] for e in orders] == ["2026-08-26.dahlia"]
    assert orders[0]["id"] != old
    assert_no_changes(emulator, manifest)


@pytest.mark.parametrize("crash_after", [2, 9])
def test_sigkill_during_apply_of_a_saved_plan_then_the_same_plan_converges(
    emulator: EmulatorServer, tmp_path: Path, crash_after: int
) -> None:
    manifest = write_manifest(tmp_path)
    plan_file = tmp_path / "stripe.plan.json"
    made = invoke(emulator, "plan", str(manifest), "--out", str(plan_file))
    assert made.code == 0, made.stderr
    sink, log, sink_args = recording_sinks(tmp_path)
    killed_by_crash_hook(
        emulator,
        crash_after,
        "apply",
        "--plan",
        str(plan_file),
        "--parallelism",
        "1",
        *sink_args,
    )

    # the interrupted plan's own progress does not make it stale
    again = invoke(emulator, "apply", "--plan", str(plan_file), *sink_args)
    assert again.code == 0, again.stderr
    assert_converged(emulator, sink, log)
    assert_no_changes(emulator, manifest)
    # and once everything is done, the same plan is a no-op
    done = invoke(emulator, "apply", "--plan", str(plan_file), *sink_args)
    assert done.code == 0, done.stderr
    assert "No changes." in done.stdout


@pytest.mark.parametrize("crash_after", [1, 3])
def test_sigkill_during_a_saved_replace_then_the_same_plan_converges(
    emulator: EmulatorServer, tmp_path: Path, crash_after: int
) -> None:
    manifest = write_manifest(tmp_path)
    sink, log, sink_args = recording_sinks(tmp_path)
    assert invoke(emulator, "apply", str(manifest), "--auto-approve", *sink_args).code == 0
    write_manifest(tmp_path, NEW_VERSION_MANIFEST)
    plan_file = tmp_path / "stripe.plan.json"
    assert invoke(emulator, "plan", str(manifest), "--out", str(plan_file)).code == 0
    killed_by_crash_hook(
        emulator,
        crash_after,
        "apply",
        "--plan",
        str(plan_file),
        *sink_args,
    )
    again = invoke(emulator, "apply", "--plan", str(plan_file), *sink_args)
    assert again.code == 0, again.stderr
    assert_converged(emulator, sink, log)
    assert_no_changes(emulator, manifest)

"""End-to-end: ``apply --plan FILE`` — staleness, account checks, concurrent applies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from apply_helpers import (
    KEY,
    MANIFEST,
    assert_converged,
    endpoints,
    invoke,
    live_registrations,
    recording_command,
    write_manifest,
    writes,
)

from reconciler.apply.secrets import CommandSink, FileSink, SecretSinks
from reconciler.apply.session import apply_session
from reconciler.emulator.server import EmulatorServer
from reconciler.plan.planfile import load_plan_file
from reconciler.stripe import StripeConfig


def save_plan(emulator: EmulatorServer, manifest: Path, out: Path) -> None:
    run = invoke(emulator, "plan", str(manifest), "--out", str(out))
    assert run.code == 0, run.stderr


def test_saved_plan_applies_without_manifests(emulator: EmulatorServer, tmp_path: Path) -> None:
    plan_file = tmp_path / "stripe.plan.json"
    save_plan(emulator, write_manifest(tmp_path), plan_file)
    write_manifest(tmp_path).unlink()  # the plan is self-contained
    sink = tmp_path / "s.env"
    log = tmp_path / "log.jsonl"
    run = invoke(
        emulator,
        "apply",
        "--plan",
        str(plan_file),
        "--secrets-file",
        str(sink),
        "--secrets-command",
        recording_command(log),
    )
    assert run.code == 0, run.stderr
    assert_converged(emulator, sink, log)


def test_stale_plan_is_refused_and_nothing_is_written(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path)
    first = invoke(
        emulator, "apply", str(manifest), "--auto-approve", "--secrets-file", str(tmp_path / "s")
    )
    assert first.code == 0, first.stderr
    write_manifest(tmp_path, MANIFEST.replace("description: On-call", "description: Paging"))
    plan_file = tmp_path / "stripe.plan.json"
    save_plan(emulator, manifest, plan_file)
    orders = next(e for e in endpoints(emulator) if e["metadata"]["reconciler_name"] == "orders")
    # someone edits the endpoint in the Dashboard after the plan was reviewed
    response = httpx.post(
        f"{emulator.base_url}/v1/webhook_endpoints/{orders['id']}",
        data={"url": "https://elsewhere.example.com/hooks"},
        auth=(KEY, ""),
    )
    assert response.status_code == 200
    before = len(writes(emulator))
    run = invoke(emulator, "apply", "--plan", str(plan_file), "--secrets-file", str(tmp_path / "s"))
    assert run.code == 1
    assert run.stderr.startswith(
        "Error: the saved plan is stale: Stripe changed since it was made, so it is not what "
        "would happen now. Nothing was applied. Changes:\n"
    )
    assert "  webhook_endpoints.orders: not in the plan, now needs update " + orders["id"] in (
        run.stderr
    )
    assert run.stderr.rstrip().endswith("Run plan again, review it, and apply the new plan.")
    assert len(writes(emulator)) == before
    alerts = next(e for e in endpoints(emulator) if e["metadata"]["reconciler_name"] == "alerts")
    assert alerts["description"] == "On-call"


def test_plan_for_another_account_is_refused(emulator: EmulatorServer, tmp_path: Path) -> None:
    plan_file = tmp_path / "stripe.plan.json"
    save_plan(emulator, write_manifest(tmp_path), plan_file)
    other_key = "sk_test_" + "b" * 16
    run = invoke(
        emulator,
        "apply",
        "--plan",
        str(plan_file),
        "--secrets-file",
        str(tmp_path / "s"),
        key=other_key,
    )
    assert run.code == 1
    account = load_plan_file(plan_file.read_text()).account_id
    assert run.stderr.startswith(f"Error: the plan was made for account {account} but the key ")
    assert writes(emulator) == []


def test_same_saved_plan_applied_twice_at_once_creates_each_object_once(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    plan_file = tmp_path / "stripe.plan.json"
    save_plan(emulator, write_manifest(tmp_path), plan_file)
    saved = load_plan_file(plan_file.read_text())
    # latency keeps both applies in flight together
    emulator.configure(latency_ms=15, seed=3)
    config = StripeConfig(api_key=KEY, api_base=emulator.base_url, backoff_initial=0.01)
    logs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    sinks = [
        SecretSinks([FileSink(tmp_path / f"{n}.env"), CommandSink(recording_command(log))])
        for n, log in zip("ab", logs, strict=True)
    ]

    async def both() -> list[object]:
        return list(
            await asyncio.gather(
                *(apply_session(config, saved.desired, s, saved=saved) for s in sinks)
            )
        )

    outcomes = asyncio.run(both())
    assert all(o.result is not None and o.result.ok for o in outcomes)  # type: ignore[attr-defined]
    emulator.configure(latency_ms=0)
    assert len(endpoints(emulator)) == 2
    assert len(live_registrations(emulator)) == 2
    creates = [
        r
        for r in emulator.requests()
        if r["method"] == "POST" and r["path"] == "/v1/webhook_endpoints"
    ]
    # each endpoint was created by exactly one request; the other apply's got the replay
    assert len([r for r in creates if r["status"] == 200 and not r["replayed"]]) == 2
    assert len([r for r in creates if r["status"] == 200 and r["replayed"]]) == 2
    assert_converged(emulator, tmp_path / "a.env", logs[0])
    assert_converged(emulator, tmp_path / "b.env", logs[1])

"""End-to-end: an endpoint whose secret was never delivered is replaced, as `plan` shows."""

from __future__ import annotations

from pathlib import Path

import httpx
from apply_helpers import KEY, endpoints, invoke, read_dotenv, write_manifest, writes

from reconciler.emulator.server import EmulatorServer

MANIFEST = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
"""


def _create(api: httpx.Client, url: str, **metadata: str) -> str:
    data = {"url": url, "enabled_events[0]": "invoice.paid"}
    data.update({f"metadata[{k}]": v for k, v in metadata.items()})
    answer = api.post("/v1/webhook_endpoints", data=data)
    assert answer.status_code == 200, answer.text
    endpoint_id: str = answer.json()["id"]
    return endpoint_id


ORDERS = {
    "managed_by": "stripe-reconciler",
    "reconciler_name": "orders",
    "reconciler_connect": "false",
    "reconciler_secret_pending": "true",
}


def test_a_pending_secret_is_recovered_with_a_replace(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        pending = _create(api, "https://shop.example.com/hooks", **ORDERS)
    sink = tmp_path / "s.env"
    run = invoke(
        emulator,
        "apply",
        str(write_manifest(tmp_path, MANIFEST)),
        "--auto-approve",
        "--secrets-file",
        str(sink),
    )
    assert run.code == 0, run.stderr
    assert "its signing secret was never delivered" in run.stdout
    assert "1 to replace" in run.stdout
    (new,) = endpoints(emulator)
    assert new["id"] != pending
    assert "reconciler_secret_pending" not in new["metadata"]
    assert read_dotenv(sink)["STRIPE_WEBHOOK_SECRET_ORDERS"].startswith("whsec_")


def test_recovery_at_the_endpoint_limit_deletes_the_undelivered_one_first(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        for number in range(15):
            _create(api, f"https://other{number}.example.com/hooks")
        pending = _create(api, "https://shop.example.com/hooks", **ORDERS)
    sink = tmp_path / "s.env"
    run = invoke(
        emulator,
        "apply",
        str(write_manifest(tmp_path, MANIFEST)),
        "--auto-approve",
        "--secrets-file",
        str(sink),
    )
    assert run.code == 0, run.stderr
    assert f"deleted {pending} before creating its successor" in run.stdout
    live = endpoints(emulator)
    assert len(live) == 16 and pending not in {e["id"] for e in live}
    assert read_dotenv(sink)["STRIPE_WEBHOOK_SECRET_ORDERS"].startswith("whsec_")


def test_plan_shows_the_replace_and_the_saved_plan_applies_as_shown(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        pending = _create(api, "https://shop.example.com/hooks", **ORDERS)
    manifest = write_manifest(tmp_path, MANIFEST)
    plan_file = tmp_path / "stripe.plan.json"
    made = invoke(emulator, "plan", str(manifest), "--out", str(plan_file))
    assert made.code == 0, made.stderr
    assert "its signing secret was never delivered" in made.stdout
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 0 to expire." in made.stdout
    assert f"the signing secret of {pending} was never delivered" in made.stdout + made.stderr
    sink = tmp_path / "s.env"
    # the saved plan and the one apply recomputes agree, so it is not stale
    run = invoke(emulator, "apply", "--plan", str(plan_file), "--secrets-file", str(sink))
    assert run.code == 0, run.stderr
    (new,) = endpoints(emulator)
    assert new["id"] != pending
    assert read_dotenv(sink)["STRIPE_WEBHOOK_SECRET_ORDERS"].startswith("whsec_")


def test_protect_refuses_the_replace_before_any_write(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        pending = _create(api, "https://shop.example.com/hooks", **ORDERS)
    before = len(writes(emulator))
    protected = MANIFEST + "    lifecycle: {protect: true}\n"
    run = invoke(
        emulator,
        "apply",
        str(write_manifest(tmp_path, protected)),
        "--auto-approve",
        "--force",
        "--secrets-file",
        str(tmp_path / "s.env"),
    )
    assert run.code == 1
    assert run.stderr.startswith("Error: 1 protected resource(s) would be destroyed")
    assert "webhook_endpoints.orders: the signing secret was never delivered" in run.stderr
    assert "remove lifecycle.protect so apply can replace it" in run.stderr
    assert len(writes(emulator)) == before
    assert [e["id"] for e in endpoints(emulator)] == [pending]

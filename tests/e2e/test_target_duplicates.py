"""End-to-end: ``--target`` on a name with duplicate tagged endpoints converges (issue 13.2).

An interrupted replace can leave two endpoints tagged with one name, both with an undelivered
secret. The plan keeps one, replaces it to get a secret, and deletes the other; that delete is
part of the name's own address (``webhook_endpoints.x[we_…]``), so ``--target
webhook_endpoints.x`` includes it. It used to be dropped, and the apply then took the duplicate
for another apply's endpoint, deleted its own new one and never converged.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from apply_helpers import KEY, assert_no_changes, endpoints, invoke, read_dotenv, write_manifest

from reconciler.emulator.server import EmulatorServer

MANIFEST = """\
version: 1
webhook_endpoints:
  x:
    url: https://x.example.com/hooks
    enabled_events: [invoice.paid]
  y:
    url: https://y.example.com/hooks
    enabled_events: [invoice.paid]
"""
TAGS = {
    "managed_by": "stripe-reconciler",
    "reconciler_name": "x",
    "reconciler_connect": "false",
    "reconciler_secret_pending": "true",
}


def seed_two_pending(emulator: EmulatorServer) -> set[str]:
    ids = set()
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        for _ in range(2):
            data = {"url": "https://x.example.com/hooks", "enabled_events[0]": "invoice.paid"}
            data.update({f"metadata[{k}]": v for k, v in TAGS.items()})
            answer = api.post("/v1/webhook_endpoints", data=data)
            assert answer.status_code == 200, answer.text
            ids.add(answer.json()["id"])
    return ids


@pytest.mark.parametrize("target", [("--target", "webhook_endpoints.x"), ()], ids=["x", "all"])
def test_target_includes_the_cleanup_of_its_own_duplicates(
    emulator: EmulatorServer, tmp_path: Path, target: tuple[str, ...]
) -> None:
    old = seed_two_pending(emulator)
    manifest = write_manifest(tmp_path, MANIFEST)
    plan = invoke(emulator, "plan", str(manifest), *target)
    assert plan.code == 0, plan.stderr
    assert "1 to replace, 1 to delete" in plan.stdout
    sink = tmp_path / "s.env"
    run = invoke(
        emulator, "apply", str(manifest), *target, "--auto-approve", "--secrets-file", str(sink)
    )
    assert run.code == 0, run.stdout + run.stderr
    xs = [e for e in endpoints(emulator) if e["metadata"].get("reconciler_name") == "x"]
    assert len(xs) == 1 and xs[0]["id"] not in old
    assert "reconciler_secret_pending" not in xs[0]["metadata"]
    assert read_dotenv(sink)["STRIPE_WEBHOOK_SECRET_X"].startswith("whsec_")
    assert_no_changes(emulator, manifest, *target)
    # the same again, as a CI re-run would: nothing left to do
    again = invoke(
        emulator, "apply", str(manifest), *target, "--auto-approve", "--secrets-file", str(sink)
    )
    assert again.code == 0 and "No changes." in again.stdout

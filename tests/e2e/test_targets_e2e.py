"""End-to-end: ``--target`` typos are errors in plan and apply; a saved plan keeps its targets.

A typo used to print ``No changes.`` and exit 0. A saved plan's targets are not checked again at
apply time: the leftover a target names is gone once the plan has run, and running the same
``apply --plan`` again must still converge (it is a no-op then).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from apply_helpers import KEY, endpoints, invoke, write_manifest, writes

from reconciler.emulator.server import EmulatorServer

MANIFEST = """\
version: 1
policy: {unmanaged: delete}
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
"""


def _leftover(emulator: EmulatorServer) -> str:
    """An endpoint nothing declares (made in the Dashboard, say)."""
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        response = api.post(
            "/v1/webhook_endpoints",
            data={"url": "https://old.example.com/x", "enabled_events[]": "invoice.paid"},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])


def test_plan_refuses_unknown_targets_with_a_suggestion(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    run = invoke(emulator, "plan", str(manifest), "--target", "bogus")
    assert (run.code, run.stdout) == (1, "")
    assert run.stderr.startswith("Error: unknown --target 'bogus': 'bogus' is not a kind (")
    run = invoke(emulator, "plan", str(manifest), "--target", "webhook_endpoints.order")
    assert (run.code, run.stdout) == (1, "")
    assert run.stderr == (
        "Error: unknown --target 'webhook_endpoints.order': no webhook_endpoints named 'order' "
        "is declared; did you mean 'webhook_endpoints.orders'?\n"
    )


def test_apply_refuses_an_unknown_target_before_any_write(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    run = invoke(
        emulator,
        "apply",
        str(manifest),
        "--auto-approve",
        "--secrets-file",
        str(tmp_path / "s.env"),
        "--target",
        "webhook_endpoints.nope",
    )
    assert run.code == 1
    assert run.stderr.startswith("Error: unknown --target 'webhook_endpoints.nope'")
    assert writes(emulator) == []


def test_a_saved_plan_targeting_a_leftover_applies_and_reapplies(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, MANIFEST)
    leftover = _leftover(emulator)
    plan_file = tmp_path / "plan.json"
    target = f"webhook_endpoints[{leftover}]"
    run = invoke(emulator, "plan", str(manifest), "--target", target, "--out", str(plan_file))
    assert run.code == 0, run.stderr
    assert f"- {target}: delete" in run.stdout
    for _ in range(2):  # the second run finds the target gone, and has nothing to do
        run = invoke(emulator, "apply", "--plan", str(plan_file))
        assert run.code == 0, run.stderr
    assert endpoints(emulator) == []
    deletes = [w for w in writes(emulator) if w["method"] == "DELETE"]
    assert [d["path"] for d in deletes] == [f"/v1/webhook_endpoints/{leftover}"]

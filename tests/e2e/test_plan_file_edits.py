"""End-to-end: an edited plan file is refused even with a recomputed checksum (issue 13.13).

The checksum only says the file is intact; anyone who can edit the file can recompute it. So
``apply --plan`` recomputes the plan from the manifests the file carries and live state, and
refuses a file whose actions are not what those manifests give — including actions the
recomputation lacks that Stripe does not show as done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import endpoints, invoke, writes

from reconciler.emulator.server import EmulatorServer
from reconciler.plan.model import sha256_of

MANIFEST = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
  billing:
    url: https://shop.example.com/billing
    enabled_events: [invoice.paid]
"""
#: the same, with billing's events changed: the saved plan is one update of billing
CHANGED = MANIFEST.replace(
    "billing\n    enabled_events: [invoice.paid]", "billing\n    enabled_events: [charge.failed]"
)


def reseal(path: Path, edit: Any) -> None:
    """Edit the file's JSON and recompute both checksums, as a forger would."""
    data = json.loads(path.read_text())
    edit(data)
    data["plan_checksum"] = sha256_of(data["plan"])
    data.pop("checksum")
    data["checksum"] = sha256_of(data)
    path.write_text(json.dumps(data))


def setup(emulator: EmulatorServer, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Both endpoints live and in sync; then a plan that only changes billing's events."""
    manifest = tmp_path / "stripe.yaml"
    manifest.write_text(MANIFEST)
    run = invoke(
        emulator, "apply", str(manifest), "--auto-approve", "--secrets-file", str(tmp_path / "s")
    )
    assert run.code == 0, run.stderr
    manifest.write_text(CHANGED)
    plan_file = tmp_path / "plan.json"
    saved = invoke(emulator, "plan", str(manifest), "--out", str(plan_file))
    assert saved.code == 0, saved.stderr
    assert "1 to update" in saved.stdout
    ids = {e["metadata"]["reconciler_name"]: e["id"] for e in endpoints(emulator)}
    return plan_file, ids


def test_an_added_delete_of_an_unchanged_endpoint_is_refused(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    plan_file, ids = setup(emulator, tmp_path)

    def add_delete(data: dict[str, Any]) -> None:
        data["plan"]["actions"].append(
            {
                "kind": "webhook_endpoints",
                "address": f"webhook_endpoints.orders[{ids['orders']}]",
                "action": "delete",
                "reason": "edited in",
                "live_id": ids["orders"],
                "changes": [],
                "requests": [
                    {
                        "step": "delete",
                        "method": "DELETE",
                        "path": f"/v1/webhook_endpoints/{ids['orders']}",
                        "params": {},
                    }
                ],
                "warnings": [],
                "fingerprint": None,
                "protected": False,
            }
        )

    reseal(plan_file, add_delete)
    before = len(writes(emulator))
    run = invoke(emulator, "apply", "--plan", str(plan_file))
    assert run.code == 1
    assert "the plan file's actions do not follow from the manifests it carries" in run.stderr
    assert f"webhook_endpoints.orders[{ids['orders']}]" in run.stderr
    assert len(writes(emulator)) == before


@pytest.mark.parametrize("field", ["reason", "requests"])
def test_an_edited_action_is_refused(emulator: EmulatorServer, tmp_path: Path, field: str) -> None:
    plan_file, _ = setup(emulator, tmp_path)

    def edit(data: dict[str, Any]) -> None:
        (action,) = data["plan"]["actions"]
        if field == "reason":
            action["reason"] = "nothing to see here"
        else:
            action["requests"][0]["params"]["url"] = "https://evil.example.com/hooks"

    reseal(plan_file, edit)
    before = len(writes(emulator))
    run = invoke(emulator, "apply", "--plan", str(plan_file))
    assert run.code == 1, run.stdout
    assert len(writes(emulator)) == before


def test_an_added_create_of_what_already_exists_is_refused(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    plan_file, _ = setup(emulator, tmp_path)

    def add_create(data: dict[str, Any]) -> None:
        (update,) = data["plan"]["actions"]
        data["plan"]["actions"].append(
            {**update, "address": "webhook_endpoints.orders", "action": "create", "live_id": None}
        )

    reseal(plan_file, add_create)
    run = invoke(emulator, "apply", "--plan", str(plan_file))
    assert run.code == 1
    assert "webhook_endpoints.orders: the file plans create, but the manifests" in run.stderr


def test_the_genuine_file_applies_and_then_is_a_no_op(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    plan_file, _ = setup(emulator, tmp_path)
    first = invoke(emulator, "apply", "--plan", str(plan_file))
    assert first.code == 0, first.stderr
    again = invoke(emulator, "apply", "--plan", str(plan_file))
    assert again.code == 0, again.stderr
    assert "No changes." in again.stdout


def test_a_file_without_its_account_is_refused(emulator: EmulatorServer, tmp_path: Path) -> None:
    """Review finding 9: plan --out always records the account, so a null id comes only from
    an edit, and it used to let the file apply to any account."""
    plan_file, _ = setup(emulator, tmp_path)
    reseal(plan_file, lambda data: data["account"].update(id=None))
    before = len(writes(emulator))
    run = invoke(emulator, "apply", "--plan", str(plan_file))
    assert run.code == 1
    assert "the plan file records no account" in run.stderr
    assert len(writes(emulator)) == before

"""End-to-end against the emulator: stale idempotent replays and windows of one natural key.

Review findings 1 and 3: a re-run of a byte-identical plan after an out-of-band delete must
create again rather than trust Stripe's replay, and a scheduled successor must be created even
though the current registration of the same key exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from apply_helpers import KEY, endpoints, invoke, list_all, read_dotenv, write_manifest

from reconciler.emulator.server import EmulatorServer

ONE_OF_EACH = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
tax_registrations:
  ca:
    country: US
    country_options: {us: {type: state_sales_tax, state: CA}}
"""


@pytest.fixture(autouse=True)
def head_office(emulator: EmulatorServer) -> None:
    """Set outside the manifests, so that a re-run plans byte for byte the same."""
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        api.post("/v1/tax/settings", data={"head_office[address][country]": "US"})


SWITCH = 1_812_153_600  # 2027-06-05T00:00:00Z
SEQUENCE = """\
version: 1
tax_registrations:
  b-current:
    country: US
    country_options: {us: {type: state_sales_tax, state: CA}}
    active_from: now
    expires_at: 2027-06-05T00:00:00Z
  a-next:
    country: US
    country_options: {us: {type: state_sales_tax, state: CA}}
    active_from: 2027-06-05T00:00:00Z
"""


def test_reapplying_the_same_plan_after_an_out_of_band_delete_creates_again(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, ONE_OF_EACH)
    sink = tmp_path / "secrets.env"
    args = ("apply", str(manifest), "--auto-approve", "--secrets-file", str(sink))
    first = invoke(emulator, *args)
    assert first.code == 0, first.stderr
    (endpoint,) = endpoints(emulator)
    (registration,) = list_all(emulator, "/v1/tax/registrations", status="all")
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        assert api.delete(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 200
        ended = api.post(f"/v1/tax/registrations/{registration['id']}", data={"expires_at": "now"})
        assert ended.json()["status"] == "expired"
    emulator.advance_clock(5)

    second = invoke(emulator, *args)
    assert second.code == 0, second.stderr
    assert f"Stripe replayed an earlier create of {endpoint['id']}, which was deleted" in (
        second.stdout
    )
    assert f"Stripe replayed an earlier create of {registration['id']}, which has become " in (
        second.stdout
    )
    (recreated,) = endpoints(emulator)
    assert recreated["id"] != endpoint["id"]
    statuses = sorted(
        (r["id"] == registration["id"], r["status"])
        for r in list_all(emulator, "/v1/tax/registrations", status="all")
    )
    assert statuses == [(False, "active"), (True, "expired")]
    # the sink holds the new endpoint's secret (the replay's was for the deleted one)
    secret = read_dotenv(sink)["STRIPE_WEBHOOK_SECRET_ORDERS"]
    assert secret.startswith("whsec_")
    assert secret != first.stdout  # never printed
    recorded_first = [r for r in emulator.requests() if r["path"] == "/v1/webhook_endpoints"]
    assert sum(1 for r in recorded_first if r["method"] == "POST" and r["replayed"]) == 1
    plan = invoke(emulator, "plan", str(manifest), "--detailed-exitcode")
    assert plan.code == 0, plan.stdout


def _current_registration(emulator: EmulatorServer) -> dict[str, Any]:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        answer: dict[str, Any] = api.post(
            "/v1/tax/registrations",
            data={
                "country": "US",
                "country_options[us][type]": "state_sales_tax",
                "country_options[us][state]": "CA",
                "active_from": "now",
                "expires_at": str(SWITCH),
            },
        ).json()
    return answer


def _registration_creates(emulator: EmulatorServer) -> int:
    return sum(
        1
        for r in emulator.requests()
        if r["method"] == "POST" and r["path"] == "/v1/tax/registrations"
    )


def test_apply_sends_the_successor_create_instead_of_claiming_the_current_one(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    _current_registration(emulator)
    manifest = write_manifest(tmp_path, SEQUENCE)
    run = invoke(emulator, "apply", str(manifest), "--auto-approve")
    # the plan's reason stays true: a registration of this key exists, for the other window
    assert "# no active or scheduled registration of this natural key is left for this " in (
        run.stdout
    )
    # before the fix apply answered "already exists as <the current one>" and reported Created
    assert _registration_creates(emulator) == 2


def test_a_scheduled_successor_is_created_next_to_the_current_registration(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    current = _current_registration(emulator)
    manifest = write_manifest(tmp_path, SEQUENCE)
    run = invoke(emulator, "apply", str(manifest), "--auto-approve")
    assert run.code == 0, run.stderr
    assert "already exists" not in run.stdout
    live = list_all(emulator, "/v1/tax/registrations", status="all")
    windows = sorted((r["status"], r["active_from"], r["expires_at"]) for r in live)
    assert windows == [
        ("active", current["active_from"], SWITCH),
        ("scheduled", SWITCH, None),
    ]
    plan = invoke(emulator, "plan", str(manifest), "--detailed-exitcode")
    assert plan.code == 0, plan.stdout

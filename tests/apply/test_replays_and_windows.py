"""Replayed creates are checked (finding 1); the registration lookup respects windows (finding 3).

Against the in-memory fake, which flags a repeated key's answer as a replay as Stripe does.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from apply_fakes import FakeStripe

from reconciler.apply.executor import ApplyTarget, execute_plan
from reconciler.apply.idempotency import derived_key
from reconciler.apply.progress import ProgressEvent, Status
from reconciler.apply.secrets import FileSink, SecretSinks
from reconciler.manifest.model import Manifest
from reconciler.plan import ActionType, Plan, build_plan
from reconciler.resources.base import LiveState

TARGET = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c1")
ENDPOINT = {"url": "https://example.com/a", "enabled_events": ["invoice.paid"]}
CA = {"us": {"type": "state_sales_tax", "state": "CA"}}
SWITCH = 1_812_153_600  # 2027-06-05


def manifest(**sections: Any) -> Manifest:
    return Manifest.model_validate({"version": 1, **sections})


def plan_for(fake: FakeStripe, desired: Manifest) -> Plan:
    live = LiveState(
        objects={
            "webhook_endpoints": tuple(fake.endpoints.values()),
            "tax_registrations": tuple(fake.registrations.values()),
        }
    )
    return build_plan(desired, live)


def apply(fake: FakeStripe, plan: Plan, sink: Path, events: list[ProgressEvent]) -> Any:
    sinks = SecretSinks([FileSink(sink)])
    return asyncio.run(execute_plan(plan, fake, TARGET, sinks, on_event=events.append))


def creates(fake: FakeStripe, path: str) -> list[str | None]:
    """The idempotency keys of the creates sent to ``path``, in order."""
    return [key for method, p, _, key in fake.calls if method == "POST" and p == path]


def gets(fake: FakeStripe) -> list[str]:
    return [p for method, p, _, _ in fake.calls if method == "GET"]


def notes(events: list[ProgressEvent]) -> list[str]:
    return [e.message for e in events if e.event == "note"]


def test_a_replayed_create_of_a_deleted_endpoint_creates_it_again(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(webhook_endpoints={"orders": ENDPOINT})
    plan = plan_for(fake, desired)
    assert apply(fake, plan, tmp_path / "s.env", []).ok
    (first,) = fake.endpoints
    del fake.endpoints[first]  # deleted in the Dashboard
    # within the key window the same plan is made again, byte for byte
    again = plan_for(fake, desired)
    assert again.checksum == plan.checksum
    events: list[ProgressEvent] = []
    result = apply(fake, again, tmp_path / "s.env", events)
    assert result.ok
    (second,) = fake.endpoints
    assert second != first
    assert [(r.status, r.stripe_id) for r in result.results] == [(Status.DONE, second)]
    key, same_key, derived = creates(fake, "/v1/webhook_endpoints")
    assert same_key == key and derived == derived_key(key, first)
    assert (
        f"Stripe replayed an earlier create of {first}, which was deleted since; "
        in (notes(events)[0])
    )
    assert FileSink(tmp_path / "s.env").read() == {
        "STRIPE_WEBHOOK_SECRET_ORDERS": f"whsec_fake{second}"
    }
    assert "reconciler_secret_pending" not in fake.endpoints[second]["metadata"]
    assert not plan_for(fake, desired).has_changes


def test_a_replay_of_an_endpoint_that_still_exists_brings_its_secret_back(
    tmp_path: Path,
) -> None:
    # the first apply died after the create (its confirm failed): the re-run replays the create
    fake = FakeStripe()
    desired = manifest(webhook_endpoints={"orders": ENDPOINT})
    plan = plan_for(fake, desired)
    fake.fail_on[("POST", "/v1/webhook_endpoints/we_0001")] = RuntimeError("stop")  # type: ignore[assignment]
    with contextlib.suppress(RuntimeError):
        apply(fake, plan, tmp_path / "lost.env", [])
    fake.fail_on.clear()
    fake.calls.clear()
    result = apply(fake, plan, tmp_path / "s.env", [])
    assert result.ok
    assert list(fake.endpoints) == ["we_0001"]
    assert FileSink(tmp_path / "s.env").read() == {
        "STRIPE_WEBHOOK_SECRET_ORDERS": "whsec_fakewe_0001"
    }
    # the only extra request a replay costs: one GET of the replayed object
    assert gets(fake) == ["/v1/webhook_endpoints/we_0001", "/v1/webhook_endpoints"]
    assert len(creates(fake, "/v1/webhook_endpoints")) == 1


def test_a_create_that_is_not_a_replay_costs_no_extra_request(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(
        webhook_endpoints={"orders": ENDPOINT},
        tax_registrations={"us-ca": {"country": "US", "country_options": CA}},
    )
    assert apply(fake, plan_for(fake, desired), tmp_path / "s.env", []).ok
    # one race-check listing after the endpoint create, one registration lookup before the
    # phase's registration creates and one race-check listing after them
    assert sorted(gets(fake)) == ["/v1/tax/registrations"] * 2 + ["/v1/webhook_endpoints"]


def test_a_replayed_create_of_an_expired_registration_creates_it_again(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(tax_registrations={"us-ca": {"country": "US", "country_options": CA}})
    plan = plan_for(fake, desired)
    assert apply(fake, plan, tmp_path / "s.env", []).ok
    (first,) = fake.registrations
    asyncio.run(fake.request("POST", f"/v1/tax/registrations/{first}", {"expires_at": "now"}))
    again = plan_for(fake, desired)
    assert again.checksum == plan.checksum
    events: list[ProgressEvent] = []
    result = apply(fake, again, tmp_path / "s.env", events)
    assert result.ok
    second = result.results[0].stripe_id
    assert second != first and fake.registrations[second]["status"] == "active"
    assert [r["status"] for r in fake.registrations.values()] == ["expired", "active"]
    key, same_key, derived = creates(fake, "/v1/tax/registrations")
    assert same_key == key and derived == derived_key(key, first)
    assert notes(events) == [
        f"Stripe replayed an earlier create of {first}, which has become expired since; "
        "creating it again"
    ]


def test_a_replayed_create_of_a_registration_still_running_is_trusted(tmp_path: Path) -> None:
    """Its end was scheduled in the Dashboard since, so the lookup before the create no longer
    finds it (another window) and the create is sent again: the replay names a registration
    that is still active, which is the one the plan made, not one to create again."""
    fake = FakeStripe()
    desired = manifest(tax_registrations={"us-ca": {"country": "US", "country_options": CA}})
    plan = plan_for(fake, desired)
    assert apply(fake, plan, tmp_path / "s.env", []).ok
    (first,) = fake.registrations
    asyncio.run(fake.request("POST", f"/v1/tax/registrations/{first}", {"expires_at": SWITCH}))
    events: list[ProgressEvent] = []
    result = apply(fake, plan, tmp_path / "s.env", events)
    assert result.ok
    assert [(r.status, r.stripe_id) for r in result.results] == [(Status.DONE, first)]
    assert list(fake.registrations) == [first]
    key, same_key = creates(fake, "/v1/tax/registrations")
    assert same_key == key
    assert f"/v1/tax/registrations/{first}" in gets(fake)  # the replay was looked up
    assert notes(events) == []


SEQUENCE = {
    "b-current": {"country": "US", "country_options": CA, "expires_at": SWITCH},
    "a-next": {"country": "US", "country_options": CA, "active_from": SWITCH},
}


def test_another_window_of_the_same_key_is_not_the_one_being_created(tmp_path: Path) -> None:
    fake = FakeStripe()
    current = {
        "id": "taxreg_current",
        "object": "tax.registration",
        "country": "US",
        "country_options": CA,
        "active_from": 1,
        "expires_at": SWITCH,
        "status": "active",
    }
    fake.registrations["taxreg_current"] = current
    desired = manifest(tax_registrations=SEQUENCE)
    plan = plan_for(fake, desired)
    assert [(a.address, a.action) for a in plan.actions] == [
        ("tax_registrations.a-next", ActionType.CREATE)
    ]
    events: list[ProgressEvent] = []
    result = apply(fake, plan, tmp_path / "s.env", events)
    assert result.ok
    (created,) = [i for i in fake.registrations if i != "taxreg_current"]
    assert result.results[0].stripe_id == created
    assert fake.registrations[created]["active_from"] == SWITCH
    assert notes(events) == []
    assert not plan_for(fake, desired).has_changes


def test_the_same_window_created_meanwhile_is_found_not_duplicated(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(tax_registrations=SEQUENCE)
    plan = plan_for(fake, desired)  # creates both windows
    # another apply created the later window after this plan was made
    later = {"country": "US", "country_options": CA, "active_from": SWITCH}
    made = asyncio.run(fake.request("POST", "/v1/tax/registrations", later))
    events: list[ProgressEvent] = []
    result = apply(fake, plan, tmp_path / "s.env", events)
    assert result.ok
    by_address = {r.address: r.stripe_id for r in result.results}
    assert by_address["tax_registrations.a-next"] == made["id"]
    assert by_address["tax_registrations.b-current"] != made["id"]
    assert len(fake.registrations) == 2
    assert notes(events) == [f"already exists as {made['id']} (same natural key and window)"]


def test_an_endpoint_deleted_again_and_again_within_the_key_window_is_always_recreated(
    tmp_path: Path,
) -> None:
    """Review finding 4: the derived keys were -r1 to -r3, used up across runs, so the fifth
    re-create of an endpoint deleted out of band within 24 h failed forever. Each loss now
    leads to a key of its own."""
    fake = FakeStripe()
    desired = manifest(webhook_endpoints={"orders": ENDPOINT})
    plan = plan_for(fake, desired)
    seen: set[str] = set()
    for _ in range(8):
        result = apply(fake, plan_for(fake, desired), tmp_path / "s.env", [])
        assert result.ok, result.error()
        (created,) = fake.endpoints
        assert created not in seen
        seen.add(created)
        del fake.endpoints[created]  # deleted in the Dashboard, again
    assert plan_for(fake, desired).checksum == plan.checksum  # the same plan every time


def test_derived_keys_are_stable_and_distinct() -> None:
    key = "sr-" + "a" * 48
    assert derived_key(key, "we_1") == derived_key(key, "we_1")
    assert len({derived_key(key, "we_1"), derived_key(key, "we_2"), key}) == 3
    assert derived_key(key, "we_1").startswith("sr-") and len(derived_key(key, "we_1")) == 51

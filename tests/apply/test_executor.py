"""The executor against an in-memory fake: order, keys, lookups, secrets, failures, recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from apply_fakes import FakeStripe

from reconciler.apply.executor import (
    ApplyTarget,
    creates_endpoints,
    execute_plan,
    interleave_kinds,
    phase_of,
)
from reconciler.apply.progress import ProgressEvent, Status
from reconciler.apply.secrets import FileSink, NewSecret, SecretSinks
from reconciler.errors import (
    APIError,
    ProtectedResourceError,
    SecretSinkError,
)
from reconciler.manifest.model import Manifest
from reconciler.plan import ActionType, Plan, build_plan, check_safety
from reconciler.resources.base import LiveState
from reconciler.resources.webhook_endpoint import SECRET_PENDING_KEY

TARGET = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c1")


def manifest(**sections: Any) -> Manifest:
    return Manifest.model_validate({"version": 1, **sections})


ENDPOINT = {"url": "https://example.com/a", "enabled_events": ["invoice.paid"]}
REGISTRATION = {
    "country": "US",
    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
}
FULL = manifest(
    webhook_endpoints={
        "orders": ENDPOINT,
        "billing": {**ENDPOINT, "url": "https://example.com/b", "disabled": True},
    },
    tax_settings={"defaults": {"tax_behavior": "exclusive"}},
    tax_registrations={"us-ca": REGISTRATION},
)


def live_of(fake: FakeStripe) -> LiveState:
    return LiveState(
        objects={
            "webhook_endpoints": tuple(fake.endpoints.values()),
            "tax_registrations": tuple(fake.registrations.values()),
            "tax_settings": (fake.settings,),
        }
    )


def plan_for(fake: FakeStripe, desired: Manifest = FULL) -> Plan:
    return build_plan(desired, live_of(fake))


def run(
    fake: FakeStripe,
    plan: Plan,
    sink_path: Path,
    *,
    parallelism: int = 4,
    events: list[ProgressEvent] | None = None,
) -> Any:
    sinks = SecretSinks([FileSink(sink_path)])
    collected = events if events is not None else []
    return asyncio.run(
        execute_plan(plan, fake, TARGET, sinks, parallelism=parallelism, on_event=collected.append)
    )


def test_apply_from_empty_creates_everything_in_order(tmp_path: Path) -> None:
    fake = FakeStripe()
    plan = plan_for(fake)
    events: list[ProgressEvent] = []
    result = run(fake, plan, tmp_path / "s.env", parallelism=1, events=events)
    assert result.ok
    assert [(r.address, r.action, r.status) for r in result.results] == [
        ("tax_settings", "update", Status.DONE),
        ("webhook_endpoints.billing", "create", Status.DONE),
        ("webhook_endpoints.orders", "create", Status.DONE),
        ("tax_registrations.us-ca", "create", Status.DONE),
    ]
    billing, orders = sorted(
        fake.endpoints.values(), key=lambda o: o["metadata"]["reconciler_name"]
    )
    assert fake.writes() == [
        ("POST", "/v1/tax/settings"),
        ("POST", "/v1/webhook_endpoints"),
        ("POST", f"/v1/webhook_endpoints/{billing['id']}"),  # disable
        ("POST", f"/v1/webhook_endpoints/{billing['id']}"),  # confirm secret delivered
        ("POST", "/v1/webhook_endpoints"),
        ("POST", f"/v1/webhook_endpoints/{orders['id']}"),
        ("POST", "/v1/tax/registrations"),
    ]
    # a race check after each endpoint create; for registrations one lookup before the phase's
    # creates and one race check after them
    lists = [(m, p) for m, p, _, _ in fake.calls if m == "GET"]
    assert lists == [
        ("GET", "/v1/webhook_endpoints"),
        ("GET", "/v1/webhook_endpoints"),
        ("GET", "/v1/tax/registrations"),
        ("GET", "/v1/tax/registrations"),
    ]
    assert billing["status"] == "disabled"
    assert SECRET_PENDING_KEY not in billing["metadata"]
    assert SECRET_PENDING_KEY not in orders["metadata"]
    assert FileSink(tmp_path / "s.env").read() == {
        "STRIPE_WEBHOOK_SECRET_BILLING": f"whsec_fake{billing['id']}",
        "STRIPE_WEBHOOK_SECRET_ORDERS": f"whsec_fake{orders['id']}",
    }
    # the plan now converges
    assert not plan_for(fake).has_changes
    starts = [(e.event, e.address) for e in events if e.event in ("start", "end")]
    assert starts[:2] == [("start", "tax_settings"), ("end", "tax_settings")]
    ends = {e.address: e.stripe_id for e in events if e.event == "end"}
    assert ends["webhook_endpoints.orders"] == orders["id"]
    assert all("whsec_" not in repr(e) for e in events)


def test_every_post_has_a_deterministic_key(tmp_path: Path) -> None:
    first, second = FakeStripe(), FakeStripe()
    run(first, plan_for(first), tmp_path / "a.env", parallelism=1)
    run(second, plan_for(second), tmp_path / "b.env", parallelism=1)
    keys_a = [k for m, _, _, k in first.calls if m == "POST"]
    keys_b = [k for m, _, _, k in second.calls if m == "POST"]
    assert all(k and k.startswith("sr-") for k in keys_a)
    assert len(set(keys_a)) == len(keys_a)
    assert keys_a == keys_b
    assert all(k is None for m, _, _, k in first.calls if m != "POST")


def test_the_same_plan_applied_twice_creates_once(tmp_path: Path) -> None:
    fake = FakeStripe()
    plan = plan_for(fake)
    run(fake, plan, tmp_path / "s.env")
    secrets_before = FileSink(tmp_path / "s.env").read()
    again = run(fake, plan, tmp_path / "s.env")
    assert again.ok
    assert len(fake.endpoints) == 2
    assert len(fake.registrations) == 1
    assert FileSink(tmp_path / "s.env").read() == secrets_before


GONE_ENDPOINT = {
    "id": "we_old",
    "url": "https://example.com/gone",
    "enabled_events": ["invoice.paid"],
    "metadata": {"managed_by": "stripe-reconciler", "reconciler_name": "gone"},
    "status": "enabled",
}


def test_a_failure_stops_only_the_work_that_depends_on_it(tmp_path: Path) -> None:
    """A failed registration create stops nothing of the endpoints (issue 13: only dependent
    work stops); the registration's own later phases would wait for it."""
    fake = FakeStripe()
    fake.fail_on[("POST", "/v1/tax/registrations")] = APIError("boom", http_status=500)
    desired = manifest(
        tax_settings={"defaults": {"tax_behavior": "exclusive"}},
        tax_registrations={"us-ca": REGISTRATION},
        webhook_endpoints={"orders": ENDPOINT},
    )
    fake.endpoints["we_old"] = dict(GONE_ENDPOINT)
    plan = build_plan(desired, live_of(fake))
    result = run(fake, plan, tmp_path / "s.env", parallelism=1)
    assert not result.ok
    statuses = {r.address: r.status for r in result.results}
    assert statuses == {
        "tax_settings": Status.DONE,
        "webhook_endpoints.orders": Status.DONE,
        "webhook_endpoints.gone[we_old]": Status.DONE,
        "tax_registrations.us-ca": Status.FAILED,
    }
    assert "we_old" not in fake.endpoints
    message = str(result.error())
    assert message.splitlines()[0] == (
        "apply stopped: 1 failed, 3 done, 0 never started. Fix the cause and run apply again; "
        "it continues where this run stopped without duplicating anything."
    )
    assert "  failed: tax_registrations.us-ca (create): boom [HTTP 500]" in message
    assert "whsec_" not in message


@pytest.mark.parametrize(
    ("failing", "waiting"),
    [
        # an endpoint create fails: the delete of the name it takes over from waits
        (("POST", "/v1/webhook_endpoints"), {"webhook_endpoints.gone[we_old]"}),
        # tax settings fail: every registration waits for the head office
        (("POST", "/v1/tax/settings"), {"tax_registrations.us-ca", "tax_registrations[taxreg_x]"}),
    ],
    ids=["endpoint-create", "tax-settings"],
)
def test_dependent_work_never_starts_and_says_what_it_waits_for(
    tmp_path: Path, failing: tuple[str, str], waiting: set[str]
) -> None:
    fake = FakeStripe()
    fake.fail_on[failing] = APIError("boom", http_status=500)
    fake.endpoints["we_old"] = dict(GONE_ENDPOINT)
    fake.registrations["taxreg_x"] = {
        "id": "taxreg_x",
        "object": "tax.registration",
        "country": "US",
        "country_options": {"us": {"type": "state_sales_tax", "state": "NY"}},
        "active_from": 1,
        "expires_at": None,
        "status": "active",
    }
    desired = manifest(
        policy={"unmanaged": "delete"},
        tax_settings={"defaults": {"tax_behavior": "exclusive"}},
        tax_registrations={"us-ca": REGISTRATION},
        webhook_endpoints={"orders": ENDPOINT},
    )
    plan = build_plan(desired, live_of(fake), now=1_000)
    result = run(fake, plan, tmp_path / "s.env", parallelism=1)
    never = {r.address: r.error for r in result.results if r.status is Status.NOT_STARTED}
    assert set(never) == waiting
    (failed,) = result.of(Status.FAILED)
    assert all(why == f"waits for {failed.address}, which failed" for why in never.values())
    done = {r.address for r in result.of(Status.DONE)}
    assert done == {a.address for a in plan.actions} - waiting - {failed.address}


def test_sink_failure_stops_before_the_marker_is_removed(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(webhook_endpoints={"orders": ENDPOINT})
    plan = plan_for(fake, desired)
    bad = tmp_path / "dir.env"
    bad.mkdir()
    result = run(fake, plan, bad)
    assert [r.status for r in result.results] == [Status.FAILED]
    (endpoint,) = fake.endpoints.values()
    assert endpoint["metadata"][SECRET_PENDING_KEY] == "true"
    assert "whsec_" not in str(result.error())

    # the next plan sees the marker and replaces the endpoint, which delivers a new secret
    replan = plan_for(fake, desired)
    assert [(a.address, a.action) for a in replan.actions] == [
        ("webhook_endpoints.orders", ActionType.REPLACE)
    ]
    good = tmp_path / "s.env"
    assert run(fake, replan, good).ok
    (new,) = fake.endpoints.values()
    assert new["id"] != endpoint["id"]
    assert FileSink(good).read() == {"STRIPE_WEBHOOK_SECRET_ORDERS": f"whsec_fake{new['id']}"}
    assert not plan_for(fake, desired).has_changes


def test_protect_refuses_the_replace_of_an_undelivered_secret() -> None:
    desired = manifest(webhook_endpoints={"orders": {**ENDPOINT, "lifecycle": {"protect": True}}})
    live = {
        "id": "we_1",
        **ENDPOINT,
        "status": "enabled",
        "metadata": {
            "managed_by": "stripe-reconciler",
            "reconciler_name": "orders",
            "reconciler_connect": "false",
            SECRET_PENDING_KEY: "true",
        },
    }
    plan = build_plan(desired, LiveState(objects={"webhook_endpoints": (live,)}))
    assert [a.action for a in plan.actions] == [ActionType.REPLACE]
    with pytest.raises(ProtectedResourceError, match="never delivered"):
        check_safety(plan, desired, force=True)


def test_lookup_finds_a_registration_created_by_an_earlier_run(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(tax_registrations={"us-ca": REGISTRATION})
    plan = plan_for(fake, desired)
    # another apply created it after this plan was made
    asyncio.run(fake.request("POST", "/v1/tax/registrations", REGISTRATION))
    result = run(fake, plan, tmp_path / "s.env")
    assert result.ok
    assert len(fake.registrations) == 1
    assert result.results[0].stripe_id == next(iter(fake.registrations))


def test_lookup_then_replay_recovers_a_concurrent_create(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(webhook_endpoints={"orders": ENDPOINT})
    plan = plan_for(fake, desired)
    run(fake, plan, tmp_path / "first.env")
    # a second process applies the same plan: the key replays, nothing new is created
    run(fake, plan, tmp_path / "second.env")
    assert len(fake.endpoints) == 1
    assert FileSink(tmp_path / "first.env").read() == FileSink(tmp_path / "second.env").read()


def test_an_endpoint_another_apply_created_meanwhile_wins(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired = manifest(webhook_endpoints={"orders": ENDPOINT})
    plan = plan_for(fake, desired)
    # an apply of another plan created the same endpoint after this plan was made (and is
    # still running: its secret-pending marker is on)
    other = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c0")
    sinks = SecretSinks([FileSink(tmp_path / "other.env")])
    fake.fail_on[("POST", "/v1/webhook_endpoints/we_0001")] = APIError("died")
    asyncio.run(execute_plan(plan, fake, other, sinks))
    fake.fail_on.clear()
    result = run(fake, plan, tmp_path / "s.env")
    assert not result.ok
    (failed,) = result.results
    assert failed.error is not None and failed.error.startswith(
        "another apply created webhook_endpoints.orders at the same time (we_0001); deleted "
        "the one this apply created (we_0002) before its secret was handed out."
    )
    # no duplicate survives, and this apply's sink never saw the deleted endpoint's secret
    assert list(fake.endpoints) == ["we_0001"]
    assert not (tmp_path / "s.env").exists()
    # the next apply re-plans: we_0001's secret was never confirmed, so it is replaced
    replanned = plan_for(fake, desired)
    assert run(fake, replanned, tmp_path / "s.env").ok
    (survivor,) = fake.endpoints.values()
    assert survivor["id"] != "we_0001"
    assert FileSink(tmp_path / "s.env").read() == {
        "STRIPE_WEBHOOK_SECRET_ORDERS": f"whsec_fake{survivor['id']}"
    }


def test_replace_creates_new_before_deleting_old(tmp_path: Path) -> None:
    fake = FakeStripe()
    old = {
        "id": "we_old",
        **ENDPOINT,
        "status": "enabled",
        "api_version": "2024-06-20",
        "metadata": {
            "managed_by": "stripe-reconciler",
            "reconciler_name": "orders",
            "reconciler_connect": "false",
        },
    }
    fake.endpoints["we_old"] = old
    desired = manifest(
        webhook_endpoints={"orders": {**ENDPOINT, "api_version": "2025-01-27.acacia"}}
    )
    plan = plan_for(fake, desired)
    assert [a.action for a in plan.actions] == [ActionType.REPLACE]
    assert creates_endpoints(plan) == plan.actions
    assert run(fake, plan, tmp_path / "s.env").ok
    (new,) = fake.endpoints.values()
    assert fake.writes() == [
        ("POST", "/v1/webhook_endpoints"),
        ("POST", f"/v1/webhook_endpoints/{new['id']}"),
        ("DELETE", "/v1/webhook_endpoints/we_old"),
    ]


def test_delete_of_an_already_deleted_endpoint_counts_as_done(tmp_path: Path) -> None:
    fake = FakeStripe()
    ghost = {
        "id": "we_ghost",
        **ENDPOINT,
        "status": "enabled",
        "metadata": {"managed_by": "stripe-reconciler", "reconciler_name": "gone"},
    }
    plan = build_plan(manifest(), LiveState(objects={"webhook_endpoints": (ghost,)}))
    result = run(fake, plan, tmp_path / "s.env")
    assert [(r.action, r.status) for r in result.results] == [("delete", Status.DONE)]


def test_parallelism_bounds_concurrent_actions(tmp_path: Path) -> None:
    fake = FakeStripe()
    active = 0
    peak = 0
    original = fake.request

    async def slow(*args: Any, **kwargs: Any) -> dict[str, Any]:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        try:
            return await original(*args, **kwargs)
        finally:
            active -= 1

    fake.request = slow  # type: ignore[method-assign]
    desired = manifest(
        webhook_endpoints={f"e{i}": {**ENDPOINT, "url": f"https://e.com/{i}"} for i in range(6)}
    )
    assert run(fake, plan_for(fake, desired), tmp_path / "s.env", parallelism=2).ok
    assert peak == 2


@pytest.mark.parametrize(
    ("kind", "action", "step", "phase"),
    [
        ("tax_settings", ActionType.UPDATE, "update", 0),
        ("webhook_endpoints", ActionType.DELETE, "end-duplicate", 1),
        ("webhook_endpoints", ActionType.CREATE, "create", 2),
        ("webhook_endpoints", ActionType.ADOPT, "update", 2),
        ("tax_registrations", ActionType.UPDATE, "update", 2),
        ("webhook_endpoints", ActionType.REPLACE, "create", 3),
        ("tax_registrations", ActionType.REPLACE, "expire", 3),
        ("webhook_endpoints", ActionType.DELETE, "delete", 4),
        ("tax_registrations", ActionType.EXPIRE, "expire", 4),
    ],
)
def test_phases(kind: str, action: ActionType, step: str, phase: int) -> None:
    from reconciler.plan.model import Action, Request

    request = Request(step, "POST", "/v1/x")
    made = Action(kind=kind, address=kind, action=action, reason="", requests=(request,))
    assert phase_of(made) == phase


def test_secret_sink_error_type(tmp_path: Path) -> None:
    bad = tmp_path / "dir.env"
    bad.mkdir()
    with pytest.raises(SecretSinkError):
        FileSink(bad).check()


def test_a_create_answer_without_an_id_is_a_reported_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeStripe()
    original = fake.request

    async def no_id(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = await original(*args, **kwargs)
        return {k: v for k, v in answer.items() if k != "id"}

    monkeypatch.setattr(fake, "request", no_id)
    desired = manifest(tax_registrations={"us-ca": REGISTRATION})
    result = run(fake, plan_for(fake, desired), tmp_path / "s.env")
    assert [(r.status, r.error) for r in result.results] == [
        (Status.FAILED, "POST /v1/tax/registrations returned no object id")
    ]


class Recorder:
    """A sink that keeps what it is handed."""

    def __init__(self) -> None:
        self.delivered: list[NewSecret] = []

    def describe(self) -> str:
        return "recorder"

    def check(self) -> None:
        return None

    def deliver(self, secret: NewSecret) -> None:
        self.delivered.append(secret)


def test_the_sinks_get_the_new_endpoints_url_with_its_secret() -> None:
    fake = FakeStripe()
    recorder = Recorder()
    plan = plan_for(fake, manifest(webhook_endpoints={"orders": ENDPOINT}))
    assert asyncio.run(execute_plan(plan, fake, TARGET, SecretSinks([recorder]))).ok
    assert [(s.address, s.webhook_endpoint_id, s.url) for s in recorder.delivered] == [
        ("webhook_endpoints.orders", "we_0001", "https://example.com/a")
    ]
    assert recorder.delivered[0].secret == "whsec_fakewe_0001"


@pytest.mark.parametrize("secret", ["", None], ids=["empty", "null"])
def test_a_create_answered_without_a_secret_fails_before_any_sink(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    fake = FakeStripe()
    original = fake.request

    async def no_secret(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = await original(*args, **kwargs)
        return {**answer, "secret": secret} if "secret" in answer else answer

    monkeypatch.setattr(fake, "request", no_secret)
    recorder = Recorder()
    plan = plan_for(fake, manifest(webhook_endpoints={"orders": ENDPOINT}))
    result = asyncio.run(execute_plan(plan, fake, TARGET, SecretSinks([recorder])))
    assert [(r.status, r.error) for r in result.results] == [
        (Status.FAILED, "Stripe returned no signing secret for the new endpoint we_0001")
    ]
    assert recorder.delivered == []


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ("EEER", "EREE"),  # kinds take turns; each kind keeps its plan order
        ("EERRRR", "ERERRR"),
        ("RRRR", "RRRR"),
        ("", ""),
    ],
)
def test_interleave_kinds_takes_turns(kinds: str, expected: str) -> None:
    from reconciler.plan.model import Action

    names = {"E": "webhook_endpoints", "R": "tax_registrations"}
    batch = [
        (i, Action(kind=names[k], address=f"{names[k]}.n{i}", action=ActionType.CREATE, reason=""))
        for i, k in enumerate(kinds)
    ]
    turns = interleave_kinds(batch)
    letters = "".join("E" if a.kind == "webhook_endpoints" else "R" for _, a in turns)
    assert letters == expected
    for kind in names.values():  # plan order within a kind
        order = [i for i, a in turns if a.kind == kind]
        assert order == sorted(order)


def test_with_interleave_a_registration_starts_before_the_endpoints_are_done(
    tmp_path: Path,
) -> None:
    fake = FakeStripe()
    plan = plan_for(fake)
    events: list[ProgressEvent] = []
    sinks = SecretSinks([FileSink(tmp_path / "s.env")])
    result = asyncio.run(
        execute_plan(
            plan, fake, TARGET, sinks, parallelism=1, on_event=events.append, interleave=True
        )
    )
    assert result.ok
    starts = [e.address for e in events if e.event == "start"]
    assert starts == [
        "tax_settings",
        "webhook_endpoints.billing",
        "tax_registrations.us-ca",
        "webhook_endpoints.orders",
    ]

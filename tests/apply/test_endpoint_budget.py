"""Apply stays within Stripe's 16-endpoint limit, and never drops a secret Stripe returned.

Issue 13, defect 1. The fake refuses a create past the limit as Stripe does, so an apply that
succeeds against it never had 17 endpoints at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from apply_fakes import FakeStripe
from test_executor import TARGET, live_of, manifest, run

from reconciler.apply import executor as executor_module
from reconciler.apply.endpoint_budget import EndpointBudget
from reconciler.apply.executor import LISTING_PAUSES, execute_plan
from reconciler.apply.progress import Status
from reconciler.apply.secrets import FileSink, SecretSinks
from reconciler.errors import APIConnectionError, APIError
from reconciler.plan import ActionType, Plan, build_plan

LIMIT = 16


def tagged(
    fake: FakeStripe, name: str, *, pending: bool = False, version: str = "2024-06-20"
) -> str:
    endpoint_id = f"we_{name}"
    metadata = {
        "managed_by": "stripe-reconciler",
        "reconciler_name": name,
        "reconciler_connect": "false",
    }
    if pending:
        metadata["reconciler_secret_pending"] = "true"
    fake.endpoints[endpoint_id] = {
        "id": endpoint_id,
        "url": f"https://example.com/{name}",
        "enabled_events": ["invoice.paid"],
        "metadata": metadata,
        "status": "enabled",
        "api_version": version,
        "created": 1,
    }
    return endpoint_id


def declared(*names: str, version: str | None = None) -> Any:
    endpoints: dict[str, Any] = {}
    for name in names:
        spec: dict[str, Any] = {
            "url": f"https://example.com/{name}",
            "enabled_events": ["invoice.paid"],
        }
        if version:
            spec["api_version"] = version
        endpoints[name] = spec
    return manifest(webhook_endpoints=endpoints)


def apply_at_the_limit(fake: FakeStripe, desired: Any, sink: Path, parallelism: int = 4) -> Any:
    fake.max_endpoints = LIMIT
    plan = build_plan(desired, live_of(fake))
    sinks = SecretSinks([FileSink(sink)])
    result = asyncio.run(
        execute_plan(
            plan,
            fake,
            TARGET,
            sinks,
            parallelism=parallelism,
            live=live_of(fake),
        )
    )
    return plan, result


@pytest.mark.parametrize(("pending", "creates"), [(16, 0), (4, 12), (1, 15)])
def test_undelivered_secrets_at_the_limit_are_replaced_without_a_17th(
    tmp_path: Path, pending: int, creates: int
) -> None:
    fake = FakeStripe()
    old = {tagged(fake, f"p{i:02}", pending=True) for i in range(pending)}
    names = [f"p{i:02}" for i in range(pending)] + [f"c{i:02}" for i in range(creates)]
    plan, result = apply_at_the_limit(fake, declared(*names), tmp_path / "s.env")
    assert result.ok, result.error()
    assert (plan.summary.replace, plan.summary.create) == (pending, creates)
    assert len(fake.endpoints) == LIMIT and fake.peak_endpoints == LIMIT
    assert not old & set(fake.endpoints)
    assert all("reconciler_secret_pending" not in e["metadata"] for e in fake.endpoints.values())
    stored = FileSink(tmp_path / "s.env").read()
    assert len(stored) == LIMIT


def test_an_undelivered_secret_with_room_is_replaced_new_before_old(tmp_path: Path) -> None:
    fake = FakeStripe()
    old = tagged(fake, "orders", pending=True)
    _, result = apply_at_the_limit(fake, declared("orders"), tmp_path / "s.env")
    assert result.ok
    writes = fake.writes()
    first_create = writes.index(("POST", "/v1/webhook_endpoints"))
    assert writes.index(("DELETE", f"/v1/webhook_endpoints/{old}")) > first_create
    assert fake.peak_endpoints == 2


def full_with_one_pending(fake: FakeStripe) -> tuple[Any, str]:
    for i in range(15):
        tagged(fake, f"k{i:02}")
    return declared(*(f"k{i:02}" for i in range(15)), "orders"), tagged(
        fake, "orders", pending=True
    )


def test_at_the_limit_the_old_one_goes_first_and_a_note_says_why(tmp_path: Path) -> None:
    fake = FakeStripe()
    desired, old = full_with_one_pending(fake)
    fake.max_endpoints = LIMIT
    plan = build_plan(desired, live_of(fake))
    events: list[Any] = []
    result = asyncio.run(
        execute_plan(
            plan,
            fake,
            TARGET,
            SecretSinks([FileSink(tmp_path / "s.env")]),
            live=live_of(fake),
            on_event=events.append,
        )
    )
    assert result.ok, result.error()
    writes = fake.writes()
    assert writes.index(("DELETE", f"/v1/webhook_endpoints/{old}")) < writes.index(
        ("POST", "/v1/webhook_endpoints")
    )
    assert next(e.message for e in events if e.event == "note") == (
        f"deleted {old} before creating its successor: its signing secret was never "
        "delivered, and the account has no free place for both"
    )


def test_without_the_count_the_usual_order_would_need_a_17th(tmp_path: Path) -> None:
    # what the budget prevents: the same plan, endpoints not counted, runs into Stripe's limit
    fake = FakeStripe()
    desired, _ = full_with_one_pending(fake)
    fake.max_endpoints = LIMIT
    result = run(fake, build_plan(desired, live_of(fake)), tmp_path / "s.env")
    assert [r.status for r in result.results] == [Status.FAILED]
    assert "maximum of 16" in str(result.error())


def test_replaces_at_the_limit_run_one_at_a_time(tmp_path: Path) -> None:
    """15 endpoints, 6 of them replaced (a create-only change): one free place serves all."""
    fake = FakeStripe()
    for i in range(9):
        tagged(fake, f"k{i:02}")
    old = {tagged(fake, f"r{i:02}") for i in range(6)}
    desired = manifest(
        webhook_endpoints={
            **{
                f"k{i:02}": {
                    "url": f"https://example.com/k{i:02}",
                    "enabled_events": ["invoice.paid"],
                }
                for i in range(9)
            },
            **{
                f"r{i:02}": {
                    "url": f"https://example.com/r{i:02}",
                    "enabled_events": ["invoice.paid"],
                    "api_version": "2026-09-30.endive",
                }
                for i in range(6)
            },
        }
    )
    plan, result = apply_at_the_limit(fake, desired, tmp_path / "s.env", parallelism=4)
    assert plan.summary.replace == 6
    assert result.ok, result.error()
    assert fake.peak_endpoints == LIMIT
    assert not old & set(fake.endpoints) and len(fake.endpoints) == 15


class FlakyListing(FakeStripe):
    """Listing endpoints fails ``failures`` times, then works."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def paginate(self, path: str, params: Any = None) -> Any:
        if path == "/v1/webhook_endpoints" and self.failures:
            self.failures -= 1
            raise APIConnectionError("connection reset")
        return super().paginate(path, params)


class FlakyListingWithDeadline(FlakyListing):
    """As the real client, it says how long its deadline leaves; each pause uses some up."""

    def __init__(self, failures: int, seconds: float, pauses: list[float]) -> None:
        super().__init__(failures)
        self.seconds = seconds
        self.pauses = pauses

    def time_left(self) -> float:
        return max(0.0, self.seconds - sum(self.pauses))


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(executor_module, "_sleep", pause)
    return pauses


def test_a_failed_listing_after_a_create_is_retried_and_the_secret_kept(
    tmp_path: Path, no_pauses: list[float]
) -> None:
    """The rival check is what keeps two applies from handing a sink two secrets for one
    name, so it is retried (the secret held, not thrown away) until it can be made."""
    fake = FlakyListing(failures=3)
    _, result = apply_at_the_limit(fake, declared("orders"), tmp_path / "s.env")
    assert result.ok, result.error()
    assert no_pauses == [0.5, 1.0]  # the shared listing failed, then two patient tries did
    (endpoint,) = fake.endpoints.values()
    assert "reconciler_secret_pending" not in endpoint["metadata"]
    assert FileSink(tmp_path / "s.env").read() == {
        "STRIPE_WEBHOOK_SECRET_ORDERS": f"whsec_fake{endpoint['id']}"
    }


def test_no_pause_outlasts_the_deadline(tmp_path: Path, no_pauses: list[float]) -> None:
    """With 2.5 s left, pauses of 0.5 and 1.0 s fit; the 2.0 s one would end after the deadline
    (1 s left), so the listing's failure is the action's at once instead of after a wait."""
    fake = FlakyListingWithDeadline(failures=100, seconds=2.5, pauses=no_pauses)
    _, result = apply_at_the_limit(fake, declared("orders"), tmp_path / "s.env")
    assert [r.status for r in result.results] == [Status.FAILED]
    assert "connection reset" in str(result.error())
    assert no_pauses == [0.5, 1.0]
    (endpoint,) = fake.endpoints.values()
    assert endpoint["metadata"]["reconciler_secret_pending"] == "true"


def test_a_listing_that_never_works_fails_the_action_before_any_sink(
    tmp_path: Path, no_pauses: list[float]
) -> None:
    fake = FlakyListing(failures=100)
    _, result = apply_at_the_limit(fake, declared("orders"), tmp_path / "s.env")
    assert [r.status for r in result.results] == [Status.FAILED]
    assert "connection reset" in str(result.error())
    assert no_pauses == list(LISTING_PAUSES)
    (endpoint,) = fake.endpoints.values()
    # never delivered, so marked: the next plan replaces it and delivers a fresh secret
    assert endpoint["metadata"]["reconciler_secret_pending"] == "true"
    assert not (tmp_path / "s.env").exists()


def test_a_replay_that_cannot_be_checked_is_trusted_and_its_secret_delivered(
    tmp_path: Path,
) -> None:
    """The same plan applied again replays the create; the GET that checks the replayed
    endpoint still exists fails, and the secret in the replay is delivered anyway."""
    fake = FakeStripe()
    desired = declared("orders")
    plan = build_plan(desired, live_of(fake))
    failing_sink = SecretSinks([FileSink(tmp_path / "missing" / "s.env")])
    first = asyncio.run(execute_plan(plan, fake, TARGET, failing_sink, live=live_of(fake)))
    assert [r.status for r in first.results] == [Status.FAILED]
    (endpoint_id,) = fake.endpoints
    fake.fail_on[("GET", f"/v1/webhook_endpoints/{endpoint_id}")] = APIError(
        "boom", http_status=500
    )
    second = run(fake, plan, tmp_path / "s.env")
    assert second.ok, second.error()
    assert FileSink(tmp_path / "s.env").read() == {
        "STRIPE_WEBHOOK_SECRET_ORDERS": f"whsec_fake{endpoint_id}"
    }
    assert "reconciler_secret_pending" not in fake.endpoints[endpoint_id]["metadata"]


def test_the_budget_waits_only_while_a_replace_will_free_a_place() -> None:
    async def go() -> list[str]:
        budget = EndpointBudget(15)
        order: list[str] = []
        assert budget.try_take()  # 16
        assert not budget.try_take()

        async def replace_in_flight() -> None:
            async with budget.freeing():
                await asyncio.sleep(0)
                order.append("old deleted")
                await budget.give()

        async def waiting_create() -> None:
            await budget.take()
            order.append("next created")

        await asyncio.gather(replace_in_flight(), waiting_create())
        # nothing frees a place any more: a create goes ahead and Stripe decides
        await budget.take()
        order.append(f"count {budget.count}")
        return order

    assert asyncio.run(go()) == ["old deleted", "next created", "count 17"]


def test_an_uncounted_budget_never_waits() -> None:
    async def go() -> bool:
        budget = EndpointBudget(None)
        await budget.take()
        return budget.try_take() and budget.count is None

    assert asyncio.run(go())


def test_an_endpoint_that_existed_when_the_plan_was_made_is_never_a_rival(
    tmp_path: Path,
) -> None:
    """Review finding 2: a plan that acts on a name without deleting its duplicate (the
    duplicate left out) took the duplicate for a concurrent apply's endpoint, deleted its own
    new one and failed on every rerun. Only an endpoint created after the plan is a rival."""
    fake = FakeStripe()
    tagged(fake, "x", pending=True)  # we_x, kept (the newer one)
    fake.endpoints["we_x2"] = {**fake.endpoints["we_x"], "id": "we_x2", "created": 0}
    full = build_plan(declared("x"), live_of(fake))
    replace_only = Plan(actions=tuple(a for a in full.actions if "[" not in a.address))
    assert [a.action for a in replace_only.actions] == [ActionType.REPLACE]
    result = asyncio.run(
        execute_plan(
            replace_only,
            fake,
            TARGET,
            SecretSinks([FileSink(tmp_path / "s.env")]),
            live=live_of(fake),
        )
    )
    assert result.ok, result.error()
    assert "we_x2" in fake.endpoints  # left for the name's cleanup, not mistaken for a rival

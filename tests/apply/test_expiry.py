"""Ending a registration sends what was planned, at once: never a second later, never twice.

Stripe's update docs take ``expires_at`` as "either ``now`` … or a timestamp" (its own example
is ``-d expires_at=now``), so ``now`` is sent even in the second the registration started; an
earlier version sent ``active_from + 1`` and waited, which would leave a registration active for
an extra second on Stripe (issue 14 item 3).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from apply_fakes import FakeStripe

import reconciler.apply.executor as executor
from reconciler.apply.executor import ApplyTarget, execute_plan
from reconciler.apply.secrets import SecretSinks
from reconciler.manifest.model import Manifest
from reconciler.plan import ActionType, Plan, build_plan
from reconciler.resources.base import LiveState

TARGET = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c")
NOW = 1_800_000_000
OPTIONS = {"us": {"type": "state_sales_tax", "state": "CA"}}
NEW_OPTIONS = {"us": {**OPTIONS["us"], "state_sales_tax": {"elections": [{"type": "x"}]}}}


def registration(active_from: int, status: str = "active") -> dict[str, Any]:
    return {
        "id": "taxreg_1",
        "object": "tax.registration",
        "country": "US",
        "country_options": OPTIONS,
        "active_from": active_from,
        "expires_at": None,
        "status": status,
    }


def plan_of(desired: dict[str, Any], live: dict[str, Any]) -> Plan:
    manifest = Manifest.model_validate({"version": 1, "tax_registrations": {"ca": desired}})
    return build_plan(manifest, LiveState(objects={"tax_registrations": (live,)}), now=NOW)


def apply(monkeypatch: pytest.MonkeyPatch, plan: Plan, live: dict[str, Any]) -> FakeStripe:
    monkeypatch.setattr(executor, "_now", lambda: NOW + 0.25)
    fake = FakeStripe()
    fake.registrations["taxreg_1"] = live
    result = asyncio.run(execute_plan(plan, fake, TARGET, SecretSinks([])))
    assert result.ok, result.results
    return fake


def sent(fake: FakeStripe) -> list[Any]:
    return [
        params["expires_at"]
        for method, path, params, _ in fake.calls
        if method == "POST" and path == "/v1/tax/registrations/taxreg_1" and params
    ]


@pytest.mark.parametrize("active_from", [NOW - 100, NOW])
def test_expire_sends_now_even_in_the_first_second(
    monkeypatch: pytest.MonkeyPatch, active_from: int
) -> None:
    desired = {"country": "US", "country_options": OPTIONS, "expires_at": "now"}
    plan = plan_of(desired, registration(active_from))
    assert plan.actions[0].action is ActionType.EXPIRE
    assert sent(apply(monkeypatch, plan, registration(active_from))) == ["now"]


def test_a_scheduled_registration_ends_where_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """It never becomes active: the end is its start (not a second later)."""
    live = registration(NOW + 3600, "scheduled")
    desired = {"country": "US", "country_options": OPTIONS, "expires_at": "now"}
    plan = plan_of(desired, live)
    assert sent(apply(monkeypatch, plan, live)) == [NOW + 3600]


def test_replace_expires_then_creates_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_of({"country": "US", "country_options": NEW_OPTIONS}, registration(NOW))
    assert plan.actions[0].action is ActionType.REPLACE
    fake = apply(monkeypatch, plan, registration(NOW))
    assert sent(fake) == ["now"]
    writes = [(m, p) for m, p, _, _ in fake.calls if m == "POST"]
    assert writes == [("POST", "/v1/tax/registrations/taxreg_1"), ("POST", "/v1/tax/registrations")]


def test_a_registration_that_expired_since_the_plan_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stripe updates expired registrations too: ``expires_at=now`` would move the end later."""
    desired = {"country": "US", "country_options": OPTIONS, "expires_at": "now"}
    plan = plan_of(desired, registration(NOW - 100))
    ended = {**registration(NOW - 100, "expired"), "expires_at": NOW - 50}
    fake = apply(monkeypatch, plan, ended)
    assert sent(fake) == []
    assert fake.registrations["taxreg_1"]["expires_at"] == NOW - 50

"""``expires_at: now`` is clamped after ``active_from``; a replace waits out a short clamp."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from apply_fakes import FakeStripe

import reconciler.apply.executor as executor
from reconciler.apply.executor import ApplyTarget, execute_plan
from reconciler.apply.secrets import SecretSinks
from reconciler.manifest.model import Manifest
from reconciler.plan import ActionType, build_plan
from reconciler.resources.base import LiveState

TARGET = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c")
NOW = 1_800_000_000
OPTIONS = {"us": {"type": "state_sales_tax", "state": "CA"}}


def registration(active_from: int) -> dict[str, Any]:
    return {
        "id": "taxreg_1",
        "object": "tax.registration",
        "country": "US",
        "country_options": OPTIONS,
        "active_from": active_from,
        "expires_at": None,
        "status": "active",
    }


def run_with(
    monkeypatch: pytest.MonkeyPatch, desired: dict[str, Any], active_from: int
) -> tuple[FakeStripe, list[float], ActionType]:
    monkeypatch.setattr(executor, "_now", lambda: NOW + 0.25)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(executor, "_sleep", sleep)
    fake = FakeStripe()
    fake.registrations["taxreg_1"] = registration(active_from)
    manifest = Manifest.model_validate({"version": 1, "tax_registrations": {"ca": desired}})
    plan = build_plan(
        manifest, LiveState(objects={"tax_registrations": (registration(active_from),)})
    )
    result = asyncio.run(execute_plan(plan, fake, TARGET, SecretSinks([])))
    assert result.ok, result.results
    return fake, slept, plan.actions[0].action


def expire_params(fake: FakeStripe) -> list[Any]:
    return [
        params["expires_at"]
        for method, path, params, _ in fake.calls
        if method == "POST" and path == "/v1/tax/registrations/taxreg_1" and params
    ]


@pytest.mark.parametrize(
    ("active_from", "sent"),
    [
        (NOW - 100, "now"),  # started earlier: "now" is later than active_from
        (NOW, NOW + 1),  # started this second: "now" would equal active_from
    ],
)
def test_expire_now_is_clamped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, active_from: int, sent: Any
) -> None:
    desired = {"country": "US", "country_options": OPTIONS, "expires_at": "now"}
    fake, slept, action = run_with(monkeypatch, desired, active_from)
    assert action is ActionType.EXPIRE
    assert expire_params(fake) == [sent]
    assert slept == []  # nothing to wait for: no successor follows an expire


def test_replace_waits_out_a_clamped_expiry_before_creating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = {"us": {**OPTIONS["us"], "state_sales_tax": {"elections": [{"type": "x"}]}}}
    desired = {"country": "US", "country_options": options}
    fake, slept, action = run_with(monkeypatch, desired, NOW)
    assert action is ActionType.REPLACE
    assert expire_params(fake) == [NOW + 1]
    assert slept == [pytest.approx(0.75 + 0.05)]
    writes = [(m, p) for m, p, _, _ in fake.calls if m == "POST"]
    assert writes == [("POST", "/v1/tax/registrations/taxreg_1"), ("POST", "/v1/tax/registrations")]


def test_replace_of_an_old_registration_does_not_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    options = {"us": {**OPTIONS["us"], "state_sales_tax": {"elections": [{"type": "x"}]}}}
    fake, slept, _ = run_with(monkeypatch, {"country": "US", "country_options": options}, NOW - 5)
    assert expire_params(fake) == ["now"]
    assert slept == []

"""Applies of different plans racing to create one registration leave at most one running.

Stripe does not refuse a second registration of one jurisdiction (the emulator no longer
pretends it does, issue 14 item 5), and different plans send different idempotency keys, so
only apply itself can keep the twins apart: after a phase's creates it lists once, and a
registration it created next to a twin it did not plan for is expired again, failing its action.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from apply_fakes import FakeStripe

from reconciler.apply import executor as executor_module
from reconciler.apply.executor import LISTING_PAUSES, ApplyTarget, execute_plan
from reconciler.apply.progress import ApplyResult, Status
from reconciler.apply.secrets import SecretSinks
from reconciler.errors import APIConnectionError
from reconciler.manifest.model import Manifest
from reconciler.plan import build_plan
from reconciler.resources.base import LiveState

CA = {"us": {"type": "state_sales_tax", "state": "CA"}}
NY = {"us": {"type": "state_sales_tax", "state": "NY"}}
DESIRED = Manifest.model_validate(
    {
        "version": 1,
        "tax_registrations": {
            "ca": {"country": "US", "country_options": CA},
            "ny": {"country": "US", "country_options": NY},
        },
    }
)


class RacingStripe(FakeStripe):
    """Another apply's create of the same CA registration lands right after ours."""

    async def request(
        self,
        method: str,
        path: str,
        params: Any = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        answer = await super().request(method, path, params, idempotency_key=idempotency_key)
        if (method, path) == ("POST", "/v1/tax/registrations") and params["country_options"] == CA:
            rival = await super().request(method, path, params, idempotency_key="other-plan")
            self.rival = rival["id"]
        return answer


def apply(fake: FakeStripe, checksum: str) -> ApplyResult:
    plan = build_plan(DESIRED, LiveState(objects={"tax_registrations": ()}))
    target = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum=checksum)
    return asyncio.run(execute_plan(plan, fake, target, SecretSinks([])))


def running(fake: FakeStripe, options: dict[str, Any]) -> list[str]:
    return sorted(
        r["id"]
        for r in fake.registrations.values()
        if r["country_options"] == options and r["status"] != "expired"
    )


def test_a_twin_created_meanwhile_makes_this_apply_expire_its_own() -> None:
    fake = RacingStripe()
    result = apply(fake, "plan-a")
    assert running(fake, CA) == [fake.rival]
    assert running(fake, NY) != []  # the independent create stands
    (failed,) = result.of(Status.FAILED)
    own = failed.stripe_id
    assert own != fake.rival and fake.registrations[str(own)]["status"] == "expired"
    assert failed.error == (
        f"another apply created tax_registrations.ca at the same time ({fake.rival}); expired the "
        f"one this apply created ({own}). Run apply again once the other apply has finished."
    )
    # one listing after the phase's creates, besides the lookup before them
    assert [p for m, p, _, _ in fake.calls if m == "GET"] == ["/v1/tax/registrations"] * 2


def test_without_a_rival_the_phase_costs_one_listing() -> None:
    fake = FakeStripe()
    assert apply(fake, "plan-a").ok
    assert len(running(fake, CA)) == len(running(fake, NY)) == 1
    assert [p for m, p, _, _ in fake.calls if m == "GET"] == ["/v1/tax/registrations"] * 2


class BlindStripe(FakeStripe):
    """Listing registrations works once (the lookup before the creates), then never again."""

    def __init__(self) -> None:
        super().__init__()
        self.listings = 0

    def paginate(self, path: str, params: Any = None) -> Any:
        if path == "/v1/tax/registrations":
            self.listings += 1
            if self.listings > 1:
                raise APIConnectionError("connection reset")
        return super().paginate(path, params)


def test_a_twin_check_that_cannot_be_made_yields_like_a_rival(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registrations carry no tag: a twin left now could never be told apart, so when the
    listing after the creates keeps failing, each one created yields (expired, action failed;
    the next apply creates it again) rather than risk two."""

    async def no_pause(seconds: float) -> None:
        return None

    monkeypatch.setattr(executor_module, "_sleep", no_pause)
    fake = BlindStripe()
    result = apply(fake, "plan-a")
    assert running(fake, CA) == running(fake, NY) == []
    assert sorted(r.status for r in result.results) == [Status.FAILED, Status.FAILED]
    assert all(
        (r.error or "").startswith("tax registrations could not be listed to check that no")
        for r in result.results
    )
    assert fake.listings == 1 + 1 + len(LISTING_PAUSES)

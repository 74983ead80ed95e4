"""A registration another apply (or a Dashboard user) expired meanwhile counts as expired.

Two applies (of different plans, so with different idempotency keys) run the same expire; when
the first one ends the registration before the second sends its request, the second leaves it
alone. That is the outcome the plan asked for, not a failure, and sending ``expires_at=now``
again would move the end later (Stripe updates expired registrations too).
"""

from __future__ import annotations

import asyncio

import httpx
from apply_helpers import KEY

from reconciler.apply.executor import ApplyTarget, execute_plan
from reconciler.apply.secrets import SecretSinks
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest.model import Manifest
from reconciler.plan import ActionType, build_plan
from reconciler.resources import fetch_live
from reconciler.stripe import StripeClient, StripeConfig

OPTIONS = {"us": {"type": "state_sales_tax", "state": "CA"}}
TARGET = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c")


def test_expiring_a_registration_that_expired_meanwhile_succeeds(
    emulator: EmulatorServer,
) -> None:
    auth = (KEY, "")
    with httpx.Client(base_url=emulator.base_url, auth=auth) as http:
        http.post("/v1/tax/settings", data={"head_office[address][country]": "US"})
        created = http.post(
            "/v1/tax/registrations",
            data={
                "country": "US",
                "country_options[us][type]": "state_sales_tax",
                "country_options[us][state]": "CA",
                "active_from": "now",
            },
        ).json()
    emulator.advance_clock(10)
    desired = Manifest.model_validate(
        {
            "version": 1,
            "tax_registrations": {
                "ca": {"country": "US", "country_options": OPTIONS, "expires_at": "now"}
            },
        }
    )
    config = StripeConfig(api_key=KEY, api_base=emulator.base_url)

    async def scenario() -> tuple[bool, int]:
        async with StripeClient(config) as client:
            plan = build_plan(desired, await fetch_live(client))
            assert [a.action for a in plan.actions] == [ActionType.EXPIRE]
            # the other apply gets there first
            first = await client.request(
                "POST", f"/v1/tax/registrations/{created['id']}", {"expires_at": "now"}
            )
            emulator.advance_clock(5)
            result = await execute_plan(plan, client, TARGET, SecretSinks([]))
            return result.ok, int(first["expires_at"])

    ok, ended_at = asyncio.run(scenario())
    assert ok
    with httpx.Client(base_url=emulator.base_url, auth=auth) as http:
        live = http.get(f"/v1/tax/registrations/{created['id']}").json()
    assert (live["status"], live["expires_at"]) == ("expired", ended_at)

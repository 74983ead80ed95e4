"""A fleet's event destinations go to each connected account by ``Stripe-Context``.

The fleet's clients share one connection pool and carry the account in their own headers
(:mod:`reconciler.fleet.session`); v2 requests must move it to ``Stripe-Context`` (v2 reads the
context there, docs.stripe.com/context) while v1 requests of the same client keep
``Stripe-Account``.
"""

from __future__ import annotations

import asyncio

import httpx

from reconciler.api import Account
from reconciler.fleet.model import RateLimits
from reconciler.fleet.session import FleetSession
from reconciler.resources import HANDLERS

PATH = "/v2/core/event_destinations"


def test_each_accounts_v2_requests_carry_its_stripe_context() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == PATH:
            return httpx.Response(200, json={"data": [], "next_page_url": None})
        if request.url.path.startswith("/v2/"):
            return httpx.Response(200, json={"id": "ed_1", "object": "v2.core.event_destination"})
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    platform = Account(
        api_key="sk_test_" + "f" * 16,
        api_base="https://api.stripe.test",
        transport=httpx.MockTransport(handler),
    )

    async def go() -> None:
        async with FleetSession(platform, RateLimits()) as session:
            for account in ("acct_1Fleet", "acct_2Fleet"):
                client = session.client(account, None, started=None)
                await HANDLERS["event_destinations"].fetch(client)
                await client.request("POST", f"{PATH}/ed_1/enable", {}, idempotency_key=account)
                await HANDLERS["webhook_endpoints"].fetch(client)

    asyncio.run(go())
    sent = [
        (r.method, r.url.path, r.headers.get("stripe-context"), r.headers.get("stripe-account"))
        for r in seen
    ]
    assert sent == [
        ("GET", PATH, "acct_1Fleet", None),
        ("POST", f"{PATH}/ed_1/enable", "acct_1Fleet", None),
        ("GET", "/v1/webhook_endpoints", None, "acct_1Fleet"),
        ("GET", PATH, "acct_2Fleet", None),
        ("POST", f"{PATH}/ed_1/enable", "acct_2Fleet", None),
        ("GET", "/v1/webhook_endpoints", None, "acct_2Fleet"),
    ]

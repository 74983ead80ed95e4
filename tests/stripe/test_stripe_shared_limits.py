"""Clients of many connected accounts sharing one platform budget and one connection pool.

The fake clock adds concurrent sleeps up instead of overlapping them, so it spreads sends out
more than real time would: bounds ("at most N in any second") are exact, counts below them are
not.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import sys

import httpx
import pytest
from stripe_fakes import TEST_KEY, FakeClock

from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.client import connection_pool
from reconciler.stripe.ratelimit import Budget, SharedLimits


def busiest_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0 - 1e-9) for start in times)


def run_accounts(
    accounts: list[str],
    *,
    per_account: float,
    platform: Budget | None,
    clock: FakeClock,
    requests_each: int = 12,
    paths: tuple[str, ...] = ("/v1/webhook_endpoints",),
) -> dict[str, list[float]]:
    """Each account sends ``requests_each`` GETs at once; returns send times per account."""
    sent: dict[str, list[float]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.setdefault(request.headers["stripe-account"], []).append(clock.now)
        return httpx.Response(200, json={})

    async def go() -> None:
        config = StripeConfig(api_key=TEST_KEY, rate_limit=per_account)
        async with connection_pool(config, httpx.MockTransport(handler)) as pool:
            clients = [
                StripeClient(
                    StripeConfig(api_key=TEST_KEY, rate_limit=per_account, stripe_account=account),
                    clock=clock,
                    sleep=clock.sleep,
                    http=pool,
                    shared=None if platform is None else SharedLimits((platform,)),
                )
                for account in accounts
            ]
            await asyncio.gather(
                *(
                    client.request("GET", path)
                    for client in clients
                    for path in itertools.islice(itertools.cycle(paths), requests_each)
                )
            )
            for client in clients:
                await client.aclose()
            assert not pool.is_closed  # a shared pool is its owner's to close

    asyncio.run(go())
    return sent


def test_a_platform_budget_bounds_every_account_together() -> None:
    clock = FakeClock()
    platform = Budget(5.0, 5.0, clock=clock, sleep=clock.sleep)
    sent = run_accounts(
        ["acct_1", "acct_2", "acct_3"], per_account=10.0, platform=platform, clock=clock
    )
    every = sorted(t for times in sent.values() for t in times)
    assert len(every) == 36
    assert busiest_second(every) == 5
    for times in sent.values():
        assert busiest_second(times) <= 5


def test_without_a_platform_budget_each_account_has_its_own() -> None:
    clock = FakeClock()
    sent = run_accounts(["acct_1", "acct_2", "acct_3"], per_account=4.0, platform=None, clock=clock)
    every = sorted(t for times in sent.values() for t in times)
    for times in sent.values():
        assert busiest_second(times) == 4
    # nothing holds three accounts at 4/s each to 4/s together (the fake clock adds up
    # concurrent sleeps, so the overall count stays below 12)
    assert busiest_second(every) > 4


def test_the_tighter_of_the_two_budgets_binds_each_account() -> None:
    clock = FakeClock()
    platform = Budget(100.0, 100.0, clock=clock, sleep=clock.sleep)
    sent = run_accounts(["acct_1", "acct_2"], per_account=3.0, platform=platform, clock=clock)
    for times in sent.values():
        assert busiest_second(times) == 3


def test_a_platform_budget_per_operation_is_shared_too() -> None:
    clock = FakeClock()
    platform = Budget(100.0, 2.0, clock=clock, sleep=clock.sleep)
    sent: dict[str, list[float]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.setdefault(request.url.path, []).append(clock.now)
        return httpx.Response(200, json={})

    async def go() -> None:
        config = StripeConfig(api_key=TEST_KEY, rate_limit=50.0)
        async with connection_pool(config, httpx.MockTransport(handler)) as pool:
            clients = [
                StripeClient(
                    StripeConfig(api_key=TEST_KEY, rate_limit=50.0, stripe_account=account),
                    clock=clock,
                    sleep=clock.sleep,
                    http=pool,
                    shared=SharedLimits((platform,)),
                )
                for account in ("acct_1", "acct_2")
            ]
            await asyncio.gather(
                *(
                    client.request("GET", path)
                    for client in clients
                    for path in ("/v1/webhook_endpoints", "/v1/tax/settings") * 4
                )
            )

    asyncio.run(go())
    assert {path: busiest_second(times) for path, times in sent.items()} == {
        "/v1/webhook_endpoints": 2,
        "/v1/tax/settings": 2,
    }


def test_a_shared_budget_bounds_requests_in_flight_across_clients() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return httpx.Response(200, json={})

    async def go() -> None:
        platform = SharedLimits(in_flight=asyncio.Semaphore(3))
        clients = [
            StripeClient(
                StripeConfig(
                    api_key=TEST_KEY,
                    rate_limit=10_000.0,
                    operation_rate_limit=10_000.0,
                    stripe_account=account,
                ),
                transport=httpx.MockTransport(handler),
                shared=platform,
            )
            for account in ("acct_1", "acct_2", "acct_3")
        ]
        await asyncio.gather(
            *(client.request("GET", "/v1/account") for client in clients for _ in range(6))
        )
        for client in clients:
            await client.aclose()

    asyncio.run(go())
    assert peak == 3


def test_each_request_says_who_it_is_for_on_a_shared_pool() -> None:
    seen: list[tuple[str | None, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers.get("stripe-account"), request.headers["authorization"]))
        return httpx.Response(200, json={"id": "acct_x"})

    async def go() -> None:
        config = StripeConfig(api_key=TEST_KEY)
        async with connection_pool(config, httpx.MockTransport(handler)) as pool:
            for account in (None, "acct_7"):
                client = StripeClient(
                    StripeConfig(api_key=TEST_KEY, stripe_account=account), http=pool
                )
                await client.request("GET", "/v1/account")

    asyncio.run(go())
    assert seen == [(None, f"Bearer {TEST_KEY}"), ("acct_7", f"Bearer {TEST_KEY}")]


def test_a_module_that_is_not_installed_fails_to_import_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # httpcore imports sniffio on every request; without it installed, each attempt searched
    # sys.path again. The client remembers that it is missing (and leaves installed ones alone).
    from reconciler.stripe import client

    name = "reconciler_no_such_module_xyz"
    monkeypatch.delitem(sys.modules, name, raising=False)
    client._remember_missing(name)
    assert name in sys.modules and sys.modules[name] is None
    with pytest.raises(ImportError):
        importlib.import_module(name)
    monkeypatch.delitem(sys.modules, name)
    client._remember_missing("json")
    assert sys.modules["json"] is json

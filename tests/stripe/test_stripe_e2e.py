"""The client against the emulator over a real socket on 127.0.0.1: faults, idempotency, rate.

The emulator's request log is the witness: what reached the server, with which idempotency key,
which fault it got, and when (emulator clock), so nothing here asserts on the wall clock.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from stripe_fakes import TEST_KEY

from reconciler.emulator.config import FAULT_KINDS
from reconciler.emulator.server import EmulatorServer
from reconciler.errors import APIConnectionError, APIError, NotFoundError
from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.client import StripeResponse

T = TypeVar("T")


def client_for(
    emulator: EmulatorServer,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> StripeClient:
    settings: dict[str, Any] = {
        "api_key": TEST_KEY,
        "api_base": emulator.base_url,
        "rate_limit": 1000.0,
        "operation_rate_limit": 1000.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "timeout": 10.0,
        **options,
    }
    return StripeClient(StripeConfig(**settings), transport=transport)


def run(
    emulator: EmulatorServer,
    body: Callable[[StripeClient], Awaitable[T]],
    **options: Any,
) -> T:
    async def go() -> T:
        async with client_for(emulator, **options) as client:
            return await body(client)

    return asyncio.run(go())


def endpoint_params(n: int = 1) -> dict[str, Any]:
    return {"url": f"https://hooks.example/{n}", "enabled_events": ["invoice.paid"]}


async def list_endpoints(client: StripeClient) -> list[dict[str, Any]]:
    return [e async for e in client.paginate("/v1/webhook_endpoints")]


def api_log(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].startswith("/v1/")]


def test_whoami_and_typed_errors_over_a_socket(emulator: EmulatorServer) -> None:
    async def body(client: StripeClient) -> str:
        with pytest.raises(NotFoundError) as caught:
            await client.request("GET", "/v1/webhook_endpoints/we_missing")
        error = caught.value
        assert (error.http_status, error.code, error.error_type) == (
            404,
            "resource_missing",
            "invalid_request_error",
        )
        assert error.request_id is not None and error.request_id.startswith("req_")
        return await client.whoami()

    account = run(emulator, body)
    assert account.startswith("acct_")
    assert [r["account"] for r in api_log(emulator)] == [account, account]


def test_pagination_reads_250_objects_completely(emulator: EmulatorServer) -> None:
    # Scheduled registrations (a create starts now or later) in windows that never overlap.
    def registration(n: int) -> dict[str, Any]:
        start = 4_000_000_000 + 100 * n
        return {
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
            "active_from": start,
            "expires_at": start + 50,
        }

    async def body(client: StripeClient) -> tuple[list[str], list[dict[str, Any]]]:
        # Stripe refuses registrations until the account has a head office
        await client.request(
            "POST", "/v1/tax/settings", {"head_office": {"address": {"country": "US"}}}
        )
        created = await asyncio.gather(
            *(client.request("POST", "/v1/tax/registrations", registration(n)) for n in range(250))
        )
        listed = [r async for r in client.paginate("/v1/tax/registrations", {"status": "all"})]
        return [c["id"] for c in created], listed

    created_ids, listed = run(emulator, body)
    assert len(listed) == 250
    assert sorted(r["id"] for r in listed) == sorted(created_ids)
    assert {r["status"] for r in listed} == {"scheduled"}
    pages = [r for r in api_log(emulator) if r["method"] == "GET"]
    assert [p["query"].split("&starting_after=")[0] for p in pages] == ["status=all&limit=100"] * 3
    assert [p["query"].partition("&starting_after=")[2] for p in pages] == [
        "",
        listed[99]["id"],
        listed[199]["id"],
    ]


@pytest.mark.parametrize("fault", FAULT_KINDS)
def test_every_fault_kind_is_retried_to_success(emulator: EmulatorServer, fault: str) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": fault}, {"request": 2, "fault": fault}])

    async def body(client: StripeClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        created = await client.request(
            "POST", "/v1/webhook_endpoints", endpoint_params(), idempotency_key=f"create-{fault}"
        )
        return created, await list_endpoints(client)

    created, listed = run(emulator, body)
    assert [e["id"] for e in listed] == [created["id"]]
    assert created["secret"].startswith("whsec_")
    posts = [r for r in api_log(emulator) if r["method"] == "POST"]
    assert [r["fault"] for r in posts] == [fault, fault, None]
    assert {r["idempotency_key"] for r in posts} == {f"create-{fault}"}
    assert posts[-1]["status"] == 200


@pytest.mark.parametrize("fault", FAULT_KINDS)
def test_reads_are_retried_through_every_fault_kind(emulator: EmulatorServer, fault: str) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": fault}])
    account = run(emulator, lambda client: client.whoami())
    assert account.startswith("acct_")
    assert [r["fault"] for r in api_log(emulator)] == [fault, None]


def test_post_dropped_after_commit_is_retried_with_same_key_and_one_object_exists(
    emulator: EmulatorServer,
) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": "drop_after"}])

    async def body(client: StripeClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        created = await client.request(
            "POST", "/v1/webhook_endpoints", endpoint_params(), idempotency_key="apply-1:orders"
        )
        return created, await list_endpoints(client)

    created, listed = run(emulator, body)
    assert len(listed) == 1 and listed[0]["id"] == created["id"]
    first, second = [r for r in api_log(emulator) if r["method"] == "POST"]
    assert (first["fault"], first["replayed"]) == ("drop_after", False)
    assert (second["fault"], second["replayed"]) == (None, True)
    assert first["idempotency_key"] == second["idempotency_key"] == "apply-1:orders"


def test_post_without_key_is_not_retried_after_a_drop(emulator: EmulatorServer) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": "drop_after"}])

    async def body(client: StripeClient) -> list[dict[str, Any]]:
        with pytest.raises(APIConnectionError) as caught:
            await client.request("POST", "/v1/webhook_endpoints", endpoint_params())
        assert str(caught.value).endswith("(it may or may not have been applied)")
        return await list_endpoints(client)

    listed = run(emulator, body)
    # The write committed before the cut: a blind retry would have made a second endpoint.
    assert len(listed) == 1
    assert [r["method"] for r in api_log(emulator)] == ["POST", "GET"]


class ShouldRetryFalse(httpx.AsyncBaseTransport):
    """A real socket transport that rewrites ``Stripe-Should-Retry`` to ``false`` on 5xx.

    The emulator always advises ``true`` for its injected faults; this stands in for Stripe
    telling the client that a failure is final.
    """

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.status_code >= 500:
            response.headers["Stripe-Should-Retry"] = "false"
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_should_retry_false_is_not_retried(emulator: EmulatorServer) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": "503"}])

    async def body(client: StripeClient) -> None:
        with pytest.raises(APIError) as caught:
            await client.whoami()
        assert caught.value.http_status == 503

    run(emulator, body, transport=ShouldRetryFalse())
    assert [(r["path"], r["status"]) for r in api_log(emulator)] == [("/v1/account", 503)]


def test_random_faults_of_every_kind_lose_nothing_and_duplicate_nothing(
    emulator: EmulatorServer,
) -> None:
    # Seeded: a sequential client meets the same faults on every run.
    emulator.configure(seed=2, rates={kind: 0.1 for kind in FAULT_KINDS})
    count = 12

    async def body(client: StripeClient) -> tuple[list[dict[str, Any]], int]:
        for n in range(count):
            await client.request(
                "POST", "/v1/webhook_endpoints", endpoint_params(n), idempotency_key=f"k-{n}"
            )
        return await list_endpoints(client), client.stats.retries

    listed, retries = run(emulator, body, max_attempts=10)
    assert sorted(e["url"] for e in listed) == sorted(
        endpoint_params(n)["url"] for n in range(count)
    )
    log = api_log(emulator)
    faults = [r["fault"] for r in log if r["fault"]]
    assert set(faults) == set(FAULT_KINDS)
    assert retries == len(faults)


def test_burst_of_200_requests_stays_under_the_rate(emulator: EmulatorServer) -> None:
    client_rate = 40.0
    server_limit = 50

    async def body(client: StripeClient) -> int:
        # Warm up connections and the emulator first: a cold first request is stamped late by
        # the server, which would make the later ones look bunched.
        await asyncio.gather(*(client.request("GET", "/v1/account") for _ in range(8)))
        emulator.reset()
        emulator.configure(rate_limit=server_limit)
        await asyncio.gather(*(client.request("GET", "/v1/account") for _ in range(200)))
        return client.stats.requests

    sent = run(
        emulator,
        body,
        rate_limit=client_rate,
        operation_rate_limit=client_rate,
        max_concurrency=8,
    )
    times = sorted(r["time"] for r in api_log(emulator))
    assert sent == 8 + 200
    assert len(times) == 200
    assert [r["fault"] for r in api_log(emulator) if r["fault"]] == []  # no 429 from the server
    busiest = max(bisect.bisect_left(times, start + 1.0) - i for i, start in enumerate(times))
    # The client sends at most 40 per second (burst 1). Arrival jitter on a loaded 2-core machine
    # can squeeze a few extra sends into one server-side window, so the per-window bound is the
    # server's own limit; the span below proves the average rate. An unthrottled client sends
    # all 200 within a fraction of a second and fails both.
    assert busiest < server_limit, f"{busiest} requests within one second"
    span = times[-1] - times[0]
    assert span >= 199 / client_rate - 0.25, f"200 requests in {span:.3f} s"


def test_debug_logs_over_a_socket_never_contain_the_key(
    emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.configure(
        schedule=[
            {"request": 1, "fault": "429"},
            {"request": 2, "fault": "drop_before"},
            {"request": 4, "fault": "drop_after"},
        ]
    )

    async def body(client: StripeClient) -> None:
        await client.whoami()
        await client.request(
            "POST", "/v1/webhook_endpoints", endpoint_params(), idempotency_key="log-1"
        )
        with pytest.raises(NotFoundError):
            await client.request("GET", "/v1/webhook_endpoints/we_nope")

    run(emulator, body)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in caplog.records]
    assert any(line.startswith("httpcore.http11 DEBUG") for line in lines)
    assert any(line.startswith("httpx INFO HTTP Request") for line in lines)
    ours = [line for line in lines if line.startswith("reconciler.stripe.client")]
    assert len(ours) == 9  # 6 attempts + 3 retry notes
    assert not [line for line in lines if TEST_KEY in line]
    assert TEST_KEY not in caplog.text


def test_live_rates_stay_within_stripes_per_operation_limit(emulator: EmulatorServer) -> None:
    """At the live global rate (80/s) the client still sends at most 24/s per operation, and
    other operations go on meanwhile instead of queueing behind the busy one."""

    async def body(client: StripeClient) -> None:
        created = await client.request("POST", "/v1/webhook_endpoints", endpoint_params())
        await client.request("GET", "/v1/account")  # warm up the connection
        emulator.configure(rate_limit=100, operation_rate_limit=25)
        one = f"/v1/webhook_endpoints/{created['id']}"
        others = [client.request("GET", "/v1/account") for _ in range(10)]
        await asyncio.gather(*(client.request("GET", one) for _ in range(40)), *others)

    run(emulator, body, rate_limit=80.0, operation_rate_limit=None, max_concurrency=8)
    log = api_log(emulator)[2:]
    assert [r["fault"] for r in log if r["fault"]] == []  # no 429 from either limiter
    accounts = [r["seq"] for r in log if r["path"] == "/v1/account"]
    endpoint_seqs = [r["seq"] for r in log if r["path"] != "/v1/account"]
    assert len(endpoint_seqs) == 40
    # the ten account reads (24/s of their own) are done before the 40 endpoint reads are
    assert max(accounts) < endpoint_seqs[-10]


def test_a_lock_timeout_is_retried_with_the_same_key(emulator: EmulatorServer) -> None:
    async def body(client: StripeClient) -> list[StripeResponse]:
        created = await client.request("POST", "/v1/webhook_endpoints", endpoint_params())
        emulator.configure(latency_ms=100, lock_timeout_ms=0)
        path = f"/v1/webhook_endpoints/{created['id']}"
        return list(
            await asyncio.gather(
                client.request("POST", path, {"description": "a"}, idempotency_key="ka"),
                client.request("POST", path, {"description": "b"}, idempotency_key="kb"),
            )
        )

    # backoff longer than a write holds the object, so a retry finds it free
    answers = run(emulator, body, backoff_initial=0.2, backoff_max=0.4, max_attempts=10)
    assert sorted(a["description"] for a in answers) == ["a", "b"]
    updates = [
        r
        for r in api_log(emulator)
        if r["method"] == "POST" and r["path"] != "/v1/webhook_endpoints"
    ]
    refused = [r for r in updates if r["fault"] == "lock_timeout"]
    assert len(refused) >= 1 and all(r["status"] == 429 for r in refused)
    # the refused write was sent again with its key, and ran
    retried = {r["idempotency_key"] for r in refused}
    assert all(
        any(u["idempotency_key"] == k and u["status"] == 200 for u in updates) for k in retried
    )

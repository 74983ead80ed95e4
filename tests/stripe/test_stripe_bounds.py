"""The client's bounds against hostile servers on 127.0.0.1: one deadline for everything, a
bound on each whole exchange (not only on idle gaps), a cap on the answer's size, and one
"waiting" notice per slow phase. Assertions are on errors and counts, never on elapsed time."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import pytest
from hostile_server import HostileServer
from stripe_fakes import TEST_KEY, FakeClock, make_client

from reconciler.errors import APIConnectionError, MalformedResponseError
from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.transfer import WAITING_LOGGER


def request_to(server: HostileServer, path: str = "/v1/webhook_endpoints", **options: Any) -> Any:
    settings: dict[str, Any] = {
        "api_key": TEST_KEY,
        "api_base": server.base_url,
        "backoff_initial": 0.01,
        "backoff_max": 0.02,
        **options,
    }

    async def go() -> Any:
        async with StripeClient(StripeConfig(**settings)) as client:
            return await client.request("GET", path)

    return asyncio.run(go())


def test_a_trickling_answer_is_cut_by_the_deadline() -> None:
    # one byte every 0.05 s: httpx's idle timeouts (here 0.5 s) never fire
    with (
        HostileServer("trickle", interval=0.05) as server,
        pytest.raises(APIConnectionError) as caught,
    ):
        request_to(server, deadline=1.0, timeout=0.5)
    message = str(caught.value)
    assert "deadline" in message and "--timeout" in message, message
    assert len(server.requests) >= 2  # the 0.5 s attempt bound fired first, and it retried


def test_each_attempt_is_bounded_as_a_whole() -> None:
    with (
        HostileServer("trickle", interval=0.05) as server,
        pytest.raises(APIConnectionError) as caught,
    ):
        request_to(server, deadline=60.0, timeout=0.3, max_attempts=2)
    assert "no complete answer within 0.3s" in str(caught.value)
    assert "gave up after 2 attempts: attempts exhausted" in str(caught.value)
    assert len(server.requests) == 2


@pytest.mark.parametrize("behaviour", ["endless", "huge"])
def test_an_answer_larger_than_the_cap_is_refused_without_retry(behaviour: str) -> None:
    with HostileServer(behaviour) as server, pytest.raises(MalformedResponseError) as caught:
        request_to(server, deadline=30.0)
    message = str(caught.value)
    assert "GET /v1/webhook_endpoints" in message
    assert "answered with more than 8 MiB" in message
    assert "stopped reading" in message
    assert len(server.requests) == 1  # a retry would only read another 8 MiB


def test_a_server_that_never_answers_is_cut_by_the_deadline() -> None:
    with HostileServer("silent") as server, pytest.raises(APIConnectionError) as caught:
        request_to(server, deadline=0.5)
    assert str(caught.value).startswith(
        "Stopped waiting for GET /v1/webhook_endpoints: the 0.5s deadline for talking to Stripe "
        f"ran out ({server.base_url} answered too slowly or not at all)."
    )


def test_the_deadline_counts_from_the_commands_start() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async def go() -> None:
        config = StripeConfig(api_key=TEST_KEY, deadline=60.0, started_at=time.monotonic() - 61)
        async with StripeClient(config, httpx.MockTransport(handler)) as client:
            await client.request("GET", "/v1/account")

    with pytest.raises(APIConnectionError, match="the 60s deadline for talking to Stripe"):
        asyncio.run(go())
    assert sent == []


def test_waiting_for_the_rate_limiter_counts_against_the_deadline() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async def go() -> None:
        # 2 per second: two go at once (borrowing the next two slots), the third 1 s later,
        # the fourth 1.5 s later, past the deadline
        config = StripeConfig(api_key=TEST_KEY, rate_limit=2.0, deadline=1.2)
        async with StripeClient(config, httpx.MockTransport(handler)) as client:
            await asyncio.gather(*(client.request("GET", "/v1/account") for _ in range(4)))

    with pytest.raises(APIConnectionError, match="deadline"):
        asyncio.run(go())
    assert len(sent) == 3


def test_a_paused_deadline_leaves_a_prompt_out() -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "acct_1"})

    async def go() -> str:
        async with make_client(handler, clock, deadline=10.0) as client:
            with client.deadline_paused():
                clock.now += 50.0  # someone reading the plan before typing "yes"
            return await client.whoami()

    assert asyncio.run(go()) == "acct_1"


def test_time_left_counts_down_to_zero_and_leaves_pauses_out() -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    async def go() -> list[float]:
        async with make_client(handler, clock, deadline=10.0) as client:
            seen = [client.time_left()]
            clock.now += 4.0
            seen.append(client.time_left())
            with client.deadline_paused():
                clock.now += 100.0
                seen.append(client.time_left())
            clock.now += 7.0
            seen.append(client.time_left())
            return seen

    assert asyncio.run(go()) == [10.0, 6.0, 6.0, 0.0]


def test_overlapping_pauses_leave_their_union_out() -> None:
    # Two signing secrets of one account handed to the sinks at the same time: 30 s of the
    # deadline are paused, not 60 (each pause adding its own time would count them twice).
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "acct_1"})

    async def go() -> str:
        async with make_client(handler, clock, deadline=40.0) as client:
            with client.deadline_paused(), client.deadline_paused():
                clock.now += 30.0
            clock.now += 45.0  # 45 s unpaused: past the 40 s deadline
            return await client.whoami()

    with pytest.raises(APIConnectionError, match="deadline"):
        asyncio.run(go())


def test_a_request_sent_while_another_task_is_paused_is_not_timed_out() -> None:
    # One endpoint's secret is still in the sinks (paused) when the other's delivery ends and
    # its next request goes out: the time in the open pause is left out for that one too.
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "acct_1"})

    async def go() -> str:
        async with make_client(handler, clock, deadline=40.0) as client:
            with client.deadline_paused():
                clock.now += 50.0
                return await client.whoami()

    assert asyncio.run(go()) == "acct_1"


def test_one_waiting_notice_per_slow_phase(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=WAITING_LOGGER)

    async def go(client: StripeClient) -> None:
        # three slow reads at once are one slow phase; a later slow read is another
        paths = ["/v1/webhook_endpoints", "/v1/tax/registrations", "/v1/tax/settings"]
        await asyncio.gather(*(client.request("GET", path) for path in paths))
        await client.request("GET", "/v1/webhook_endpoints")

    async def main(server: HostileServer) -> None:
        config = StripeConfig(api_key=TEST_KEY, api_base=server.base_url, wait_notice_after=0.1)
        async with StripeClient(config) as client:
            await go(client)

    with HostileServer("slow", interval=0.6) as server:
        asyncio.run(main(server))
    notices = [r for r in caplog.records if r.name == WAITING_LOGGER]
    assert len(notices) == 2, [r.getMessage() for r in notices]
    first = notices[0].getMessage()
    assert first.startswith("Waiting for Stripe (GET /v1/") and first.endswith(" s)…")
    assert notices[1].getMessage().startswith("Waiting for Stripe (GET /v1/webhook_endpoints, ")
    assert {"method", "path", "waited"} <= set(vars(notices[1]))


def test_no_waiting_notice_when_answers_come_in_time(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=WAITING_LOGGER)
    with HostileServer("slow", interval=0.0) as server:
        request_to(server, wait_notice_after=5.0)
    assert [r for r in caplog.records if r.name == WAITING_LOGGER] == []

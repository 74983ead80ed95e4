"""The token bucket (GCRA) with a fake clock, and the client's limiter and concurrency bound."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe_fakes import LIVE_KEY, TEST_KEY, FakeClock, make_client

from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.ratelimit import SendLog, TokenBucket, operation_key


def test_back_to_back_reservations_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock)
    assert [round(bucket.reserve(), 9) for _ in range(5)] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_idle_time_gives_no_credit_beyond_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock)
    assert bucket.reserve() == 0.0
    clock.now += 60.0
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.25, 0.5]


def test_burst_allows_that_many_immediate_sends() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]
    clock.now += 10.0
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_partially_elapsed_interval_is_credited() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock)
    bucket.reserve()
    clock.now += 0.04
    assert round(bucket.reserve(), 9) == 0.06


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_invalid_bucket_parameters(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst=burst)


@given(
    rate=st.sampled_from([1.0, 7.0, 20.0, 80.0]),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.3), min_size=1, max_size=200),
)
def test_sends_never_exceed_rate_in_any_one_second_window(rate: float, gaps: list[float]) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock)
    sends = []
    for gap in gaps:
        clock.now += gap
        sends.append(clock.now + bucket.reserve())
    assert sends == sorted(sends)
    interval = 1.0 / rate
    assert all(b - a >= interval - 1e-9 for a, b in itertools.pairwise(sends))
    for i, start in enumerate(sends):
        in_window = [s for s in sends[i:] if s < start + 1.0 - 1e-9]
        assert len(in_window) <= rate


def test_client_spaces_sequential_requests_at_the_configured_rate() -> None:
    clock = FakeClock()
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        return httpx.Response(200, json={})

    async def go() -> float:
        # one request in flight at a time: no opening burst, so pure spacing shows
        async with make_client(handler, clock, rate_limit=4.0, max_concurrency=1) as client:
            for _ in range(6):
                await client.request("GET", "/v1/account")
            return client.stats.throttled_seconds

    throttled = asyncio.run(go())
    # the fifth and sixth wait ARRIVAL_JITTER_SECONDS more, to be a full second after the
    # send four before them
    assert [round(t - sent_at[0], 9) for t in sent_at] == [0.0, 0.25, 0.5, 0.75, 1.01, 1.26]
    assert round(throttled, 9) == 1.26


def test_retries_also_take_a_rate_limit_slot() -> None:
    clock = FakeClock()
    sent_at: list[float] = []
    answers = iter([httpx.Response(500, json={"error": {"type": "api_error"}})] * 2)

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        return next(answers, httpx.Response(200, json={}))

    async def go() -> None:
        # Backoff jitter 0 makes the limiter the only thing spacing the attempts.
        async with make_client(
            handler, clock, rate_limit=2.0, random_value=0.0, max_concurrency=1
        ) as client:
            await client.request("GET", "/v1/account")

    asyncio.run(go())
    assert [round(t - sent_at[0], 9) for t in sent_at] == [0.0, 0.5, 1.01]


def test_default_rate_comes_from_the_key_mode() -> None:
    client = StripeClient(StripeConfig(api_key=TEST_KEY))
    try:
        assert client._limiter.rate == 24.0
    finally:
        asyncio.run(client.aclose())


def test_concurrency_is_bounded_by_max_concurrency() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={})

    async def go() -> int:
        config = StripeConfig(
            api_key=TEST_KEY, rate_limit=10_000.0, operation_rate_limit=10_000.0, max_concurrency=3
        )
        async with StripeClient(config, transport=httpx.MockTransport(handler)) as client:
            await asyncio.gather(*(client.request("GET", "/v1/account") for _ in range(12)))
            return client.stats.requests

    assert asyncio.run(go()) == 12
    assert peak == 3


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/v1/webhook_endpoints/we_1Abc", "POST /v1/webhook_endpoints/{webhook_endpoint}"),
        ("DELETE", "/v1/webhook_endpoints/we_2", "DELETE /v1/webhook_endpoints/{webhook_endpoint}"),
        ("GET", "/v1/webhook_endpoints", "GET /v1/webhook_endpoints"),
        ("POST", "/v1/tax/registrations", "POST /v1/tax/registrations"),
        ("POST", "/v1/tax/registrations/taxreg_9", "POST /v1/tax/registrations/{id}"),
        ("POST", "/v1/tax/settings", "POST /v1/tax/settings"),
        ("GET", "/v1/account", "GET /v1/account"),  # not in the packaged spec: its own path
        ("GET", "/v2/core/event_destinations", "GET /v2/core/event_destinations"),
        ("POST", "/v2/core/event_destinations/ed_1", "POST /v2/core/event_destinations/{id}"),
        (
            "POST",
            "/v2/core/event_destinations/ed_2/disable",
            "POST /v2/core/event_destinations/{id}/disable",
        ),
        (
            "POST",
            "/v2/core/event_destinations/ed_3/enable",
            "POST /v2/core/event_destinations/{id}/enable",
        ),
        ("DELETE", "/v2/core/event_destinations/ed_4", "DELETE /v2/core/event_destinations/{id}"),
    ],
)
def test_operation_key_replaces_ids_by_stripes_template(
    method: str, path: str, operation: str
) -> None:
    assert operation_key(method, path) == operation


def test_the_send_log_keeps_real_sends_within_the_rate_per_second() -> None:
    log = SendLog(4.0)  # at most 4 sends in any second and ARRIVAL_JITTER_SECONDS (0.01)
    for at in (0.0, 0.3, 0.5, 0.75):  # the first went out late, the others on time
        assert log.wait(at) == 0.0
        log.record(at)
    # a fifth at 1.0, its slot: the one four sends before it is not 1.01 s old yet
    assert round(log.wait(1.0), 9) == 0.01
    log.record(1.01)
    # a sixth at 1.1 would be the fifth within a second of 0.3: it waits until 1.31
    assert round(log.wait(1.1), 9) == 0.21
    assert SendLog(0.5).wait(0.0) == 0.0


def sends_by_path(live: bool, paths: list[str]) -> dict[str, list[float]]:
    """Send POSTs one after another with the default limits of a live or test key."""
    clock = FakeClock()
    sent: dict[str, list[float]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.setdefault(operation_key("POST", request.url.path), []).append(clock.now)
        return httpx.Response(200, json={"livemode": live})

    async def go() -> None:
        config = StripeConfig(api_key=LIVE_KEY if live else TEST_KEY, max_concurrency=1)
        transport = httpx.MockTransport(handler)
        async with StripeClient(config, transport, clock=clock, sleep=clock.sleep) as client:
            for n, path in enumerate(paths):
                await client.request("POST", path, idempotency_key=f"k{n}")

    asyncio.run(go())
    return sent


def busiest_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0 - 1e-9) for start in times)


def test_a_live_key_sends_at_most_24_creates_of_one_kind_per_second() -> None:
    # Stripe allows 25 requests/s per endpoint whatever the global limit: 80 registration
    # creates in a second at the live global rate would be answered with 429s.
    sent = sends_by_path(True, ["/v1/tax/registrations"] * 60)
    times = sent["POST /v1/tax/registrations"]
    assert busiest_second(times) == 24
    assert all(b - a >= 1 / 24 - 1e-9 for a, b in itertools.pairwise(times))


def test_other_operations_use_the_rest_of_the_global_budget() -> None:
    paths = ["/v1/tax/registrations", "/v1/webhook_endpoints/we_1", "/v1/tax/settings"] * 30
    sent = sends_by_path(True, paths)
    every = sorted(t for times in sent.values() for t in times)
    for times in sent.values():
        assert busiest_second(times) <= 24
    # 90 requests of three operations at 24/s each: about 72 per second overall, within 80/s
    assert 70 <= busiest_second(every) <= 80


def test_test_mode_defaults_keep_both_budgets() -> None:
    config = StripeConfig(api_key=TEST_KEY)
    live = StripeConfig(api_key=LIVE_KEY)
    assert (config.effective_rate_limit, config.effective_operation_rate_limit) == (24.0, 24.0)
    assert (live.effective_rate_limit, live.effective_operation_rate_limit) == (80.0, 24.0)
    custom = StripeConfig(api_key=LIVE_KEY, operation_rate_limit=10)
    assert custom.effective_operation_rate_limit == 10

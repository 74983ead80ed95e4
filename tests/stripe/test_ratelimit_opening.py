"""The limiter's opening: a fresh (or long idle) client sends its first requests at once,
paying with the next slots, so no one-second window ever holds more than the rate."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe_fakes import FakeClock, make_client

from reconciler.stripe.ratelimit import OPENING_IDLE_SECONDS, TokenBucket


def test_opening_sends_at_once_then_queues_behind_the_borrowed_slots() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, opening=4, clock=clock)
    assert [round(bucket.reserve(), 9) for _ in range(6)] == [0.0, 0.0, 0.0, 0.0, 0.4, 0.5]


@pytest.mark.parametrize(
    ("idle", "expected"),
    [
        (OPENING_IDLE_SECONDS, [0.0, 0.0, 0.0, 0.3]),  # a full silent second: a new opening
        (0.5, [0.0, 0.1, 0.2, 0.3]),  # not silent long enough: plain spacing
    ],
)
def test_a_new_opening_needs_a_full_silent_second(idle: float, expected: list[float]) -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, opening=3, clock=clock)
    for _ in range(3):
        bucket.reserve()
    clock.now += 0.2  # the borrowed slots ran until now
    clock.now += idle
    assert [round(bucket.reserve(), 9) for _ in range(4)] == expected


def test_an_opening_request_arriving_late_is_simply_sent() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, opening=3, clock=clock)
    assert bucket.reserve() == 0.0
    clock.now += 0.5
    assert [round(bucket.reserve(), 9) for _ in range(3)] == [0.0, 0.0, 0.2]


@pytest.mark.parametrize(
    ("rate", "opening", "burst"), [(4.0, 5, 1), (4.0, 0, 1), (10.0, 2, 2), (0.5, 2, 1)]
)
def test_invalid_openings(rate: float, opening: int, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, opening=opening, burst=burst)


@given(
    rate=st.sampled_from([2.0, 7.0, 20.0, 24.0, 80.0]),
    opening=st.integers(min_value=1, max_value=8),
    gaps=st.lists(st.floats(min_value=0.0, max_value=1.5), min_size=1, max_size=150),
)
def test_no_one_second_window_exceeds_the_rate(
    rate: float, opening: int, gaps: list[float]
) -> None:
    opening = min(opening, int(rate))
    clock = FakeClock()
    bucket = TokenBucket(rate, opening=opening, clock=clock)
    sends = []
    for gap in gaps:
        clock.now += gap
        sends.append(clock.now + bucket.reserve())
    sends.sort()
    for i, start in enumerate(sends):
        in_window = [s for s in sends[i:] if s < start + 1.0 - 1e-9]
        assert len(in_window) <= rate


def test_a_fresh_client_sends_its_first_concurrent_requests_at_once() -> None:
    clock = FakeClock()
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        return httpx.Response(200, json={})

    async def go() -> None:
        async with make_client(handler, clock, rate_limit=10.0, max_concurrency=3) as client:
            await asyncio.gather(*(client.request("GET", "/v1/account") for _ in range(5)))

    asyncio.run(go())
    assert [round(t - sent_at[0], 9) for t in sent_at] == [0.0, 0.0, 0.0, 0.3, 0.4]

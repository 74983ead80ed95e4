"""Shared helpers for the Stripe client tests: a test key built at run time and a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from reconciler.stripe import StripeClient, StripeConfig

# Built at run time so no realistic-looking key is committed; distinctive so a leak is findable.
TEST_KEY = "sk_test_" + "Zq9" * 8
LIVE_KEY = "sk_live_" + "Zq9" * 8


class FakeClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler,
    clock: FakeClock | None = None,
    *,
    random_value: float = 1.0,
    **config: object,
) -> StripeClient:
    """A client over ``httpx.MockTransport(handler)`` that never really sleeps."""
    clock = clock or FakeClock()
    options: dict[str, object] = {
        "api_key": TEST_KEY,
        "rate_limit": 1000.0,
        "operation_rate_limit": 1000.0,
        **config,
    }
    return StripeClient(
        StripeConfig(**options),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        random=lambda: random_value,
    )


def stripe_error(
    status: int,
    error_type: str = "invalid_request_error",
    *,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    """A response shaped like Stripe's error answers."""
    return httpx.Response(
        status,
        json={"error": {"type": error_type, **fields}},
        headers={"Request-Id": "req_err1", **(headers or {})},
    )

"""Retry decisions, backoff bounds, attempts and deadline — with a fake clock, never waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from stripe_fakes import FakeClock, make_client, stripe_error

from reconciler.errors import (
    APIConnectionError,
    APIError,
    ConflictError,
    InvalidRequestError,
    RateLimitError,
    StripeError,
)
from reconciler.stripe.retry import RetryPolicy, parse_retry_after

POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("method", "has_key", "status", "header", "retryable"),
    [
        ("GET", False, None, None, True),
        ("GET", False, 409, None, True),
        ("GET", False, 429, None, True),
        ("GET", False, 500, None, True),
        ("GET", False, 502, None, True),
        ("DELETE", False, 503, None, True),
        ("GET", False, 400, None, False),
        ("GET", False, 401, None, False),
        ("GET", False, 404, None, False),
        ("GET", False, 424, None, False),
        ("GET", False, 503, "false", False),
        ("GET", False, 429, "False", False),
        ("GET", False, 400, "true", True),
        ("GET", False, 404, " TRUE ", True),
        ("GET", False, 503, "maybe", True),
        ("POST", False, None, None, False),
        ("POST", False, 503, None, False),
        ("POST", False, 429, "true", False),
        ("post", False, 409, None, False),
        ("POST", True, None, None, True),
        ("POST", True, 409, None, True),
        ("POST", True, 429, None, True),
        ("POST", True, 500, None, True),
        ("POST", True, 500, "false", False),
        ("POST", True, 400, None, False),
        ("POST", True, 400, "true", True),
    ],
)
def test_is_retryable(
    method: str, has_key: bool, status: int | None, header: str | None, retryable: bool
) -> None:
    decision = POLICY.is_retryable(
        method=method, has_idempotency_key=has_key, status=status, should_retry_header=header
    )
    assert decision is retryable


@pytest.mark.parametrize(
    ("initial", "cap", "jitter", "waits"),
    [
        (0.5, 8.0, 1.0, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]),
        (0.5, 8.0, 0.5, [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]),
        (0.5, 8.0, 0.0, [0.0] * 7),
        (1.0, 3.0, 1.0, [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0]),
    ],
)
def test_backoff_is_capped_exponential_times_jitter(
    initial: float, cap: float, jitter: float, waits: list[float]
) -> None:
    policy = RetryPolicy(backoff_initial=initial, backoff_max=cap)
    assert [policy.backoff(n, lambda: jitter) for n in range(1, 8)] == waits


@pytest.mark.parametrize(
    ("jitter", "retry_after", "wait"),
    [
        (1.0, None, 0.5),
        (1.0, 0.2, 0.5),
        (1.0, 2.0, 2.0),
        (0.0, 1.0, 1.0),
        (1.0, 30.0, 8.0),
    ],
)
def test_retry_after_is_a_floor_under_the_cap(
    jitter: float, retry_after: float | None, wait: float
) -> None:
    assert POLICY.delay(1, lambda: jitter, retry_after) == wait


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("1", 1.0),
        ("0.25", 0.25),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_client_waits_at_least_retry_after() -> None:
    limited = stripe_error(429, code="rate_limit", headers={"Retry-After": "3"})
    result, seen, clock, _ = call([limited, OK])
    assert len(seen) == 2
    assert result == {"id": "we_1"}
    assert clock.sleeps == [3.0]


def scripted(
    answers: list[httpx.Response | Exception], seen: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    queue: Iterator[httpx.Response | Exception] = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(queue)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


OK = httpx.Response(200, json={"id": "we_1"})


def call(
    answers: list[httpx.Response | Exception],
    *,
    method: str = "GET",
    key: str | None = None,
    clock: FakeClock | None = None,
    **config: Any,
) -> tuple[dict[str, Any] | StripeError, list[httpx.Request], FakeClock, Any]:
    seen: list[httpx.Request] = []
    clock = clock or FakeClock()

    async def go() -> tuple[dict[str, Any] | StripeError, Any]:
        async with make_client(scripted(answers, seen), clock, **config) as client:
            try:
                result: dict[str, Any] | StripeError = await client.request(
                    method, "/v1/webhook_endpoints", idempotency_key=key
                )
            except StripeError as error:
                result = error
            return result, client.stats

    result, stats = asyncio.run(go())
    return result, seen, clock, stats


@pytest.mark.parametrize(
    "failure",
    [
        stripe_error(409, code="lock_timeout"),
        stripe_error(429, code="rate_limit"),
        stripe_error(500, "api_error"),
        stripe_error(502, "api_error"),
        stripe_error(503, "api_error"),
        httpx.Response(504, text="gateway timeout"),
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
    ],
    ids=lambda f: type(f).__name__ if isinstance(f, Exception) else str(f.status_code),
)
def test_transient_failures_are_retried_to_success(failure: httpx.Response | Exception) -> None:
    result, seen, clock, stats = call([failure, failure, OK])
    assert result == {"id": "we_1"}
    assert len(seen) == 3
    assert clock.sleeps == [0.5, 1.0]
    assert (stats.requests, stats.retries) == (3, 2)


def test_post_with_key_is_retried_with_the_same_key() -> None:
    result, seen, _, _ = call(
        [httpx.ReadError("reset after send"), stripe_error(500, "api_error"), OK],
        method="POST",
        key="apply-7:create:orders",
    )
    assert result == {"id": "we_1"}
    assert [r.headers["idempotency-key"] for r in seen] == ["apply-7:create:orders"] * 3
    assert len({r.content for r in seen}) == 1


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (stripe_error(500, "api_error"), APIError),
        (stripe_error(429, code="rate_limit"), RateLimitError),
        (stripe_error(409, code="lock_timeout"), ConflictError),
        (httpx.ReadError("connection reset"), APIConnectionError),
    ],
)
def test_post_without_key_is_never_retried(
    failure: httpx.Response | Exception, cls: type[StripeError]
) -> None:
    result, seen, clock, _ = call([failure, OK], method="POST")
    assert type(result) is cls
    assert len(seen) == 1
    assert clock.sleeps == []


def test_post_connection_error_without_key_says_outcome_is_unknown() -> None:
    result, _, _, stats = call([httpx.ReadError("connection reset")], method="POST")
    assert isinstance(result, APIConnectionError)
    assert str(result) == (
        "Could not complete POST /v1/webhook_endpoints at https://api.stripe.com: "
        "connection reset (it may or may not have been applied)"
    )
    assert (stats.requests, stats.network_errors, dict(stats.by_status)) == (1, 1, {})


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("refused")]
)
def test_post_connection_error_without_key_says_when_nothing_was_sent(
    failure: Exception,
) -> None:
    result, seen, _, _ = call([failure, OK], method="POST")
    assert str(result) == (
        "Could not complete POST /v1/webhook_endpoints at https://api.stripe.com: "
        "refused (it was never sent)"
    )
    assert len(seen) == 1


def test_should_retry_false_stops_retries() -> None:
    no = stripe_error(503, "api_error", headers={"Stripe-Should-Retry": "false"}, message="busy")
    result, seen, _, _ = call([no, OK])
    assert isinstance(result, APIError)
    assert str(result) == "busy [HTTP 503] [request req_err1]"
    assert len(seen) == 1


def test_should_retry_true_retries_an_otherwise_final_status() -> None:
    yes = stripe_error(400, headers={"Stripe-Should-Retry": "true"})
    result, seen, _, _ = call([yes, OK])
    assert result == {"id": "we_1"}
    assert len(seen) == 2


def test_gives_up_after_max_attempts() -> None:
    failure = stripe_error(503, "api_error", message="Service unavailable")
    result, seen, clock, stats = call([failure] * 3 + [OK], max_attempts=3)
    assert isinstance(result, APIError)
    assert str(result) == (
        "Service unavailable (gave up after 3 attempts: attempts exhausted) "
        "[HTTP 503] [request req_err1]"
    )
    assert len(seen) == 3
    assert clock.sleeps == [0.5, 1.0]
    assert (stats.requests, stats.retries, dict(stats.by_status)) == (3, 2, {503: 3})


def test_gives_up_when_the_next_wait_would_pass_the_deadline() -> None:
    failure = stripe_error(429, code="rate_limit", message="Too many requests")
    # Waits 1 and 2 fit in 3.5 s; the third (4 s) would end at 7 s.
    result, seen, clock, _ = call([failure] * 5, deadline=3.5, backoff_initial=1.0)
    assert isinstance(result, RateLimitError)
    assert str(result) == (
        "Too many requests (gave up after 3 attempts: 3.5s deadline reached) "
        "[HTTP 429] [request req_err1]"
    )
    assert clock.sleeps == [1.0, 2.0]
    assert len(seen) == 3


def test_local_protocol_errors_are_not_retried() -> None:
    result, seen, _, _ = call([httpx.LocalProtocolError("bad header"), OK])
    assert isinstance(result, APIConnectionError)
    assert len(seen) == 1


def test_final_non_retryable_error_after_retries_keeps_its_type() -> None:
    result, seen, _, _ = call(
        [stripe_error(503, "api_error"), stripe_error(400, message="Bad url", param="url")]
    )
    assert isinstance(result, InvalidRequestError)
    assert str(result) == "Bad url (param: url) [HTTP 400] [request req_err1]"
    assert len(seen) == 2

"""The key never appears in logs, exceptions or reprs; debug lines carry only safe metadata."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from stripe_fakes import TEST_KEY, FakeClock, make_client, stripe_error

from reconciler.errors import APIConnectionError, AuthenticationError, StripeError
from reconciler.stripe import redact
from reconciler.stripe.redaction import RedactingFilter, install_log_redaction

SECRET = "whsec_" + "Qm7" * 8


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        (f"key={TEST_KEY}!", "key=sk_test_***!"),
        ("rk_live_" + "Ab1" * 8, "rk_live_***"),
        ("pk_test_" + "Ab1" * 8, "pk_test_***"),
        (f"secret {SECRET} done", "secret whsec_*** done"),
        (f"Authorization: Bearer {TEST_KEY}", "Authorization: Bearer ***"),
        ("authorization: basic dXNlcjpwdw==", "authorization: basic ***"),
        ("Bearer opaque_token_42", "Bearer ***"),
        (
            f"[(b'Host', b'x'), (b'Authorization', b'Bearer {TEST_KEY}')]",
            "[(b'Host', b'x'), (b'Authorization', b'***')]",
        ),
        ("[('authorization', 'opaque-token-123')]", "[('authorization', '***')]"),
        ("GET /v1/webhook_endpoints/we_123 -> 200", "GET /v1/webhook_endpoints/we_123 -> 200"),
        ("sk_testing is a word", "sk_testing is a word"),
        ("Basic auth is not supported", "Basic auth is not supported"),
        (
            "Invalid API Key provided: sk_test_****abcd",
            "Invalid API Key provided: sk_test_****abcd",
        ),
    ],
)
def test_redact(text: str, cleaned: str) -> None:
    assert redact(text) == cleaned


def _debug_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "reconciler"):
        logging.getLogger(name).setLevel(logging.DEBUG)


def _captured_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_debug_logs_show_metadata_but_never_key_query_or_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _debug_everything(caplog)
    clock = FakeClock()
    answers = iter(
        [
            stripe_error(503, "api_error", headers={"Request-Id": "req_a"}),
            httpx.Response(
                200,
                json={"object": "list", "data": [], "has_more": False},
                headers={"Request-Id": "req_b"},
            ),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += 0.012
        return next(answers)

    async def go() -> None:
        async with make_client(handler, clock, random_value=0.5) as client:
            async for _ in client.paginate(
                "/v1/webhook_endpoints", {"ending_before": "cursor_xyz"}
            ):
                pass
            await client.aclose()

    asyncio.run(go())
    ours = [r.getMessage() for r in caplog.records if r.name == "reconciler.stripe.client"]
    assert ours == [
        "stripe GET /v1/webhook_endpoints -> 503 request_id=req_a attempt=1 elapsed_ms=12",
        "stripe retry GET /v1/webhook_endpoints after 503 in 250 ms (attempt 2 of 5)",
        "stripe GET /v1/webhook_endpoints -> 200 request_id=req_b attempt=2 elapsed_ms=12",
    ]
    text = _captured_text(caplog)
    assert "httpx INFO HTTP Request: GET" in text  # httpx's own line was captured (and cleaned)
    assert TEST_KEY not in text
    assert "cursor_xyz" not in text


def test_post_body_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    _debug_everything(caplog)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "we_1", "secret": SECRET})

    async def go() -> dict[str, Any]:
        async with make_client(handler) as client:
            return await client.request(
                "POST",
                "/v1/webhook_endpoints",
                {"url": "https://hidden.example/x"},
                idempotency_key="k1",
            )

    assert asyncio.run(go())["secret"] == SECRET
    text = _captured_text(caplog)
    assert "hidden.example" not in text
    assert SECRET not in text
    assert TEST_KEY not in text


def test_third_party_http_logging_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    _debug_everything(caplog)
    install_log_redaction()
    headers = [(b"Host", b"api.stripe.com"), (b"Authorization", f"Bearer {TEST_KEY}".encode())]
    logging.getLogger("httpcore.http11").debug("send_request_headers.started headers=%r", headers)
    logging.getLogger("hpack.hpack").debug("Encoding %s", f"authorization: Bearer {TEST_KEY}")
    logging.getLogger("httpx").info("HTTP Request: GET %s", f"https://x/?k={TEST_KEY}")
    text = _captured_text(caplog)
    assert TEST_KEY not in text
    assert "(b'Authorization', b'***')" in text
    assert "authorization: Bearer ***" in text
    assert "https://x/?k=sk_test_***" in text


def test_exception_text_in_records_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    _debug_everything(caplog)
    install_log_redaction()
    try:
        raise RuntimeError(f"failed with {TEST_KEY}")
    except RuntimeError:
        logging.getLogger("httpcore.connection").debug("boom", exc_info=True)
    text = caplog.text + _captured_text(caplog)
    assert "RuntimeError: failed with sk_test_***" in caplog.text
    assert TEST_KEY not in text


def test_httpx_request_lines_lose_their_query(caplog: pytest.LogCaptureFixture) -> None:
    _debug_everything(caplog)
    install_log_redaction()
    url = httpx.URL("https://api.stripe.com/v1/webhook_endpoints?limit=100&starting_after=we_1")
    logging.getLogger("httpx").info("HTTP Request: %s %s %s", "GET", url, '"HTTP/1.1 200 OK"')
    assert [r.getMessage() for r in caplog.records] == [
        'HTTP Request: GET https://api.stripe.com/v1/webhook_endpoints?… "HTTP/1.1 200 OK"'
    ]


def test_filter_keeps_clean_records_untouched() -> None:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "plain %s", ("text",), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "plain text"


def test_error_messages_echoing_the_key_are_scrubbed() -> None:
    echo = stripe_error(401, message=f"Invalid API Key provided: {TEST_KEY}")

    async def go() -> None:
        async with make_client(lambda r: echo) as client:
            await client.request("GET", "/v1/account")

    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(go())
    assert str(caught.value) == (
        "Invalid API Key provided: sk_test_*** [HTTP 401] [request req_err1]"
    )


def test_connection_errors_echoing_the_key_are_scrubbed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy said no to Bearer {TEST_KEY}")

    async def go() -> None:
        async with make_client(handler, max_attempts=1) as client:
            await client.request("GET", "/v1/account")

    with pytest.raises(APIConnectionError) as caught:
        asyncio.run(go())
    error: StripeError = caught.value
    assert TEST_KEY not in str(error) and TEST_KEY not in repr(error)
    assert str(error) == (
        "Could not complete GET /v1/account at https://api.stripe.com: proxy said no to Bearer ***"
    )

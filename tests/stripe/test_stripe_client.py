"""StripeClient over httpx.MockTransport: headers, encoding on the wire, pagination, errors."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from stripe_fakes import LIVE_KEY, TEST_KEY, make_client, stripe_error

from reconciler import __version__
from reconciler.errors import (
    AccountMismatchError,
    APIError,
    AuthenticationError,
    ConflictError,
    IdempotencyError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StripeError,
)
from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.response import error_from_response


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_get_sends_auth_version_agent_and_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "tax.settings"})

    async def go() -> dict[str, Any]:
        async with make_client(handler, stripe_account="acct_9") as client:
            return await client.request("GET", "/v1/tax/settings", {"expand": ["head_office"]})

    assert run(go()) == {"object": "tax.settings"}
    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == "https://api.stripe.com/v1/tax/settings?expand%5B0%5D=head_office"
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["stripe-version"] == "2026-10-28.endive"
    assert request.headers["user-agent"] == f"stripe-reconciler/{__version__}"
    assert request.headers["stripe-account"] == "acct_9"
    assert "idempotency-key" not in request.headers
    assert request.content == b""


def test_post_sends_form_body_and_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "we_1", "object": "webhook_endpoint"})

    async def go() -> dict[str, Any]:
        async with make_client(handler, api_version="2025-01-27.acacia") as client:
            return await client.request(
                "post",
                "/v1/webhook_endpoints",
                {"url": "https://x.test/h", "enabled_events": ["*"], "metadata": {"a": ""}},
                idempotency_key="plan-1/create/orders",
            )

    assert run(go())["id"] == "we_1"
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == "/v1/webhook_endpoints"
    assert request.url.query == b""
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["idempotency-key"] == "plan-1/create/orders"
    assert request.headers["stripe-version"] == "2025-01-27.acacia"
    assert "stripe-account" not in request.headers
    assert parse_qsl(request.content.decode(), keep_blank_values=True) == [
        ("url", "https://x.test/h"),
        ("enabled_events[0]", "*"),
        ("metadata[a]", ""),
    ]


def test_api_base_with_path_prefix_is_kept() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    async def go() -> None:
        async with make_client(handler, api_base="http://127.0.0.1:9/stripe/") as client:
            await client.request("DELETE", "/v1/webhook_endpoints/we_1")

    run(go())
    assert seen == ["http://127.0.0.1:9/stripe/v1/webhook_endpoints/we_1"]


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("PATCH", "/v1/x", "unsupported method 'PATCH'; expected one of ['DELETE', 'GET', 'POST']"),
        (
            "GET",
            "https://evil.example/v1/x",
            "path must be an absolute API path like /v1/…, got 'https://evil.example/v1/x'",
        ),
        (
            "GET",
            "//evil.example/v1/x",
            "path must be an absolute API path like /v1/…, got '//evil.example/v1/x'",
        ),
        (
            "GET",
            "/v1/x?limit=3",
            "path must be an absolute API path like /v1/…, got '/v1/x?limit=3'",
        ),
    ],
)
def test_bad_method_or_path_is_refused_before_sending(method: str, path: str, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    async def go() -> None:
        async with make_client(handler) as client:
            await client.request(method, path)

    with pytest.raises(ValueError) as caught:
        run(go())
    assert str(caught.value) == message


@pytest.mark.parametrize("key", ["", "x" * 256, "has\nnewline", "ünïcode"])
def test_bad_idempotency_keys_are_refused(key: str) -> None:
    async def go() -> None:
        async with make_client(lambda r: httpx.Response(200, json={})) as client:
            await client.request("POST", "/v1/x", idempotency_key=key)

    with pytest.raises(ValueError, match="idempotency_key must be 1-255 printable ASCII"):
        run(go())


def _list_handler(total: int, pages: list[dict[str, str]]) -> Any:
    objects = [{"id": f"we_{n:04d}", "object": "webhook_endpoint"} for n in range(total, 0, -1)]

    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(parse_qsl(request.url.query.decode()))
        pages.append(query)
        limit = int(query["limit"])
        start = 0
        if "starting_after" in query:
            start = [o["id"] for o in objects].index(query["starting_after"]) + 1
        data = objects[start : start + limit]
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": data,
                "has_more": start + limit < len(objects),
                "url": request.url.path,
            },
        )

    return handler


def test_paginate_reads_every_object_in_pages_of_100() -> None:
    pages: list[dict[str, str]] = []

    async def go() -> list[str]:
        async with make_client(_list_handler(250, pages)) as client:
            return [
                obj["id"]
                async for obj in client.paginate("/v1/tax/registrations", {"status": "all"})
            ]

    ids = run(go())
    assert len(ids) == 250
    assert len(set(ids)) == 250
    assert ids[0] == "we_0250" and ids[-1] == "we_0001"
    assert pages == [
        {"status": "all", "limit": "100"},
        {"status": "all", "limit": "100", "starting_after": "we_0151"},
        {"status": "all", "limit": "100", "starting_after": "we_0051"},
    ]


def test_paginate_exact_multiple_stops_on_has_more_false() -> None:
    pages: list[dict[str, str]] = []

    async def go() -> int:
        async with make_client(_list_handler(200, pages)) as client:
            return len([o async for o in client.paginate("/v1/webhook_endpoints")])

    assert run(go()) == 200
    assert len(pages) == 2


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"object": "webhook_endpoint"}, "is not a list object with a data array"),
        (
            {"object": "list", "data": {}, "has_more": False},
            "is not a list object with a data array",
        ),
        ({"object": "list", "data": []}, "has no boolean has_more"),
        ({"object": "list", "data": [1], "has_more": False}, "holds an item that is not an object"),
        (
            {"object": "list", "data": [], "has_more": True},
            "says has_more but gives no new last id to continue from",
        ),
        (
            {"object": "list", "data": [{"id": "we_1"}], "has_more": True},
            "says has_more but gives no new last id to continue from",
        ),
    ],
)
def test_paginate_refuses_malformed_pages(page: dict[str, Any], message: str) -> None:
    async def go() -> None:
        async with make_client(lambda r: httpx.Response(200, json=page)) as client:
            async for _ in client.paginate("/v1/webhook_endpoints"):
                pass

    with pytest.raises(MalformedResponseError) as caught:
        run(go())
    assert str(caught.value) == f"The list page from GET /v1/webhook_endpoints {message}"


def test_paginate_rejects_out_of_range_limit() -> None:
    async def go() -> None:
        async with make_client(lambda r: httpx.Response(200, json={})) as client:
            async for _ in client.paginate("/v1/webhook_endpoints", limit=101):
                pass

    with pytest.raises(ValueError, match="limit must be between 1 and 100, got 101"):
        run(go())


def test_whoami_returns_the_account_id() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={"id": "acct_1Nv0FGQ9", "object": "account"})

    async def go() -> str:
        async with make_client(handler) as client:
            return await client.whoami()

    assert run(go()) == "acct_1Nv0FGQ9"
    assert paths == ["/v1/account"]


def test_whoami_without_id_is_malformed() -> None:
    async def go() -> str:
        async with make_client(lambda r: httpx.Response(200, json={"object": "account"})) as c:
            return await c.whoami()

    with pytest.raises(MalformedResponseError, match="GET /v1/account returned no account id"):
        run(go())


# (status, type, code, expected class); none of these is retried (POST without a key).
ERROR_TABLE = [
    (400, "invalid_request_error", "parameter_missing", InvalidRequestError),
    (400, "invalid_request_error", "rate_limit", RateLimitError),
    (400, "idempotency_error", None, IdempotencyError),
    (401, "invalid_request_error", None, AuthenticationError),
    (402, "card_error", "card_declined", InvalidRequestError),
    (403, "invalid_request_error", None, PermissionDeniedError),
    (404, "invalid_request_error", "resource_missing", NotFoundError),
    (404, "idempotency_error", None, IdempotencyError),
    (409, "invalid_request_error", "lock_timeout", ConflictError),
    (409, "idempotency_error", None, IdempotencyError),
    (424, "api_error", None, APIError),
    (429, "invalid_request_error", "rate_limit", RateLimitError),
    (500, "api_error", None, APIError),
    (503, "api_error", None, APIError),
]


@pytest.mark.parametrize(("status", "error_type", "code", "cls"), ERROR_TABLE)
def test_error_mapping(
    status: int, error_type: str, code: str | None, cls: type[StripeError]
) -> None:
    fields = {"message": "Boom happened", "param": "url"}
    if code:
        fields["code"] = code

    async def go() -> None:
        async with make_client(lambda r: stripe_error(status, error_type, **fields)) as client:
            await client.request("POST", "/v1/webhook_endpoints", {"url": "x"})

    with pytest.raises(StripeError) as caught:
        run(go())
    error = caught.value
    assert type(error) is cls
    assert (error.message, error.http_status, error.code, error.param) == (
        "Boom happened",
        status,
        code,
        "url",
    )
    assert (error.request_id, error.error_type) == ("req_err1", error_type)
    # the value the request sent for the param, which Stripe's message does not show
    assert error.value == "x"
    assert str(error) == f"Boom happened (param: url = 'x') [HTTP {status}] [request req_err1]"


def test_error_without_message_gets_a_generic_one() -> None:
    async def go() -> None:
        async with make_client(lambda r: stripe_error(400, "invalid_request_error")) as c:
            await c.request("POST", "/v1/x")

    with pytest.raises(InvalidRequestError) as caught:
        run(go())
    assert str(caught.value) == (
        "Stripe returned HTTP 400 (invalid_request_error) [HTTP 400] [request req_err1]"
    )


@pytest.mark.parametrize(
    ("response", "what"),
    [
        (
            httpx.Response(200, text="<html>oops</html>", headers={"content-type": "text/html"}),
            "a body that is not JSON (text/html)",
        ),
        (httpx.Response(200, content=b"\xff\xfe"), "a body that is not JSON (no content type)"),
        (httpx.Response(200, json=[1, 2]), "a JSON list instead of an object"),
        (httpx.Response(200, json="x"), "a JSON str instead of an object"),
        (
            httpx.Response(400, json={"message": "no error key"}),
            "JSON without Stripe's error object",
        ),
        (httpx.Response(400, json={"error": "flat"}), "JSON without Stripe's error object"),
        (
            httpx.Response(401, text="Unauthorized", headers={"content-type": "text/plain"}),
            "a body that is not JSON (text/plain)",
        ),
    ],
)
def test_malformed_bodies_raise_malformed_response_error(
    response: httpx.Response, what: str
) -> None:
    async def go() -> None:
        async with make_client(lambda r: response) as client:
            await client.request("POST", "/v1/tax/settings")

    with pytest.raises(MalformedResponseError) as caught:
        run(go())
    assert caught.value.message == (
        f"Stripe answered POST /v1/tax/settings with HTTP {response.status_code} and {what}"
    )
    assert caught.value.http_status == response.status_code


@pytest.mark.parametrize(
    ("key", "livemode", "message"),
    [
        (
            TEST_KEY,
            True,
            "GET /v1/webhook_endpoints answered with a live-mode object to a test-mode key "
            "(API base https://api.stripe.com); refusing to continue",
        ),
        (
            LIVE_KEY,
            False,
            "GET /v1/webhook_endpoints answered with a test-mode object to a live-mode key "
            "(API base https://api.stripe.com); refusing to continue",
        ),
    ],
)
def test_objects_from_the_other_mode_are_refused(key: str, livemode: bool, message: str) -> None:
    obj = {"id": "we_1", "livemode": livemode}
    page = {"object": "list", "data": [obj], "has_more": False}

    async def go(path: str, *, paged: bool) -> None:
        answer = page if paged else obj
        async with make_client(lambda r: httpx.Response(200, json=answer), api_key=key) as client:
            if paged:
                async for _ in client.paginate(path):
                    pass
            else:
                await client.request("GET", path)

    for paged in (False, True):
        with pytest.raises(AccountMismatchError) as caught:
            run(go("/v1/webhook_endpoints", paged=paged))
        assert str(caught.value) == message


def test_objects_of_the_same_mode_pass() -> None:
    async def go() -> dict[str, Any]:
        answer = {"id": "we_1", "livemode": False}
        async with make_client(lambda r: httpx.Response(200, json=answer)) as client:
            return await client.request("GET", "/v1/webhook_endpoints/we_1")

    assert run(go()) == {"id": "we_1", "livemode": False}


def test_default_transport_verifies_tls() -> None:
    client = StripeClient(StripeConfig(api_key=TEST_KEY))
    try:
        # httpx internals: the default transport's connection pool holds the SSL context.
        context = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
    finally:
        run(client.aclose())


def test_client_repr_and_mode_hide_the_key() -> None:
    client = StripeClient(StripeConfig(api_key=TEST_KEY, stripe_account="acct_7"))
    try:
        assert client.mode == "test"
        assert repr(client) == (
            "StripeClient(api_base='https://api.stripe.com', mode='test', stripe_account='acct_7')"
        )
        assert TEST_KEY not in repr(client) and TEST_KEY not in str(client)
    finally:
        run(client.aclose())


def test_stats_count_requests_and_statuses() -> None:
    answers = iter([stripe_error(404, code="resource_missing"), httpx.Response(200, json={})])

    async def go() -> StripeClient:
        async with make_client(lambda r: next(answers)) as client:
            with pytest.raises(NotFoundError):
                await client.request("GET", "/v1/webhook_endpoints/we_x")
            await client.request("GET", "/v1/webhook_endpoints/we_y")
            return client

    stats = run(go()).stats
    assert (stats.requests, stats.retries, stats.network_errors) == (2, 0, 0)
    assert dict(stats.by_status) == {200: 1, 404: 1}
    assert json.dumps(dict(stats.by_status)) == '{"200": 1, "404": 1}'


LONG_LIST = ", ".join(f"event.number_{n}" for n in range(400))


@pytest.mark.parametrize(
    ("request_kwargs", "fields", "expected"),
    [
        (  # an enum error: the list is cut, the value sent comes from the form body
            {"method": "POST", "content": b"url=https%3A%2F%2Fa.example&enabled_events[0]=x.y"},
            {
                "message": f"Invalid enabled_events[0]: must be one of {LONG_LIST}",
                "param": "enabled_events[0]",
            },
            "Invalid enabled_events[0]: must be one of event.number_0, event.number_1, ",
        ),
        (  # a value the message shows already is not repeated
            {"method": "POST", "content": b"url=ftp%3A%2F%2Fx"},
            {
                "message": "Invalid URL: ftp://x. URLs must begin with http:// or https://",
                "param": "url",
            },
            "Invalid URL: ftp://x. URLs must begin with http:// or https:// (param: url) [HTTP",
        ),
        (  # a GET's value comes from the query string
            {"method": "GET", "query": b"limit=500"},
            {"message": "Invalid limit: must be between 1 and 100", "param": "limit"},
            "Invalid limit: must be between 1 and 100 (param: limit = '500') [HTTP 400]",
        ),
        (  # a param the request did not send: named, without a value
            {"method": "POST", "content": b"a=1"},
            {"message": "Missing required param: url.", "param": "url"},
            "Missing required param: url. (param: url) [HTTP 400]",
        ),
    ],
)
def test_error_messages_are_short_and_name_the_value_sent(
    request_kwargs: dict[str, Any], fields: dict[str, str], expected: str
) -> None:
    query = request_kwargs.pop("query", b"")
    url = "https://api.stripe.com/v1/webhook_endpoints" + (f"?{query.decode()}" if query else "")
    request = httpx.Request(request_kwargs.pop("method"), url, **request_kwargs)
    response = httpx.Response(
        400, json={"error": {"type": "invalid_request_error", **fields}}, request=request
    )
    error = error_from_response(response)
    assert str(error).startswith(expected), str(error)
    assert len(str(error)) < 420


def test_a_shortened_enum_error_names_the_bad_value_once() -> None:
    request = httpx.Request(
        "POST",
        "https://api.stripe.com/v1/webhook_endpoints",
        content=b"enabled_events[0]=invoice.bogus&enabled_events[1]=invoice.paid",
    )
    message = f"Invalid enabled_events[0]: must be one of {LONG_LIST}"
    response = httpx.Response(
        400,
        json={
            "error": {
                "type": "invalid_request_error",
                "message": message,
                "param": "enabled_events[0]",
            }
        },
        request=request,
    )
    text = str(error_from_response(response))
    shown = text[: text.index(", … (")]
    assert message.startswith(shown)
    assert text.endswith(
        f", … ({len(message) - len(shown):,} more characters) "
        "(param: enabled_events[0] = 'invoice.bogus') [HTTP 400]"
    )
    assert text.count("invoice.bogus") == 1

"""The client speaks v2 for ``/v2/`` paths: JSON bodies, Stripe-Context, next_page_url pages."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from stripe_fakes import make_client, stripe_error

from reconciler.errors import IdempotencyError, MalformedResponseError, NotFoundError

PATH = "/v2/core/event_destinations"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_v2_post_sends_json_with_nulls_and_the_context_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "ed_1", "object": "v2.core.event_destination"})

    params = {"metadata": {"gone": None, "team": "core"}, "enabled_events": ["a.b"]}

    async def go() -> None:
        async with make_client(handler, stripe_account="acct_9") as client:
            await client.request("POST", f"{PATH}/ed_1", params, idempotency_key="k1")

    run(go())
    (request,) = seen
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == params  # null survives: how v2 unsets a key
    assert request.headers["stripe-context"] == "acct_9"
    assert "stripe-account" not in request.headers
    assert request.headers["idempotency-key"] == "k1"


def test_v1_requests_keep_the_form_and_stripe_account() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "we_1"})

    async def go() -> None:
        async with make_client(handler, stripe_account="acct_9") as client:
            await client.request("POST", "/v1/webhook_endpoints/we_1", {"description": "x"})

    run(go())
    (request,) = seen
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["stripe-account"] == "acct_9"
    assert "stripe-context" not in request.headers


def test_a_v2_list_follows_next_page_url_without_a_page_size_of_its_own() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        query = dict(parse_qsl(request.url.query.decode()))
        if "page" not in query:
            body = {"data": [{"id": "ed_1"}], "next_page_url": f"{PATH}?page=p2&include[0]=x"}
        else:
            body = {"data": [{"id": "ed_2"}], "next_page_url": None}
        return httpx.Response(200, json=body)

    async def go() -> list[dict[str, Any]]:
        async with make_client(handler) as client:
            return [o async for o in client.paginate(PATH, {"include": ["webhook_endpoint.url"]})]

    assert [o["id"] for o in run(go())] == ["ed_1", "ed_2"]
    first, second = (dict(parse_qsl(r.url.query.decode())) for r in seen)
    assert first == {"include[0]": "webhook_endpoint.url"}
    assert second == {"page": "p2", "include[0]": "x"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"data": "x", "next_page_url": None}, "has no data array"),
        ({"data": [], "next_page_url": 3}, "not a string"),
        ({"data": [1], "next_page_url": None}, "not an object"),
        ({"data": [], "next_page_url": "https://elsewhere.example/v2/x"}, "outside this list"),
        ({"data": [], "next_page_url": "/v2/core/other?page=2"}, "outside this list"),
        ({"data": [], "next_page_url": f"{PATH}?page=same"}, "already gave"),
    ],
)
def test_a_broken_v2_page_is_a_located_error(body: dict[str, Any], problem: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    async def go() -> None:
        async with make_client(handler) as client:
            async for _ in client.paginate(PATH):
                pass

    with pytest.raises(MalformedResponseError, match=problem):
        run(go())


def test_v2_errors_map_like_v1() -> None:
    answers = iter(
        [
            stripe_error(404, code="not_found", message="No such event destination"),
            stripe_error(400, "idempotency_error", message="key reused"),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    async def go(path: str) -> None:
        async with make_client(handler) as client:
            await client.request("GET", path)

    with pytest.raises(NotFoundError):
        run(go(f"{PATH}/ed_1"))
    with pytest.raises(IdempotencyError):
        run(go(f"{PATH}/ed_1"))

"""StripeClient answers say whether they were idempotent replays (``Idempotent-Replayed``)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from stripe_fakes import make_client

from reconciler.stripe.client import StripeResponse, was_replayed


@pytest.mark.parametrize(
    ("headers", "replayed", "request_id"),
    [
        ({"Idempotent-Replayed": "true", "Request-Id": "req_1"}, True, "req_1"),
        ({"Idempotent-Replayed": "TRUE"}, True, None),
        ({"Idempotent-Replayed": "false", "Request-Id": "req_2"}, False, "req_2"),
        ({}, False, None),
    ],
)
def test_answer_carries_replayed_and_request_id(
    headers: dict[str, str], replayed: bool, request_id: str | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"id": "we_1", "object": "webhook_endpoint"}, headers=headers
        )

    async def go() -> Any:
        async with make_client(handler) as client:
            return await client.request("POST", "/v1/webhook_endpoints", {}, idempotency_key="k1")

    answer = asyncio.run(go())
    assert isinstance(answer, StripeResponse)
    assert answer == {"id": "we_1", "object": "webhook_endpoint"}  # still a plain dict
    assert answer.replayed is replayed
    assert answer.request_id == request_id
    assert was_replayed(answer) is replayed


def test_plain_mappings_are_never_replays() -> None:
    assert was_replayed({"id": "we_1"}) is False
    assert StripeResponse({"id": "we_1"}).replayed is False

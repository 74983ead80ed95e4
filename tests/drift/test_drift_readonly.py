"""The read-only client: GETs pass through, everything else is refused before it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from reconciler.drift.readonly import ReadOnlyClient
from reconciler.errors import ReadOnlyViolationError


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        self.sent.append((method, path, params))
        return {"ok": True}

    async def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        self.sent.append(("GET", path, params))
        yield {"id": "we_1"}


def test_get_is_forwarded() -> None:
    inner = Recorder()
    client = ReadOnlyClient(inner)
    assert asyncio.run(client.request("get", "/v1/tax/settings")) == {"ok": True}
    assert inner.sent == [("GET", "/v1/tax/settings", None)]


def test_pagination_is_forwarded() -> None:
    inner = Recorder()

    async def collect() -> list[dict[str, Any]]:
        return [o async for o in ReadOnlyClient(inner).paginate("/v1/webhook_endpoints")]

    assert asyncio.run(collect()) == [{"id": "we_1"}]
    assert inner.sent == [("GET", "/v1/webhook_endpoints", None)]


@pytest.mark.parametrize(
    ("method", "key"), [("POST", None), ("DELETE", None), ("post", None), ("GET", "k1")]
)
def test_writes_are_refused_before_sending(method: str, key: str | None) -> None:
    inner = Recorder()
    with pytest.raises(ReadOnlyViolationError, match="this command is read-only"):
        asyncio.run(
            ReadOnlyClient(inner).request(method, "/v1/webhook_endpoints", {}, idempotency_key=key)
        )
    assert inner.sent == []

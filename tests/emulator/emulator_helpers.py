"""Keys and small helpers shared by the emulator tests (a plain module: tests has no package).

``starlette.testclient`` is deprecated with httpx in this Starlette, so
:class:`SyncASGITransport` drives ``httpx.ASGITransport`` through an anyio blocking portal.
"""

from __future__ import annotations

from typing import Any

import httpx
from anyio.from_thread import BlockingPortal
from starlette.applications import Starlette

TEST_KEY = "sk_test_" + "e" * 12
LIVE_KEY = "sk_live_" + "e" * 12
OTHER_KEY = "sk_test_" + "o" * 12
EVENT = "charge.succeeded"


def create_endpoint(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    data = {"url": "https://example.com/hook", "enabled_events[]": EVENT, **extra}
    response = client.post("/v1/webhook_endpoints", data=data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class SyncASGITransport(httpx.BaseTransport):
    """Run each request through ``httpx.ASGITransport`` on the portal's event loop."""

    def __init__(self, app: Starlette, portal: BlockingPortal) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(call)

"""In-process emulator client for the emulator's own tests (no socket, no thread).

``starlette.testclient`` is deprecated with httpx in this Starlette, so a small synchronous
transport drives ``httpx.ASGITransport`` through one anyio blocking portal per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from emulator_helpers import TEST_KEY
from starlette.applications import Starlette

from reconciler.emulator.app import Runtime, create_app


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


@pytest.fixture
def app() -> Starlette:
    return create_app()


@pytest.fixture
def runtime(app: Starlette) -> Runtime:
    result: Runtime = app.state.runtime
    return result


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as running:
        yield running


@pytest.fixture
def client(app: Starlette, portal: BlockingPortal) -> Iterator[httpx.Client]:
    transport = SyncASGITransport(app, portal)
    with httpx.Client(transport=transport, base_url="http://emulator", auth=(TEST_KEY, "")) as http:
        yield http

"""In-process emulator client for the emulator's own tests (no socket, no thread)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from emulator_helpers import TEST_KEY, SyncASGITransport
from starlette.applications import Starlette

from reconciler.emulator.app import Runtime, create_app


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

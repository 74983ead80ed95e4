"""fetch_live: one list pass per kind (limit=100, registrations with status=all), one settings
GET, all kinds concurrently; and the handler registry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from reconciler.errors import MalformedResponseError
from reconciler.resources import HANDLERS, fetch_live


class RecordingClient:
    """Answers reads from canned data; every call waits until all three kinds have started,
    so a sequential fetch would time out instead of passing."""

    def __init__(self, *, url: Any = "https://example.com/hooks") -> None:
        self.url = url
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.started = 0
        self.all_started = asyncio.Event()

    async def _arrive(self) -> None:
        self.started += 1
        if self.started == 4:
            self.all_started.set()
        await asyncio.wait_for(self.all_started.wait(), timeout=2)

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        self.calls.append((method, path, dict(params or {})))
        await self._arrive()
        return {"object": "tax.settings", "status": "active"}

    async def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        self.calls.append(("LIST", path, dict(params or {})))
        await self._arrive()
        prefix = {"/v1/webhook_endpoints": "we", "/v2/core/event_destinations": "ed"}.get(
            path, "taxreg"
        )
        for i in range(3):
            yield {"id": f"{prefix}_{i}", **({"url": self.url} if prefix == "we" else {})}


def test_fetch_reads_each_kind_once_and_concurrently() -> None:
    client = RecordingClient()
    live = asyncio.run(fetch_live(client))
    assert sorted(client.calls) == [
        ("GET", "/v1/tax/settings", {}),
        ("LIST", "/v1/tax/registrations", {"limit": 100, "status": "all"}),
        ("LIST", "/v1/webhook_endpoints", {"limit": 100}),
        # v2 leaves the page size to Stripe, and a list shows the URL only when asked
        ("LIST", "/v2/core/event_destinations", {"include": ["webhook_endpoint.url"]}),
    ]
    assert [o["id"] for o in live.of("webhook_endpoints")] == ["we_0", "we_1", "we_2"]
    assert [o["id"] for o in live.of("event_destinations")] == ["ed_0", "ed_1", "ed_2"]
    assert [o["id"] for o in live.of("tax_registrations")] == ["taxreg_0", "taxreg_1", "taxreg_2"]
    assert live.of("tax_settings") == ({"object": "tax.settings", "status": "active"},)


def test_the_debug_log_counts_each_kind(caplog: pytest.LogCaptureFixture) -> None:
    """The time it took (never more than the call lasted) and how many objects of each kind."""
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="reconciler.resources"):
        asyncio.run(fetch_live(RecordingClient()))
    lasted = time.monotonic() - started
    [message] = [r.getMessage() for r in caplog.records if r.name == "reconciler.resources"]
    took, counts = message.removeprefix("fetched live state in ").split("s: ")
    assert 0 <= float(took) <= lasted + 0.0005  # shown rounded to ms
    assert (
        counts == "tax_settings=1, webhook_endpoints=3, event_destinations=3, tax_registrations=3"
    )


def test_a_malformed_object_is_refused_with_its_kind() -> None:
    with pytest.raises(MalformedResponseError) as refused:
        asyncio.run(fetch_live(RecordingClient(url=["not", "a", "url"])))
    assert str(refused.value) == (
        "Stripe returned a webhook_endpoint this tool cannot read (we_0): "
        "webhook_endpoint.url is an array, not string"
    )


def test_registry_order_is_apply_order() -> None:
    assert list(HANDLERS) == [
        "tax_settings",
        "webhook_endpoints",
        "event_destinations",
        "tax_registrations",
    ]
    assert all(HANDLERS[kind].kind == kind for kind in HANDLERS)

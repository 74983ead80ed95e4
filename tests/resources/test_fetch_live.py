"""fetch_live: one list pass per kind (limit=100, registrations with status=all), one settings
GET, all kinds concurrently; and the handler registry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from reconciler.resources import HANDLERS, fetch_live


class RecordingClient:
    """Answers reads from canned data; every call waits until all three kinds have started,
    so a sequential fetch would time out instead of passing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.started = 0
        self.all_started = asyncio.Event()

    async def _arrive(self) -> None:
        self.started += 1
        if self.started == 3:
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
            yield {"id": f"{prefix}_{i}"}


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


def test_registry_order_is_apply_order() -> None:
    assert list(HANDLERS) == [
        "tax_settings",
        "webhook_endpoints",
        "event_destinations",
        "tax_registrations",
    ]
    assert all(HANDLERS[kind].kind == kind for kind in HANDLERS)

"""Keys and small helpers shared by the emulator tests (a plain module: tests has no package)."""

from __future__ import annotations

from typing import Any

import httpx

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

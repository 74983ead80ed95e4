"""Reading an emulator back through its Stripe API, the way a user's script would.

Shared by ``tests/e2e/``, ``tests/chaos/`` and ``bench/chaos.py`` (all have ``tests/`` on
``sys.path``, as for ``leakscan``). Counting duplicates must go through listing, not through the
emulator's internals, so what is counted is what a Stripe client would see.
"""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.emulator.server import EmulatorServer


def list_all(
    emulator: EmulatorServer, path: str, *, key: str, **params: Any
) -> list[dict[str, Any]]:
    """Every object of a list endpoint, page after page (100 a page)."""
    objects: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 100, **params}
    with httpx.Client(base_url=emulator.base_url, auth=(key, "")) as api:
        while True:
            page = api.get(path, params=query).json()
            objects.extend(page["data"])
            if not page["has_more"]:
                return objects
            query["starting_after"] = page["data"][-1]["id"]

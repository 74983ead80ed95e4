"""What the end-to-end and chaos tests share: the real CLI in its own process, and reading an
emulator back through its Stripe API, the way a user's script would.

Used by ``tests/e2e/``, ``tests/chaos/`` and ``bench/chaos.py`` (all have ``tests/`` on
``sys.path``, as for ``leakscan``). Duplicates are counted by listing, not through the
emulator's internals, so what is counted is what a Stripe client would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.emulator.server import EmulatorServer


def spawn_cli(
    env: Mapping[str, str | None], *args: str, extra_env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """``python -m reconciler ARGS`` with this environment over ours (``None`` removes a
    variable, e.g. GITHUB_ACTIONS on a CI runner would print masks); pipes, text."""
    merged = dict(os.environ)
    for name, value in env.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    merged.update(extra_env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        env=merged,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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

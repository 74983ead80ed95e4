"""The emulator's state: objects per (account, mode), idempotency results, the clock.

Everything is plain JSON data so that ``--state-file`` can persist it as-is. A namespace is
``"<account>:test"`` or ``"<account>:live"``: objects never cross modes, and each connected
account (``Stripe-Account``) has its own. Webhook signing secrets are never stored — Stripe
only shows them in the create response, so the emulator has no reason to keep them.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import time
from pathlib import Path
from typing import Any

from reconciler.atomic import write_text_atomically
from reconciler.emulator.config import ConfigError

logger = logging.getLogger(__name__)

STATE_FORMAT = 1
_ALPHABET = string.ascii_letters + string.digits


def namespace_key(account: str, livemode: bool) -> str:
    return f"{account}:{'live' if livemode else 'test'}"


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id; random rather than seeded, so ids never collide across restarts."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class Store:
    """Mutable state plus the emulator clock (wall time shifted by ``advance``)."""

    def __init__(self) -> None:
        self.clock_offset = 0.0
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        #: platform namespace → its connected accounts (``POST /v1/accounts``) by id
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {}

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> float:
        self.clock_offset += seconds
        return self.now()

    def namespace(self, account: str, livemode: bool) -> dict[str, Any]:
        """The (created on first use) state of one account in one mode."""
        key = namespace_key(account, livemode)
        if key not in self.namespaces:
            self.namespaces[key] = {
                "webhook_endpoints": {},
                "tax_settings": None,
                "tax_registrations": {},
            }
        return self.namespaces[key]

    def connected_accounts(self, platform: str, livemode: bool) -> dict[str, dict[str, Any]]:
        """The accounts ``platform`` created in this mode (created empty on first use)."""
        return self.accounts.setdefault(namespace_key(platform, livemode), {})

    # --- idempotency -------------------------------------------------------------------------

    def idempotent_result(self, key: str, now: float, ttl: float) -> dict[str, Any] | None:
        """The stored first result for ``key``, unless it is older than ``ttl`` seconds."""
        stored = self.idempotency.get(key)
        if stored is not None and now - stored["created"] >= ttl:
            del self.idempotency[key]
            return None
        return stored

    def remember(self, key: str, entry: dict[str, Any]) -> None:
        self.idempotency[key] = entry

    # --- persistence -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "clock_offset": self.clock_offset,
            "namespaces": self.namespaces,
            "idempotency": self.idempotency,
            "accounts": self.accounts,
        }

    def load_json(self, data: dict[str, Any]) -> None:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported emulator state format {data.get('format')!r}")
        self.clock_offset = float(data.get("clock_offset", 0.0))
        self.namespaces = dict(data.get("namespaces", {}))
        self.idempotency = dict(data.get("idempotency", {}))
        self.accounts = dict(data.get("accounts", {}))

    def clear(self) -> None:
        self.clock_offset = 0.0
        self.namespaces.clear()
        self.idempotency.clear()
        self.accounts.clear()


def load_state(store: Store, path: Path) -> bool:
    """Fill ``store`` from ``path`` if it exists; returns whether anything was loaded."""
    if not path.exists():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        store.load_json(data)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"cannot load the emulator state file {path}: {error}; fix or remove it"
        ) from error
    logger.info("loaded emulator state from %s", path)
    return True


def save_state(store: Store, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    write_text_atomically(path, json.dumps(store.to_json(), sort_keys=True), parents=True)

"""Deterministic ``Idempotency-Key`` values for every POST apply sends.

The key is a hash of everything that makes a write *this* write: the account and mode, the
connected account, the plan checksum, the resource address, the action, and the exact request
(method, path, params). The same plan applied twice, concurrently or after a crash, therefore
sends the same key for the same request and Stripe replays the first answer instead of creating a
second object (within Stripe's 24-hour key window; the lookup by identity before each create covers
the time after it). Any difference in any input gives another key, so a changed body can never
collide with an old key (Stripe would answer ``idempotency_error``).

A replayed create may describe an object deleted (or a registration ended) since; the executor
then sends the create again under a key derived from the key and the lost object's id
(:func:`derived_key`), see ``Executor._create``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from reconciler.resources.changes import canonical_json

#: Bump when the hashed payload changes shape, so old and new keys never collide.
KEY_SCHEME = "stripe-reconciler/idempotency/v1"
KEY_PREFIX = "sr-"
_HEX_CHARS = 48


def idempotency_key(
    *,
    account: str,
    mode: str,
    stripe_account: str | None,
    plan_checksum: str,
    address: str,
    action: str,
    method: str,
    path: str,
    params: Mapping[str, Any] | None,
) -> str:
    """``sr-`` + 48 hex chars of sha256 over the canonical JSON of all inputs (≤ 255 chars)."""
    payload = {
        "scheme": KEY_SCHEME,
        "account": account,
        "mode": mode,
        "stripe_account": stripe_account,
        "plan": plan_checksum,
        "address": address,
        "action": action,
        "method": method.upper(),
        "path": path,
        "params": dict(params) if params is not None else None,
    }
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    return KEY_PREFIX + digest[:_HEX_CHARS]


def derived_key(key: str, lost_id: str) -> str:
    """The key for a create sent again because ``key``'s replay described ``lost_id``, an
    object gone since. Deterministic (every apply of the plan derives the same one) and a new
    key per lost object (a key Stripe holds for an earlier loss is never reused)."""
    digest = hashlib.sha256(f"{key}\n{lost_id}".encode()).hexdigest()
    return KEY_PREFIX + digest[:_HEX_CHARS]

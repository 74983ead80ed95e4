"""Object locks: a write to one object waits for another write to it, then gives up with 429.

Stripe answers 429 with code ``lock_timeout`` when concurrent writes to one object cannot get
its lock (FACTS.md §4 citing docs.stripe.com/rate-limits), and its SDKs retry such answers:
stripe-python 16.1.0 ``_http_client._should_retry`` defers to ``Stripe-Should-Retry`` "(eg; in
cases of lock timeouts)", and stripe-php and stripe-ruby retry lock-timeout 429s (FACTS.md
[S18]). How long Stripe waits for a lock before it answers so is not documented, and nothing
says an overlap alone always fails, so the wait is the ``lock_timeout_ms`` knob and it is off
(``None``: writes to one object simply run) unless a test asks for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from reconciler.emulator.errors import EmulatedError

LOCK_TIMEOUT_MESSAGE = (
    "This object cannot be accessed right now because another API request is currently "
    "accessing it. Retry the request; when you make concurrent requests to a single object, "
    "make them serially or at a lower rate. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits."
)


def lock_timeout() -> EmulatedError:
    """The 429 for a lock not granted in time; never stored under an idempotency key, so a
    retry with the same key runs the write (that is why the SDKs retry it)."""
    return EmulatedError(
        429,
        LOCK_TIMEOUT_MESSAGE,
        code="lock_timeout",
        stored=False,
        headers={"Stripe-Should-Retry": "true"},
    )


class ObjectLocks:
    """One lock per object (key: account namespace and object path), held while a write runs."""

    def __init__(self) -> None:
        # lock and how many writes hold or wait for it, so an unused lock can be forgotten
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str | None, timeout_ms: float | None) -> AsyncIterator[None]:
        """Hold ``key``'s lock for the block; ``None`` for either means no locking at all."""
        if key is None or timeout_ms is None:
            yield
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            if timeout_ms == 0:
                # wait_for with no time at all gives up even on a free lock
                if lock.locked():
                    raise lock_timeout()
                await lock.acquire()
            else:
                try:
                    await asyncio.wait_for(lock.acquire(), timeout_ms / 1000.0)
                except asyncio.TimeoutError:
                    raise lock_timeout() from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users > 1:
                self._locks[key] = (lock, users - 1)
            else:
                del self._locks[key]

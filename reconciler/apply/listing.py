"""One endpoint listing shared by the creates that finish together.

After creating a webhook endpoint, apply lists the endpoints to see whether a concurrent apply
of another plan created the same name (``Executor._yield_to_concurrent_create``). That check
needs a listing *sent after its own create completed*, nothing more, so creates that run in
parallel can share one: the listing is sent once no create is still running, which is after
every waiting creator's create completed. With ``--parallelism N`` that is about one listing per
``N`` creates instead of one per create, and requests are what Stripe's rate limit counts.

A waiting creator holds its parallelism slot, so at most ``N - 1`` more creates can start while
it waits; it never waits for more than those.

A listing that fails hands out ``None`` instead of raising: the creates it serves have
succeeded, and each holds a signing secret that must reach the sinks whatever the check says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from reconciler.resources.base import LiveObject

logger = logging.getLogger(__name__)

T = TypeVar("T")
Listing = tuple[LiveObject, ...]


class SharedListing:
    """Runs creates and hands each a listing sent after it completed (see the module doc)."""

    def __init__(
        self, fetch: Callable[[], Awaitable[Listing]], *, what: str = "webhook endpoints"
    ) -> None:
        self._fetch = fetch
        #: what is listed, as the warning of a failed listing says it
        self._what = what
        self._running = 0
        self._waiting: list[asyncio.Future[Listing | None]] = []
        self._fetches = 0

    @property
    def fetches(self) -> int:
        """How many listings were sent (for tests and benchmarks)."""
        return self._fetches

    async def create_then_list(self, create: Awaitable[T]) -> tuple[T, Listing | None]:
        """Await ``create``, then a listing sent after it completed (``None`` if that listing
        failed). A failed create lists nothing and raises; it no longer holds back the
        creators waiting for a listing."""
        self._running += 1
        try:
            result = await create
        except BaseException:
            self._running -= 1
            self._list_when_idle()
            raise
        self._running -= 1
        waiter: asyncio.Future[Listing | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._list_when_idle()
        return result, await waiter

    def _list_when_idle(self) -> None:
        if self._running or not self._waiting:
            return
        waiters, self._waiting = self._waiting, []
        self._fetches += 1
        task = asyncio.ensure_future(self._fetch())

        def hand_out(done: asyncio.Future[Listing]) -> None:
            error = None if done.cancelled() else done.exception()
            if error is not None:
                logger.warning("listing the %s after a create failed: %s", self._what, error)
            for waiter in waiters:
                if waiter.done():
                    continue  # its creator was cancelled
                if done.cancelled():
                    waiter.cancel()
                else:
                    waiter.set_result(None if error is not None else done.result())

        task.add_done_callback(hand_out)

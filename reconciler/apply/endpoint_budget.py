"""Keeping one apply within Stripe's webhook endpoint limit while it runs.

Stripe allows 16 webhook endpoints per account and mode. The plan is refused up front when its
creates cannot fit (``reconciler.plan.builder.check_endpoint_limit``); this module makes apply
run what fits in an order that stays within the limit:

* a create takes a place;
* a replace takes a place for its new endpoint and gives one back once it has deleted the old
  one, so at the limit replaces run one at a time, each waiting for the one before to delete
  its old endpoint;
* the replace of an endpoint whose signing secret was never delivered takes a free place if
  there is one (new before old, as usual), and otherwise deletes the old endpoint first and
  puts its successor in its place: nobody can be using a secret that never left Stripe's
  create response, so nothing is lost by the gap.

The count starts from the live endpoints the plan was made from. It is this apply's own
bookkeeping: an endpoint someone else creates meanwhile is not counted, and Stripe refuses
what does not fit, which apply then reports as a failed action.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from reconciler.manifest.checks import MAX_WEBHOOK_ENDPOINTS


class EndpointBudget:
    """The places left for new endpoints during one apply (``existing=None``: not counted)."""

    def __init__(self, existing: int | None, *, limit: int = MAX_WEBHOOK_ENDPOINTS) -> None:
        self._count = existing
        self._limit = limit
        self._freeing = 0
        self._changed = asyncio.Condition()

    @property
    def count(self) -> int | None:
        """Endpoints that exist by this apply's count (for tests)."""
        return self._count

    def _has_room(self) -> bool:
        return self._count is None or self._count < self._limit

    def _add(self, delta: int) -> None:
        if self._count is not None:
            self._count += delta

    def try_take(self) -> bool:
        """Take a place if one is free right now, without waiting."""
        if not self._has_room():
            return False
        self._add(1)
        return True

    async def take(self) -> None:
        """Take a place, waiting while the account is full and a running replace will free one.

        With nothing running that frees a place, waiting could never end: the create goes
        ahead and Stripe decides (the plan check makes that the rare case of an account
        changed by someone else).
        """
        async with self._changed:
            await self._changed.wait_for(lambda: self._has_room() or not self._freeing)
            self._add(1)

    async def give(self) -> None:
        """An endpoint was deleted, or a place taken for a create that did not happen."""
        async with self._changed:
            self._add(-1)
            self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def freeing(self) -> AsyncIterator[None]:
        """Mark a replace in flight: it will delete its old endpoint before it ends."""
        self._freeing += 1
        try:
            yield
        finally:
            async with self._changed:
                self._freeing -= 1
                self._changed.notify_all()

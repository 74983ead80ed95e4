"""A client-side rate limiter, so a large apply runs at the limit instead of into 429s.

It is a token bucket written in its "virtual scheduling" form (GCRA): each request reserves the
next free slot on a timeline spaced ``1 / rate`` apart, and sleeps until its slot. With
``burst=1`` (the default) any window of ``T`` seconds holds at most ``1 + rate * T`` sends, and
any half-open one-second window at most ``rate``. Reserving is synchronous (no ``await``
between reading and writing the timeline), so one limiter is safe to share between all the
tasks of an event loop and serves them first come, first served.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """``rate`` requests per second, with up to ``burst`` sent back to back after a pause."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot: float | None = None

    def reserve(self) -> float:
        """Take the next slot; return how many seconds to wait before using it."""
        now = self._clock()
        # A slot in the past is forfeited (no credit beyond ``burst`` for idle time).
        earliest = now - (self.burst - 1) * self._interval
        slot = earliest if self._next_slot is None else max(self._next_slot, earliest)
        self._next_slot = slot + self._interval
        return max(0.0, slot - now)

    async def acquire(self) -> float:
        """Wait for a slot; return the seconds spent waiting."""
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)
        return delay

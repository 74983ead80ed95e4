"""A client-side rate limiter, so a large apply runs at the limit instead of into 429s.

It is a token bucket written in its "virtual scheduling" form (GCRA): each request reserves the
next free slot on a timeline spaced ``1 / rate`` apart, and sleeps until its slot. With
``burst=1`` (the default) any window of ``T`` seconds holds at most ``1 + rate * T`` sends, and
any half-open one-second window at most ``rate``. Reserving is synchronous (no ``await``
between reading and writing the timeline), so one limiter is safe to share between all the
tasks of an event loop and serves them first come, first served.

``opening=N`` lets the first ``N`` requests after a full second without sends (a fresh client:
``plan``'s concurrent first reads) go at once. Unlike ``burst``, which takes credit from idle
time in the past, an opening borrows the next ``N`` slots of the timeline, and later requests
queue behind them. Since nothing was sent in the second before, every half-open one-second
window still holds at most ``rate`` sends (for ``N <= rate``), so it costs no headroom
against a server that counts requests per second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

#: Silence that makes the next requests an opening: servers count requests per second.
OPENING_IDLE_SECONDS = 1.0


class TokenBucket:
    """``rate`` requests per second, with up to ``burst`` sent back to back after a pause."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        opening: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        if not 1 <= opening <= max(1.0, rate):
            raise ValueError(f"opening must be between 1 and the rate, got {opening!r}")
        if opening > 1 and burst > 1:
            raise ValueError("give either burst or opening, not both")
        self.rate = rate
        self.burst = burst
        self.opening = opening
        self._opening_left = 0
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot: float | None = None

    def reserve(self) -> float:
        """Take the next slot; return how many seconds to wait before using it."""
        now = self._clock()
        if self.opening > 1:
            last = None if self._next_slot is None else self._next_slot - self._interval
            if last is None or now - last >= OPENING_IDLE_SECONDS:
                self._opening_left = self.opening
                self._next_slot = now
            if self._opening_left > 0:
                self._opening_left -= 1
                base = now if self._next_slot is None else max(self._next_slot, now)
                self._next_slot = base + self._interval
                return 0.0
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

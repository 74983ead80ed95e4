"""A client-side rate limiter, so a large apply runs at the limit instead of into 429s.

Stripe limits requests twice (FACTS.md §4, docs.stripe.com/rate-limits): a global budget per
account (100/s live, 25/s test) and, by default, 25/s per API endpoint, where each named
operation (``POST /v1/tax/registrations``, ``POST /v1/webhook_endpoints/{id}``) is its own
endpoint and also counts against the global budget. :class:`RateLimiter` keeps one
:class:`TokenBucket` for the global budget and one per operation (:func:`operation_key`).

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

A :class:`Budget` is one account's pair of budgets; a client's :class:`RateLimiter` has its own
and may share others with other clients (the platform-wide budget of a fleet of connected
accounts), and a request waits until every budget allows it.

Slots pace reservations; a :class:`SendLog` per budget guards the real sends, which drift from
their slots, so that no server-side one-second window sees more than the rate either.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache

from reconciler.data import openapi
from reconciler.stripe.v2 import TEMPLATES as V2_TEMPLATES

#: Silence that makes the next requests an opening: servers count requests per second.
OPENING_IDLE_SECONDS = 1.0

#: How much later than its send a request may be stamped by the server, relative to another
#: (see :class:`SendLog`); B4 measured 2-20 ms between this process and its emulator.
ARRIVAL_JITTER_SECONDS = 0.01


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


@cache
def _templates() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Stripe's path templates from the packaged OpenAPI subset and the v2 ones the client
    calls (:data:`reconciler.stripe.v2.TEMPLATES`), ``{param}`` as one segment."""
    templated = [*(path for path in openapi()["paths"] if "{" in path), *V2_TEMPLATES]
    return tuple(
        (path, re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$")) for path in templated
    )


def operation_key(method: str, path: str) -> str:
    """``METHOD /v1/path/{template}``: the endpoint a request counts against at Stripe.

    Ids are replaced by Stripe's own template (``/v1/webhook_endpoints/we_1`` →
    ``/v1/webhook_endpoints/{webhook_endpoint}``), so every update of an endpoint shares one
    budget. A path outside the packaged spec (``/v1/account``) is its own operation.
    """
    for template, pattern in _templates():
        if pattern.match(path):
            return f"{method} {template}"
    return f"{method} {path}"


class SendLog:
    """The last ``floor(rate)`` real send times, so no one-second window ever holds more.

    The timeline of a :class:`TokenBucket` spaces *reservations*; real sends drift from them
    (a sleep that wakes late, a request held up by the other budget or the concurrency bound),
    and one late send followed by punctual ones puts one more send into a window than the
    rate. Servers count real arrivals in sliding windows, so this guard delays a send until the
    one ``floor(rate)`` sends before it is a second and :data:`ARRIVAL_JITTER_SECONDS` old:
    the moment a send is allowed is not the moment its bytes leave, nor the moment the server
    stamps them. Sends that keep to their slots wait at most that margin once per ``rate``.
    """

    def __init__(self, rate: float) -> None:
        self._sends: deque[float] = deque(maxlen=max(1, int(rate)))
        self._window = 1.0 + ARRIVAL_JITTER_SECONDS

    def wait(self, now: float) -> float:
        """Seconds until one more send keeps every one-second window within the rate."""
        if len(self._sends) < (self._sends.maxlen or 1):
            return 0.0
        return max(0.0, self._sends[0] + self._window - now)

    def record(self, at: float) -> None:
        self._sends.append(at)


class Budget:
    """One account's two budgets at Stripe: ``rate`` per second overall and ``operation_rate``
    per operation, each a :class:`TokenBucket` (the pace) and a :class:`SendLog` (the guard on
    real sends).

    A :class:`RateLimiter` always has one of its own (the account its client acts on) and may
    share others with the limiters of other clients: a fleet gives every connected account's
    client the one platform-wide budget (:mod:`reconciler.fleet`), since whether Stripe counts
    a request made with ``Stripe-Account`` against the platform, the connected account or both
    is not documented (FACTS.md §4).
    """

    def __init__(
        self,
        rate: float,
        operation_rate: float,
        *,
        opening: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.operation_rate = operation_rate
        self._clock = clock
        self._sleep = sleep
        self.bucket = TokenBucket(
            rate, opening=min(opening, max(1, int(rate))), clock=clock, sleep=sleep
        )
        self.sends = SendLog(rate)
        self._operations: dict[str, tuple[TokenBucket, SendLog, asyncio.Lock]] = {}

    @property
    def per_operation(self) -> bool:
        """Whether the per-operation budget can bind at all: one at least as large as the
        global budget never does, and is left out (no per-operation queue that would let other
        requests pass, and change the order)."""
        return self.operation_rate < self.rate

    def operation(self, operation: str) -> tuple[TokenBucket, SendLog, asyncio.Lock]:
        found = self._operations.get(operation)
        if found is None:
            # No opening per operation: concurrent first reads are of different operations,
            # and a burst of one operation arrives stamped together at the end of its window.
            bucket = TokenBucket(self.operation_rate, clock=self._clock, sleep=self._sleep)
            found = (bucket, SendLog(self.operation_rate), asyncio.Lock())
            self._operations[operation] = found
        return found


@dataclass(frozen=True)
class SharedLimits:
    """What the clients of many connected accounts share: ``budgets`` (the platform's) and
    ``in_flight``, a bound on their requests in flight together (so many clients never queue
    more requests on one connection pool than it has connections)."""

    budgets: tuple[Budget, ...] = ()
    in_flight: asyncio.Semaphore | None = None


class RateLimiter:
    """Both of Stripe's budgets: ``rate`` per second overall and ``operation_rate`` per operation,
    for the client's own account, plus the ``shared`` limits of a fleet (:class:`SharedLimits`).

    :meth:`acquire` returns once a request may be sent under every budget, holding one slot of
    the ``concurrency`` semaphore (and of the shared ``in_flight`` one), which the caller gives
    back with
    :meth:`release` after the request. Requests of one operation queue one at a time for the
    global budgets and the semaphores (a per-operation lock per budget, taken in a fixed order:
    own, then shared), so requests of other operations pass them instead of waiting in line
    behind a busy operation. A send is allowed only when every budget's send log allows it, and
    is recorded in all of them at once: a send held up by one budget never leaves another
    budget's log believing it went out earlier than it did.
    """

    def __init__(
        self,
        rate: float,
        operation_rate: float,
        *,
        opening: int = 1,
        shared: SharedLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.operation_rate = operation_rate
        self._clock = clock
        self._sleep = sleep
        self.own = Budget(rate, operation_rate, opening=opening, clock=clock, sleep=sleep)
        self.bucket = self.own.bucket
        shared = shared or SharedLimits()
        self._budgets = (self.own, *shared.budgets)
        self._semaphores = () if shared.in_flight is None else (shared.in_flight,)

    async def acquire(self, operation: str, concurrency: asyncio.Semaphore) -> float:
        """Wait for a send slot of ``operation`` and a ``concurrency`` slot; return seconds waited.

        On return the caller holds one ``concurrency`` slot (and one of the shared ``in_flight``
        semaphore) and must give them back with :meth:`release`. Cancelling the wait (a
        deadline) releases everything taken so far; a reserved slot is then unused.
        """
        operations = [b.operation(operation) for b in self._budgets if b.per_operation]
        if not operations:
            return await self._global(concurrency, ())
        async with contextlib.AsyncExitStack() as stack:
            for _, _, lock in operations:
                await stack.enter_async_context(lock)
            waited = await self._wait([bucket for bucket, _, _ in operations])
            logs = tuple(log for _, log, _ in operations)
            return waited + await self._global(concurrency, logs)

    def release(self, concurrency: asyncio.Semaphore) -> None:
        """Give back what :meth:`acquire` took, once the request is done."""
        for semaphore in reversed(self._semaphores):
            semaphore.release()
        concurrency.release()

    async def _wait(self, buckets: Sequence[TokenBucket]) -> float:
        """Reserve a slot in each bucket and sleep until the latest of them."""
        delay = max(bucket.reserve() for bucket in buckets)
        if delay > 0:
            await self._sleep(delay)
        return delay

    async def _global(self, concurrency: asyncio.Semaphore, logs: tuple[SendLog, ...]) -> float:
        taken: list[asyncio.Semaphore] = []
        try:
            for semaphore in (concurrency, *self._semaphores):
                await semaphore.acquire()
                taken.append(semaphore)
            # Inside the semaphores: a slot granted while waiting for concurrency could
            # otherwise be used late, and several late sends would leave back to back.
            waited = await self._wait([budget.bucket for budget in self._budgets])
            logs = (*logs, *(budget.sends for budget in self._budgets))
            while True:
                now = self._clock()
                wait = max(log.wait(now) for log in logs)
                if wait <= 0:
                    # no await between the last check and the record: atomic in the loop
                    for log in logs:
                        log.record(now)
                    return waited
                await self._sleep(wait)
                waited += wait
        except BaseException:
            for semaphore in reversed(taken):
                semaphore.release()
            raise

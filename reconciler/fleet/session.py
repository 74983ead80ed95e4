"""Many accounts in one process: one connection pool, one limiter model, accounts side by side.

A :class:`FleetSession` opens one ``httpx`` pool for the whole run and gives each connected
account a :class:`~reconciler.stripe.StripeClient` of its own on it: the account's own budgets
(``rate_limits.per_account``: Stripe limits requests per account) and, shared by every client,
the platform-wide budget (``rate_limits.platform``) and a bound on requests in flight. The
account's work is the single-account core (:func:`reconciler.api.plan_account` and the rest),
unchanged; the session only decides which client it gets and when it starts.

At most :data:`ACCOUNTS_AT_ONCE` accounts run at a time, and each account's deadline
(``--timeout``) counts from when it starts, not from the start of the command: a fleet of
thousands takes as long as the rate limit says, and no account should run out of time while it
waits for its turn. More accounts at once would not go faster: the budgets are the bound, and
accounts waiting for a slot hold nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

import httpx

from reconciler.api import Account
from reconciler.errors import ReconcilerError
from reconciler.fleet.load import Member
from reconciler.fleet.model import RateLimits
from reconciler.fleet.select import metadata_matches
from reconciler.manifest.model import Manifest
from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.client import connection_pool
from reconciler.stripe.config import DEFAULT_OPERATION_RATE_LIMIT, DEFAULT_RATE_LIMITS
from reconciler.stripe.ratelimit import Budget, SharedLimits

#: Accounts whose work runs at the same time (each with up to its own ``max_concurrency``).
ACCOUNTS_AT_ONCE = 32
#: Requests in flight at once over the whole fleet, and connections in its pool: enough for
#: the budgets (80/s at 50 ms is 4 in flight) with room for slow answers. httpcore's pool
#: examines every connection for every request, so a larger pool only costs CPU.
IN_FLIGHT = 16

T = TypeVar("T")


@dataclass(frozen=True)
class AccountRun(Generic[T]):
    """What one account's work gave: its ``value``, or the ``error`` that stopped it (both
    when the work got as far as a value and was then refused, e.g. a plan over
    ``max_destroy``)."""

    stripe_account: str
    value: T | None
    error: ReconcilerError | None = None


class FleetSession:
    """``async with FleetSession(platform, limits) as session:`` for one run over many accounts.

    ``platform`` is how to reach the platform (its key, API base, deadline, a test transport);
    its ``stripe_account`` must be unset, since the session sets each account's.
    """

    def __init__(
        self,
        platform: Account,
        limits: RateLimits,
        *,
        accounts_at_once: int = ACCOUNTS_AT_ONCE,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self.platform = platform
        self.limits = limits
        self.config = platform.config()
        self._accounts_at_once = accounts_at_once
        self._in_flight = in_flight
        self._pool: httpx.AsyncClient | None = None
        self._shared = SharedLimits()
        self._slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> FleetSession:
        size = httpx.Limits(
            max_connections=self._in_flight, max_keepalive_connections=self._in_flight
        )
        self._pool = connection_pool(self.config, self.platform.transport, limits=size)
        self._shared = SharedLimits(self._platform_budgets(), asyncio.Semaphore(self._in_flight))
        self._slots = asyncio.Semaphore(self._accounts_at_once)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    def _platform_budgets(self) -> tuple[Budget, ...]:
        platform = self.limits.platform
        if platform is None:
            return ()
        rate = float(platform.rate or DEFAULT_RATE_LIMITS[self.config.mode])
        operation = float(platform.operation_rate or DEFAULT_OPERATION_RATE_LIMIT)
        # No opening burst: a fleet's first requests each open a new connection, so they leave
        # late and unevenly, and a burst of them would reach Stripe bunched up with the paced
        # ones after it (26 in a second at 24/s, measured by B6). Paced from the first one,
        # the connections are made while the pace waits anyway; it costs a fraction of a
        # second once per run.
        return (Budget(rate, operation),)

    def account_config(
        self, stripe_account: str | None, manifest: Manifest | None, *, started: float | None
    ) -> StripeConfig:
        """The client settings of one account of the fleet (None: the platform itself)."""
        own = self.limits.per_account
        return dataclasses.replace(
            self.platform.config(manifest),
            stripe_account=stripe_account,
            started_at=started,
            rate_limit=None if own.rate is None else float(own.rate),
            operation_rate_limit=None if own.operation_rate is None else float(own.operation_rate),
        )

    def client(
        self, stripe_account: str | None, manifest: Manifest | None, *, started: float | None
    ) -> StripeClient:
        """A client on the session's pool, under the shared limits."""
        assert self._pool is not None, "use the session as an async context manager"
        config = self.account_config(stripe_account, manifest, started=started)
        return StripeClient(config, http=self._pool, shared=self._shared)

    async def connected_accounts(self, metadata: Mapping[str, str]) -> list[str]:
        """The ids of the platform's connected accounts whose metadata matches, listed page by
        page (``GET /v1/accounts``, 100 a page) within the command's deadline."""
        client = self.client(None, None, started=self.platform.started)
        try:
            return [
                account["id"]
                async for account in client.paginate("/v1/accounts")
                if isinstance(account.get("id"), str) and metadata_matches(account, metadata)
            ]
        finally:
            await client.aclose()

    async def each(
        self,
        members: Sequence[Member],
        manifests: Mapping[str, Manifest],
        work: Callable[[Member, StripeClient], Awaitable[T]],
    ) -> tuple[AccountRun[T], ...]:
        """Run ``work`` for every member, at most :data:`ACCOUNTS_AT_ONCE` at a time; an
        account whose work raises a :class:`ReconcilerError` fails alone."""
        assert self._slots is not None, "use the session as an async context manager"
        slots = self._slots

        async def one(member: Member) -> AccountRun[T]:
            async with slots:
                manifest = manifests.get(member.stripe_account)
                client = self.client(member.stripe_account, manifest, started=time.monotonic())
                try:
                    return AccountRun(member.stripe_account, await work(member, client))
                except ReconcilerError as error:
                    return AccountRun(member.stripe_account, None, error)
                finally:
                    await client.aclose()

        return tuple(await asyncio.gather(*(one(member) for member in members)))

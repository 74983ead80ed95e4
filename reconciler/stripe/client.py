"""The async Stripe API client: the only place in the tool that speaks HTTP to Stripe.

One :class:`StripeClient` holds one ``httpx.AsyncClient`` (its own, or a pool shared by the
clients of a fleet's connected accounts), one rate limiter (with the budgets it shares, see
:mod:`reconciler.stripe.ratelimit`) and one concurrency semaphore, shared by every request made
through it. Each logical request runs up to
``max_attempts`` HTTP attempts; see :mod:`reconciler.stripe.retry` for which outcomes are
retried. Bounds, because a server that trickles or never stops must not hold a command forever:

- one **deadline** for everything the client does (``config.deadline`` seconds from
  ``config.started_at``): rate-limiter waits, attempts, backoff and pages all end by then;
- each attempt's **whole** exchange ends within ``config.timeout`` (httpx's own timeouts only
  bound the gaps between bytes, so one byte every few seconds would never trip them);
- an answer is read up to :data:`MAX_RESPONSE_BYTES` and refused beyond.

After ``config.wait_notice_after`` seconds without an answer, one record goes to
:data:`~reconciler.stripe.transfer.WAITING_LOGGER` (once per slow phase, not per request); the
CLI shows it on stderr.

Tests inject ``transport`` (``httpx.MockTransport`` or any ``httpx.AsyncBaseTransport``) and the
``clock``/``sleep``/``random`` used by retries and the limiter, so they never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import random as random_module
import ssl
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import httpx

from reconciler import __version__
from reconciler.errors import (
    AccountMismatchError,
    APIConnectionError,
    MalformedResponseError,
    StripeError,
)
from reconciler.stripe.config import Mode, StripeConfig
from reconciler.stripe.encoding import encode_form
from reconciler.stripe.ratelimit import RateLimiter, SharedLimits, operation_key
from reconciler.stripe.redaction import install_log_redaction, redact
from reconciler.stripe.response import error_from_response, parse_object, request_id_of
from reconciler.stripe.retry import RetryPolicy, parse_retry_after
from reconciler.stripe.transfer import MAX_RESPONSE_BYTES, AnswerTooLarge, SlowNotices, exchange
from reconciler.stripe.v2 import build_request as build_v2_request
from reconciler.stripe.v2 import is_v2, pages

logger = logging.getLogger(__name__)


def _remember_missing(name: str) -> None:
    """Make importing the module ``name`` fail at once when it is not installed.

    httpcore looks ``sniffio`` up on every request (``_synchronization.current_async_library``
    imports it inside the function), and when it is not installed (httpx and anyio no longer
    require it) each failed import searches ``sys.path`` again: about 0.2-0.5 ms, some 30 times
    per account of a fleet (B6 profile: a sixth of its CPU). A ``None`` entry in ``sys.modules``
    is the import system's own "not available": the import fails as it would have, without the
    search. An installed module is left alone.
    """
    if name not in sys.modules and importlib.util.find_spec(name) is None:
        sys.modules[name] = None  # type: ignore[assignment]


_remember_missing("sniffio")

USER_AGENT = f"stripe-reconciler/{__version__}"
PAGE_LIMIT = 100
_METHODS = frozenset({"GET", "POST", "DELETE"})
_MAX_IDEMPOTENCY_KEY = 255
# Errors raised before any byte could reach the server, or that a retry cannot fix.
_NOT_RETRYABLE_TRANSPORT = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
# Failures before the request left this machine: nothing can have been applied.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of what a client has sent so far (for benchmarks and tests).

    ``requests`` counts HTTP attempts (retries included); ``retries`` the attempts after a
    first one; ``by_status`` responses per HTTP status; ``network_errors`` attempts without a
    response; ``throttled_seconds`` the total time requests waited for the rate limiter.
    """

    requests: int = 0
    retries: int = 0
    by_status: Mapping[int, int] = field(default_factory=dict)
    network_errors: int = 0
    throttled_seconds: float = 0.0


class StripeResponse(dict[str, Any]):
    """The JSON object of a successful answer, plus what its headers said.

    A plain ``dict`` to every caller; ``replayed`` is True when Stripe answered an
    ``Idempotency-Key`` it had seen with the stored first answer (``Idempotent-Replayed: true``),
    which may describe an object deleted since. ``request_id`` is Stripe's ``Request-Id``.
    """

    replayed: bool = False
    request_id: str | None = None

    @classmethod
    def of(cls, body: Mapping[str, Any], response: httpx.Response) -> StripeResponse:
        made = cls(body)
        made.replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        made.request_id = request_id_of(response)
        return made


def was_replayed(response: Mapping[str, Any]) -> bool:
    """True when ``response`` is an idempotent replay (False for any other mapping)."""
    return isinstance(response, StripeResponse) and response.replayed


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: the error to raise if it is the last, and whether to retry."""

    error: StripeError
    retryable: bool
    reason: str
    retry_after: float | None


class StripeClient:
    """Async client for the Stripe API. Use as ``async with StripeClient(config) as client:``."""

    def __init__(
        self,
        config: StripeConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
        http: httpx.AsyncClient | None = None,
        shared: SharedLimits | None = None,
    ) -> None:
        install_log_redaction()
        self.config = config
        self.mode: Mode = config.mode
        self._policy = RetryPolicy(
            max_attempts=config.max_attempts,
            backoff_initial=config.backoff_initial,
            backoff_max=config.backoff_max,
        )
        self._clock = clock
        self._sleep = sleep
        self._random = random
        started = config.started_at if config.started_at is not None else clock()
        self._deadline_at = started + config.deadline
        #: pauses open now (see :meth:`deadline_paused`) and when the first of them began
        self._pauses = 0
        self._paused_at = 0.0
        # A fresh client may send as many requests at once as it can have in flight (plan's
        # concurrent first reads); the limiter keeps every one-second window within the rate.
        self._limiter = RateLimiter(
            config.effective_rate_limit,
            config.effective_operation_rate_limit,
            opening=config.max_concurrency,
            shared=shared,
            clock=clock,
            sleep=sleep,
        )
        self._notices = SlowNotices(config.wait_notice_after, clock)
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        # Sent with every request rather than set on the connection pool, so one pool can
        # serve the clients of many connected accounts (``http``, shared by a fleet).
        self._headers = {
            "Authorization": f"Bearer {config.api_key}",
            "Stripe-Version": config.effective_api_version,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if config.stripe_account:
            self._headers["Stripe-Account"] = config.stripe_account
        self._owns_http = http is None
        self._http = http if http is not None else connection_pool(config, transport)
        self._requests = 0
        self._retries = 0
        self._by_status: dict[int, int] = {}
        self._network_errors = 0
        self._throttled = 0.0

    def __repr__(self) -> str:
        return (
            f"StripeClient(api_base={self.config.api_base!r}, mode={self.mode!r}, "
            f"stripe_account={self.config.stripe_account!r})"
        )

    async def __aenter__(self) -> StripeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connections (a shared pool is its owner's to close)."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def stats(self) -> ClientStats:
        """Counters since the client was created (a frozen snapshot)."""
        return ClientStats(
            requests=self._requests,
            retries=self._retries,
            by_status=dict(sorted(self._by_status.items())),
            network_errors=self._network_errors,
            throttled_seconds=self._throttled,
        )

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> StripeResponse:
        """Send one logical request and return the JSON object Stripe answers with.

        ``params`` go in the query string for GET/DELETE and in the form body for POST. A POST is
        retried only when ``idempotency_key`` is given; the same key is sent on every attempt.
        The answer is a :class:`StripeResponse` (a ``dict`` that also says whether it was an
        idempotent replay). Raises a :class:`~reconciler.errors.StripeError` subclass on failure.
        """
        method = method.upper()
        request = self._build_request(method, path, params, idempotency_key)
        operation = operation_key(method, path)
        has_key = idempotency_key is not None
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            remaining = self._deadline() - self._clock()
            if remaining <= 0:
                raise self._deadline_error(method, path, has_key)
            try:
                # a cancel scope, not asyncio.wait_for: no extra task per attempt, and the
                # attempt's own timeout inside tells its expiry apart from this one's
                with anyio.fail_after(remaining):
                    outcome = await self._limited_attempt(
                        operation, request, path, attempt, started
                    )
            except TimeoutError:
                raise self._deadline_error(method, path, has_key) from None

            if isinstance(outcome, httpx.Response) and outcome.is_success:
                body = self._checked_mode(parse_object(outcome), method, path)
                return StripeResponse.of(body, outcome)
            failure = self._judge(method, path, outcome, has_key)
            if not failure.retryable:
                raise failure.error
            if attempt >= self._policy.max_attempts:
                raise _gave_up(failure.error, attempt, "attempts exhausted")
            delay = self._policy.delay(attempt, self._random, failure.retry_after)
            if self._clock() + delay > self._deadline():
                why = f"{self.config.deadline:g}s deadline reached"
                raise _gave_up(failure.error, attempt, why)
            self._retries += 1
            logger.debug(
                "stripe retry %s %s after %s in %.0f ms (attempt %d of %d)",
                method,
                request.url.path,
                failure.reason,
                delay * 1000,
                attempt + 1,
                self._policy.max_attempts,
            )
            await self._sleep(delay)

    def _deadline(self) -> float:
        """When the deadline is, leaving out the time of the pauses so far and of one still open
        (another task's secret still in the sinks)."""
        if self._pauses:
            return self._deadline_at + self._clock() - self._paused_at
        return self._deadline_at

    def time_left(self) -> float:
        """Seconds until the deadline (pauses left out), never negative."""
        return max(0.0, self._deadline() - self._clock())

    @contextlib.contextmanager
    def deadline_paused(self) -> Iterator[None]:
        """Leave the time spent inside out of the deadline (a person answering a prompt, a
        secrets command).

        Pauses may overlap (two signing secrets of one apply delivered at once): the time in
        any of them is left out once, also for requests that start while one is open. Requests
        already waiting keep the deadline they started with.
        """
        if self._pauses == 0:
            self._paused_at = self._clock()
        self._pauses += 1
        try:
            yield
        finally:
            self._pauses -= 1
            if self._pauses == 0:
                self._deadline_at += self._clock() - self._paused_at

    async def _limited_attempt(
        self, operation: str, request: httpx.Request, path: str, attempt: int, started: float
    ) -> httpx.Response | httpx.TransportError:
        self._throttled += await self._limiter.acquire(operation, self._semaphore)
        try:
            return await self._attempt(request, path, attempt, started)
        finally:
            self._limiter.release(self._semaphore)

    def _judge(
        self,
        method: str,
        path: str,
        outcome: httpx.Response | httpx.TransportError,
        has_key: bool,
    ) -> _Failure:
        if isinstance(outcome, httpx.Response):
            return _Failure(
                error=error_from_response(outcome),
                retryable=self._policy.is_retryable(
                    method=method,
                    has_idempotency_key=has_key,
                    status=outcome.status_code,
                    should_retry_header=outcome.headers.get("stripe-should-retry"),
                ),
                reason=str(outcome.status_code),
                retry_after=parse_retry_after(outcome.headers.get("retry-after")),
            )
        retryable = not isinstance(outcome, _NOT_RETRYABLE_TRANSPORT) and (
            self._policy.is_retryable(method=method, has_idempotency_key=has_key, status=None)
        )
        return _Failure(
            error=self._connection_error(method, path, outcome, has_key),
            retryable=retryable,
            reason=type(outcome).__name__,
            retry_after=None,
        )

    async def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int = PAGE_LIMIT
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every object of a list endpoint, following ``starting_after`` cursors (a v2
        list follows its ``next_page_url`` instead, with the page size left to Stripe unless
        ``params`` name one: :mod:`reconciler.stripe.v2`)."""
        if is_v2(path):
            async for item in pages(self.request, path, params):
                yield self._checked_mode(item, "GET", path)
            return
        if not 1 <= limit <= PAGE_LIMIT:
            raise ValueError(f"limit must be between 1 and {PAGE_LIMIT}, got {limit}")
        query: dict[str, Any] = {**(params or {}), "limit": limit}
        seen_cursors: set[str] = set()
        while True:
            page = await self.request("GET", path, query)
            data = page.get("data")
            has_more = page.get("has_more")
            if page.get("object") != "list" or not isinstance(data, list):
                raise _page_error(path, "is not a list object with a data array")
            if not isinstance(has_more, bool):
                raise _page_error(path, "has no boolean has_more")
            for item in data:
                if not isinstance(item, dict):
                    raise _page_error(path, "holds an item that is not an object")
                yield self._checked_mode(item, "GET", path)
            if not has_more:
                return
            cursor = data[-1].get("id") if data else None
            if not isinstance(cursor, str) or cursor in seen_cursors:
                # Without a new cursor the next page would repeat this one forever.
                raise _page_error(path, "says has_more but gives no new last id to continue from")
            seen_cursors.add(cursor)
            query["starting_after"] = cursor

    async def whoami(self) -> str:
        """The id (``acct_…``) of the account the key (and ``Stripe-Account``) acts on."""
        account = await self.request("GET", "/v1/account")
        account_id = account.get("id")
        if not isinstance(account_id, str) or not account_id:
            raise MalformedResponseError("GET /v1/account returned no account id")
        return account_id

    def _checked_mode(self, obj: dict[str, Any], method: str, path: str) -> dict[str, Any]:
        # Objects never cross modes; a mismatch means the base URL or a proxy is not Stripe as
        # the key knows it, and acting on its answers could touch the wrong data.
        livemode = obj.get("livemode")
        if isinstance(livemode, bool) and livemode != (self.mode == "live"):
            answered = "live" if livemode else "test"
            raise AccountMismatchError(
                f"{method} {path} answered with a {answered}-mode object to a {self.mode}-mode "
                f"key (API base {self.config.api_base}); refusing to continue"
            )
        return obj

    def _build_request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> httpx.Request:
        if method not in _METHODS:
            raise ValueError(f"unsupported method {method!r}; expected one of {sorted(_METHODS)}")
        # A full URL here would send the key to another host; paths only.
        if not path.startswith("/") or path.startswith("//") or "?" in path or "#" in path:
            raise ValueError(f"path must be an absolute API path like /v1/…, got {path!r}")
        headers = dict(self._headers)
        if idempotency_key is not None:
            if not 0 < len(idempotency_key) <= _MAX_IDEMPOTENCY_KEY or not (
                idempotency_key.isascii() and idempotency_key.isprintable()
            ):
                raise ValueError("idempotency_key must be 1-255 printable ASCII characters")
            headers["Idempotency-Key"] = idempotency_key
        if is_v2(path):  # JSON bodies, Stripe-Context (reconciler.stripe.v2)
            query = "" if method == "POST" else encode_form(params)
            return build_v2_request(self._http, method, path, query, params, headers)
        encoded = encode_form(params)
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self._http.build_request(
                method, path, content=encoded.encode("ascii"), headers=headers
            )
        url = f"{path}?{encoded}" if encoded else path
        return self._http.build_request(method, url, headers=headers)

    async def _attempt(
        self, request: httpx.Request, path: str, attempt: int, started: float
    ) -> httpx.Response | httpx.TransportError:
        self._requests += 1
        sent = self._clock()
        try:
            with (
                self._notices.watch(request.method, path, started),
                anyio.fail_after(self.config.timeout),
            ):
                response = await exchange(self._http, request)
        except AnswerTooLarge as too_large:
            self._count(too_large.response.status_code)
            raise self._too_large(request, too_large.response) from None
        except TimeoutError:
            # httpx's timeouts restart with every byte; this one bounds the whole exchange
            error: httpx.TransportError = httpx.ReadTimeout(
                f"no complete answer within {self.config.timeout:g}s", request=request
            )
        except httpx.TransportError as raised:
            error = raised
        else:
            self._count(response.status_code)
            self._log_attempt(
                request, str(response.status_code), request_id_of(response), attempt, sent
            )
            return response
        self._network_errors += 1
        self._log_attempt(request, type(error).__name__, None, attempt, sent)
        return error

    def _count(self, status: int) -> None:
        self._by_status[status] = self._by_status.get(status, 0) + 1

    def _too_large(self, request: httpx.Request, response: httpx.Response) -> StripeError:
        return MalformedResponseError(
            f"{request.method} {request.url.path} at {self.config.api_base} answered with more "
            f"than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB, far more than any Stripe answer; "
            "stopped reading. Check --api-base and any proxy in between",
            http_status=response.status_code,
            request_id=request_id_of(response),
        )

    def _log_attempt(
        self,
        request: httpx.Request,
        outcome: str,
        request_id: str | None,
        attempt: int,
        sent: float,
    ) -> None:
        # The path only: query values and bodies are never logged.
        logger.debug(
            "stripe %s %s -> %s request_id=%s attempt=%d elapsed_ms=%.0f",
            request.method,
            request.url.path,
            outcome,
            request_id or "-",
            attempt,
            (self._clock() - sent) * 1000,
        )

    def _deadline_error(self, method: str, path: str, has_key: bool) -> APIConnectionError:
        message = (
            f"Stopped waiting for {method} {path}: the {self.config.deadline:g}s deadline for "
            f"talking to Stripe ran out ({self.config.api_base} answered too slowly or not at "
            "all). Check the network and status.stripe.com and run the command again, or allow "
            "more time with --timeout"
        )
        if method == "POST" and not has_key:
            message += " (the request may or may not have been applied)"
        return APIConnectionError(redact(message))

    def _connection_error(
        self, method: str, path: str, error: httpx.TransportError, has_key: bool
    ) -> APIConnectionError:
        detail = str(error) or type(error).__name__
        message = f"Could not complete {method} {path} at {self.config.api_base}: {detail}"
        if method == "POST" and not has_key:
            if isinstance(error, _NEVER_SENT):
                message += " (it was never sent)"
            else:
                message += " (it may or may not have been applied)"
        return APIConnectionError(redact(message))


def connection_pool(
    config: StripeConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """The ``httpx`` client (a connection pool) requests to ``config.api_base`` go through.

    A :class:`StripeClient` makes its own unless it is given one to share; the headers that
    say who is calling travel with each request, so a pool never carries a key of its own.
    """
    # TLS verification stays at httpx's default (on); nothing here can turn it off.
    return httpx.AsyncClient(
        base_url=config.api_base,
        transport=transport,
        timeout=config.timeout,
        follow_redirects=False,
        verify=_tls_context(config.api_base),
        limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


def _tls_context(api_base: str) -> ssl.SSLContext | bool:
    """httpx's default (verify against the CA bundle) for https bases.

    A plain-http base (loopback only, see config) never opens a TLS connection, and loading the
    CA bundle costs ~30 ms per client, a third of a plan's critical path against the emulator.
    It gets a context that still requires a verified certificate but trusts no CA, so a TLS
    connection, were one ever attempted, would fail closed.
    """
    if httpx.URL(api_base).scheme != "http":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _gave_up(error: StripeError, attempts: int, why: str) -> StripeError:
    if attempts > 1:
        error.message = f"{error.message} (gave up after {attempts} attempts: {why})"
    return error


def _page_error(path: str, what: str) -> MalformedResponseError:
    return MalformedResponseError(f"The list page from GET {path} {what}")

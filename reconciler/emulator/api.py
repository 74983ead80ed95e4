"""The ``/v1/`` pipeline as a raw ASGI app (raw, so that a fault can cut the connection).

Order per request, as Stripe layers it: route → auth (and, with ``refuse_unknown_accounts``, whether
the platform may act on the ``Stripe-Account``) → rate limiters (global and per
operation) → injected fault → content type → idempotency lookup (replay, mismatch, or 409 while
the same key is in flight) → object lock for a write to an existing object (429
``lock_timeout``, only with the ``lock_timeout_ms`` knob) → latency (standing for execution
time) → parameter validation → handler → idempotency store → persistence → response (or a
dropped connection after the write, for ``drop_after``).
Every response carries ``Request-Id``; 429/5xx carry ``Stripe-Should-Retry``.

``/v2/`` paths run the same pipeline with v2's differences (JSON bodies, ``Stripe-Context``,
typed parameters, its error body, keys on DELETE too, only successes stored for a key):
:mod:`reconciler.emulator.v2`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from reconciler.data import pinned_api_version
from reconciler.emulator import v2
from reconciler.emulator.auth import Caller, authenticate
from reconciler.emulator.errors import ConnectionDropped, EmulatedError
from reconciler.emulator.forms import parse_form
from reconciler.emulator.resources import ROUTES, SCHEMA_OVERRIDES, V2_SCHEMAS
from reconciler.emulator.resources.account import check_connected
from reconciler.emulator.resources.base import Call, Route
from reconciler.emulator.store import namespace_key, new_id
from reconciler.emulator.validation import body_schema, coerce, query_schema

if TYPE_CHECKING:
    from reconciler.emulator.app import Runtime

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
IDEMPOTENCY_KEY_MAX = 255
_PATTERNS = [
    (route, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.template) + "$"))
    for route in ROUTES
]


def _known_versions() -> frozenset[str]:
    """Every version the newest spec lists (the webhook ``api_version`` enum)."""
    schema = body_schema("post", "/v1/webhook_endpoints")
    return frozenset(schema["properties"]["api_version"]["enum"])


KNOWN_VERSIONS = _known_versions()


def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    for route, pattern in _PATTERNS:
        found = pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    raise EmulatedError(
        404,
        f"Unrecognized request URL ({method.upper()}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        stored=False,
    )


def _retry_error(status: int, *, limited: str | None) -> EmulatedError:
    """A retryable answer; ``limited`` is the rate limiter that refused (None: injected)."""
    headers = {"Stripe-Should-Retry": "true"}
    if status == 429:
        headers["Retry-After"] = "1"
        # FACTS.md §3 [S16, unverified]: global-rate / endpoint-rate
        headers["Stripe-Rate-Limited-Reason"] = limited or "injected"
        return EmulatedError(
            429,
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
            stored=False,
            headers=headers,
        )
    return EmulatedError(
        status,
        "An unknown error occurred (injected by the emulator).",
        error_type="api_error",
        stored=False,
        headers=headers,
    )


def _object_of(route: Route, path: str, ns_key: str) -> str | None:
    """The object a write changes (its lock key), or None for reads and creates.

    Creates make a new object nobody else can be writing to; tax settings are one object per
    account.
    """
    singleton = route.template == "/v1/tax/settings"
    if route.method == "get" or ("{" not in route.template and not singleton):
        return None
    return f"{ns_key} {path}"


async def _drop(send: Send, when: str) -> None:
    """Promise a longer body than we send, then raise: the server must abort the connection."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise ConnectionDropped(when)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or ``None`` when the client went away before sending it all.

    A request whose body never fully arrived is not a request: Stripe cannot act on half of
    one, and acting on an empty body would run (or refuse, against a stored idempotent result)
    something the client never sent.
    """
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class ApiApp:
    """Serves every non-operator path with Stripe's behaviour (see the module docstring)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client disconnected mid-request: nothing to run, nobody to answer
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"].lower()
        path = scope["path"]
        keyed = method == "post" or (method == "delete" and v2.is_v2(path))
        entry = self.runtime.begin_entry(
            method=method.upper(),
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            idempotency_key=headers.get("idempotency-key") if keyed else None,
        )
        response_headers = {
            "Request-Id": new_id("req_", 14),
            "Stripe-Version": headers.get("stripe-version") or pinned_api_version(),
        }
        try:
            status, payload = await self._process(method, path, headers, body, entry, send)
        except EmulatedError as error:
            status = error.status
            payload = v2.error_body(error) if v2.is_v2(path) else error.body()
            response_headers.update(error.headers)
        if entry.get("replayed"):
            response_headers["Idempotent-Replayed"] = "true"
        if entry["idempotency_key"] is not None:
            response_headers["Idempotency-Key"] = entry["idempotency_key"]
        entry["status"] = status
        logger.debug(
            "%s %s -> %s (%s, fault=%s)",
            entry["method"],
            path,
            status,
            response_headers["Request-Id"],
            entry["fault"],
        )
        if entry["fault"] == "drop_after":
            await _drop(send, "after the write")
        await self._respond(send, status, payload, response_headers)

    async def _respond(
        self, send: Send, status: int, payload: dict[str, Any], headers: dict[str, str]
    ) -> None:
        data = json.dumps(payload, indent=2).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})

    async def _process(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        entry: dict[str, Any],
        send: Send,
    ) -> tuple[int, dict[str, Any]]:
        runtime = self.runtime
        route, path_args = _match(method, path)
        context = headers.get("stripe-account")
        if v2.is_v2(path):
            context = headers.get("stripe-context") or context
        caller = authenticate(headers.get("authorization"), context)
        entry["account"], entry["livemode"] = caller.account, caller.livemode
        if runtime.config.refuse_unknown_accounts:
            check_connected(runtime.store, caller.platform_account, caller.account, caller.livemode)
        version = headers.get("stripe-version")
        if version and version not in KNOWN_VERSIONS:
            raise EmulatedError(400, f"Invalid Stripe API version: {version}", stored=False)

        delay = runtime.faults.delay_seconds()
        ns_key = namespace_key(caller.account, caller.livemode)
        refused = runtime.limiter.refuse(
            ns_key,
            f"{route.method.upper()} {route.template}",
            time.monotonic(),
            limit=runtime.config.rate_limit,
            operation_limit=runtime.config.operation_rate_limit,
            platform=namespace_key(caller.platform_account, caller.livemode),
            platform_limit=runtime.config.platform_rate_limit,
            platform_operation_limit=runtime.config.platform_operation_rate_limit,
        )
        if refused is not None:
            entry["fault"] = "rate_limit"
            raise _retry_error(429, limited=refused)
        fault = runtime.faults.next_fault() if runtime.faults.eligible(path) else None
        entry["fault"] = fault
        if fault in ("429", "500", "503"):
            raise _retry_error(int(fault), limited=None)
        if fault == "drop_before":
            entry["status"] = None
            await _drop(send, "before the write")

        raw = self._raw_params(method, headers, body, entry["query"], path)
        key = entry["idempotency_key"]
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
            raise EmulatedError(
                400,
                f"Idempotency-Key values must be at most {IDEMPOTENCY_KEY_MAX} characters long.",
                stored=False,
            )
        store_key = f"{ns_key}:{key}" if key is not None else None
        fingerprint = json.dumps([method, path, raw], sort_keys=True)
        if store_key is not None:
            replay = self._replay(store_key, fingerprint, key or "")
            if replay is not None:
                entry["replayed"] = True
                await asyncio.sleep(delay)
                return replay
            if store_key in runtime.in_flight:
                raise EmulatedError(
                    409,
                    "There is currently another in-progress request using this Idempotency-Key. "
                    "Please try again later.",
                    error_type="idempotency_error",
                    code="idempotency_key_in_use",
                    stored=False,
                    headers={"Stripe-Should-Retry": "true"},
                )
            runtime.in_flight.add(store_key)
        try:
            # The added latency stands for execution time, so a concurrent request with the
            # same key meets the in-flight lock (409) as it would at Stripe, and a concurrent
            # write to the same object its lock.
            async with runtime.locks.hold(
                _object_of(route, path, ns_key), runtime.config.lock_timeout_ms
            ):
                await asyncio.sleep(delay)
                now = runtime.store.now()
                status, payload, commit = self._execute(route, path_args, raw, caller, now, path)
        except EmulatedError as error:
            if error.code == "lock_timeout":
                entry["fault"] = "lock_timeout"
            raise
        finally:
            if store_key is not None:
                runtime.in_flight.discard(store_key)
        if commit:
            if store_key is not None:
                runtime.store.remember(
                    store_key,
                    {"created": now, "fingerprint": fingerprint, "status": status, "body": payload},
                )
            runtime.persist()
        return status, payload

    def _replay(
        self, store_key: str, fingerprint: str, key: str
    ) -> tuple[int, dict[str, Any]] | None:
        """The stored first answer for this key, or None; another request's key → 400."""
        now = self.runtime.store.now()
        previous = self.runtime.store.idempotent_result(store_key, now, IDEMPOTENCY_TTL_SECONDS)
        if previous is None:
            return None
        if previous["fingerprint"] != fingerprint:
            raise EmulatedError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                error_type="idempotency_error",
                stored=False,
            )
        return int(previous["status"]), dict(previous["body"])

    def _raw_params(
        self, method: str, headers: dict[str, str], body: bytes, query: str, path: str = ""
    ) -> dict[str, Any]:
        if v2.is_v2(path):
            return v2.raw_params(method, headers, body, query)
        if method != "post":
            return parse_form(query.encode("latin-1"))
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and content_type != "application/x-www-form-urlencoded":
            raise EmulatedError(
                400,
                "Invalid request (check that your POST content type is "
                "application/x-www-form-urlencoded). If you have any questions, we can help at "
                "https://support.stripe.com/.",
                stored=False,
            )
        return parse_form(body)

    def _execute(
        self,
        route: Route,
        path_args: dict[str, str],
        raw: dict[str, Any],
        caller: Caller,
        now: float,
        path: str,
    ) -> tuple[int, dict[str, Any], bool]:
        """Validate and run; returns (status, body, whether Stripe would store/commit it)."""
        params = self._params(route, raw)
        call = Call(
            store=self.runtime.store,
            namespace=self.runtime.store.namespace(caller.account, caller.livemode),
            account=caller.account,
            livemode=caller.livemode,
            now=int(now),
            params=params,
            path_args=path_args,
            path=path,
            refuse_duplicate_registrations=self.runtime.config.refuse_duplicate_registrations,
            platform_account=caller.platform_account,
        )
        mutating = route.method != "get"
        try:
            return 200, route.handler(call), mutating
        except EmulatedError as error:
            if v2.is_v2(path):  # v2 stores no failure: a retry runs again
                return error.status, v2.error_body(error), False
            return error.status, error.body(), mutating and error.stored

    @staticmethod
    def _params(route: Route, raw: dict[str, Any]) -> dict[str, Any]:
        """The validated parameters: v2 JSON typed as sent (a query coerced from text)."""
        v2_schema = V2_SCHEMAS.get((route.method, route.template))
        if v2_schema is not None:
            if route.method == "post":
                checked: dict[str, Any] = v2.validate(raw, v2_schema)
                return checked
            return dict(coerce(raw, v2_schema))
        schema = SCHEMA_OVERRIDES.get((route.method, route.template))
        if schema is None:
            if route.method == "post":
                schema = body_schema(route.method, route.template)
            else:
                schema = query_schema(route.method, route.template)
        params: dict[str, Any] = coerce(raw, schema)
        return params

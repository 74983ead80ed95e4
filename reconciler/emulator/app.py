"""The emulator's ASGI application: the Stripe API plus the ``/_emulator/`` operator API.

Operator API (JSON in and out, no auth, never under ``/v1/``):

- ``GET /_emulator/requests`` → ``{"requests": [...], "counts": {...}}``. Each request has
  ``seq, time`` (emulator clock, float seconds), ``method, path, query, status`` (``null`` when
  the connection was dropped before an answer), ``account, livemode, idempotency_key,
  replayed, fault`` (``null``, ``"429"``, ``"500"``, ``"503"``, ``"drop_before"``,
  ``"drop_after"``, ``"rate_limit"`` or ``"lock_timeout"``). ``counts`` maps ``"METHOD /path"``
  (the concrete path, ids included) to the number of requests.
- ``GET|POST /_emulator/config``: read or partially update the knobs of :class:`EmulatorConfig`
  (``latency_ms, jitter_ms, seed, rates, schedule, paths, rate_limit, operation_rate_limit,
  platform_rate_limit, platform_operation_rate_limit, lock_timeout_ms,
  refuse_duplicate_registrations, refuse_unknown_accounts``). A new ``seed`` reseeds the
  random source; a new ``schedule`` or ``paths`` restarts the schedule's count at 1.
- ``GET|POST /_emulator/clock``: ``{"advance": seconds}`` moves the emulator clock forward.
- ``POST /_emulator/reset``: forget all objects (connected accounts too), idempotency keys, the
  log and the clock offset, and return to the startup configuration.
- ``GET /_emulator/state``: the whole state (what ``--state-file`` holds) plus ``now``, with
  signing secrets masked. (The state file itself keeps them — created 0600 — because an
  idempotent replay of a create must return the original secret, as Stripe's does.)
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reconciler.emulator.api import ApiApp
from reconciler.emulator.config import ConfigError, EmulatorConfig
from reconciler.emulator.errors import ConnectionDropped
from reconciler.emulator.faults import FaultInjector, RateLimiter
from reconciler.emulator.locks import ObjectLocks
from reconciler.emulator.store import Store, load_state, save_state

logger = logging.getLogger(__name__)


class Runtime:
    """The mutable heart of one emulator instance: config, state, faults and the request log."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.startup_config = config
        self.config = config
        self.store = Store()
        self.faults = FaultInjector(config)
        self.limiter = RateLimiter()
        self.locks = ObjectLocks()
        self.log: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.in_flight: set[str] = set()  # idempotency keys whose first request is executing
        if config.state_file:
            load_state(self.store, Path(config.state_file))

    def begin_entry(
        self, *, method: str, path: str, query: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": len(self.log) + 1,
            "time": self.store.now(),
            "method": method,
            "path": path,
            "query": query,
            "status": None,
            "account": None,
            "livemode": None,
            "idempotency_key": idempotency_key,
            "replayed": False,
            "fault": None,
        }
        self.log.append(entry)
        self.counts[f"{method} {path}"] += 1
        return entry

    def persist(self) -> None:
        if self.config.state_file:
            save_state(self.store, Path(self.config.state_file))

    def configure(self, knobs: dict[str, Any]) -> EmulatorConfig:
        self.config = self.config.updated(knobs)
        self.faults.reconfigure(
            self.config,
            reseed="seed" in knobs,
            restart_schedule="schedule" in knobs or "paths" in knobs,
        )
        if any(name.endswith("rate_limit") for name in knobs):
            self.limiter.clear()
        return self.config

    def reset(self) -> None:
        self.config = self.startup_config
        self.faults = FaultInjector(self.config)
        self.limiter.clear()
        self.store.clear()
        self.log.clear()
        self.counts.clear()
        self.persist()


class _DroppedConnectionFilter(logging.Filter):
    """Keep uvicorn from logging a traceback for every connection we cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_FILTER = _DroppedConnectionFilter()


def quiet_dropped_connections() -> None:
    for name in ("uvicorn.error", "uvicorn"):
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


#: where a stored create answer holds a signing secret (v1 ``secret``, v2's
#: ``webhook_endpoint.signing_secret``)
_SECRET_KEYS = frozenset({"secret", "signing_secret"})


def _redact_secrets(node: Any) -> Any:
    """Stored idempotent create responses hold signing secrets (a replay must return them, as
    Stripe's does); the state dump is output, so it shows them masked."""
    if isinstance(node, dict):
        return {
            key: "whsec_[redacted]"
            if key in _SECRET_KEYS and value is not None
            else _redact_secrets(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_redact_secrets(value) for value in node]
    return node


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=400)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ConfigError("the request body must be a JSON object")
    return data


def _operator_routes(runtime: Runtime) -> list[Route]:
    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": runtime.log, "counts": dict(runtime.counts)})

    async def config(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                runtime.configure(await _json_body(request))
            except (ConfigError, ValueError) as error:
                return _bad_request(str(error))
        return JSONResponse(runtime.config.to_json())

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                advance = (await _json_body(request)).get("advance", 0)
            except (ConfigError, ValueError) as error:
                return _bad_request(str(error))
            if isinstance(advance, bool) or not isinstance(advance, int | float) or advance < 0:
                return _bad_request("advance must be a number of seconds >= 0")
            runtime.store.advance(float(advance))
            runtime.persist()
        return JSONResponse({"now": runtime.store.now()})

    async def reset(request: Request) -> JSONResponse:
        runtime.reset()
        return JSONResponse({"reset": True})

    async def state(request: Request) -> JSONResponse:
        dump = _redact_secrets(runtime.store.to_json())
        return JSONResponse({**dump, "now": runtime.store.now()})

    return [
        Route("/_emulator/requests", requests, methods=["GET"]),
        Route("/_emulator/config", config, methods=["GET", "POST"]),
        Route("/_emulator/clock", clock, methods=["GET", "POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/state", state, methods=["GET"]),
    ]


def create_app(config: EmulatorConfig | None = None, **knobs: Any) -> Starlette:
    """Build one emulator. ``knobs`` are :class:`EmulatorConfig` fields, checked like the API's."""
    base = config or EmulatorConfig()
    runtime = Runtime(base.updated(knobs) if knobs else base)
    quiet_dropped_connections()
    api = ApiApp(runtime)
    app = Starlette(routes=[*_operator_routes(runtime), Route("/{path:path}", api)])
    app.state.runtime = runtime
    return app

"""Serve the emulator with uvicorn in a background thread (tests, quick start, benchmarks).

with EmulatorServer(seed=7) as emulator:
    httpx.get(f"{emulator.base_url}/v1/account", auth=(key, ""))
    emulator.configure(rates={"429": 0.3})
    emulator.counts()   # {"GET /v1/account": 1}
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.config import EmulatorConfig

START_TIMEOUT_SECONDS = 5.0


class EmulatorServer:
    """A running emulator on ``host:port`` (port 0 = an ephemeral port), as a context manager."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **knobs: Any,
    ) -> None:
        self.app = create_app(config, **knobs)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=host,
                port=port,
                log_level="warning",
                lifespan="off",
                http="h11",
                loop="asyncio",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread: threading.Thread | None = None
        self._host = host
        self.port = port
        self._client: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> EmulatorServer:
        # uvicorn installs signal handlers only on the main thread, so Ctrl-C stays with the caller.
        self._thread = threading.Thread(target=self._server.run, name="emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on {self._host}:{self.port}")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self._client = httpx.Client(base_url=self.base_url, timeout=10.0)
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- operator API ------------------------------------------------------------------------

    def _operator(self, method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        if self._client is None:
            raise RuntimeError("the emulator is not running")
        response = self._client.request(method, f"/_emulator/{name}", json=payload)
        response.raise_for_status()
        return response.json()

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._operator("GET", "requests")["requests"]
        return result

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = self._operator("GET", "requests")["counts"]
        return result

    def configure(self, **knobs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._operator("POST", "config", knobs)
        return result

    def advance_clock(self, seconds: float) -> float:
        now: float = self._operator("POST", "clock", {"advance": seconds})["now"]
        return now

    def reset(self) -> None:
        self._operator("POST", "reset")

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._operator("GET", "state")
        return result

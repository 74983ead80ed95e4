"""HTTP servers that misbehave on purpose, on a real socket on 127.0.0.1, for the client's bounds.

Each connection gets one answer chosen by ``behaviour``:

- ``trickle``: a 200 promising a large JSON body, then one byte every ``interval`` seconds (each
  gap far below any idle timeout, so only a bound on the whole exchange stops it);
- ``endless``: a chunked 200 whose body never ends, as fast as the socket takes it;
- ``huge``: a 200 that declares a 10 GB ``Content-Length`` and then trickles;
- ``silent``: reads the request and never answers;
- ``slow``: after ``interval`` seconds, ``upstream``'s answer (an emulator), or without one an
  empty Stripe list;
- ``proxy``: forwards to ``upstream`` (an emulator), except requests matching ``hang``
  (``"METHOD /path/prefix"``), which are read and never answered.

Everything stops when the ``with`` block ends (or after :data:`MAX_LIFETIME` seconds at most):
sockets are closed and the threads end by themselves.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from types import TracebackType

import httpx

#: No hostile connection outlives this, whatever the test does.
MAX_LIFETIME = 60.0

_EMPTY_LIST = {"object": "list", "data": [], "has_more": False, "url": "/v1/x"}


class HostileServer:
    """``with HostileServer("trickle") as server: … server.base_url …``"""

    def __init__(
        self,
        behaviour: str,
        *,
        interval: float = 0.2,
        upstream: str | None = None,
        hang: str | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.interval = interval
        self.upstream = upstream
        self.hang = hang
        self.requests: list[str] = []  # "METHOD /path" of every request received
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        accept = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5.0)
        self._listener.close()

    # -- serving ------------------------------------------------------------------------------
    def _accept(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - started < MAX_LIFETIME:
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            handler = threading.Thread(
                target=self._serve, args=(connection,), name="hostile-conn", daemon=True
            )
            handler.start()
            self._threads.append(handler)

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(0.2)
            while not self._stop.is_set():
                request = _read_request(connection, self._stop)
                if request is None:
                    return
                method, path, headers, body = request
                self.requests.append(f"{method} {path.split('?')[0]}")
                try:
                    keep_open = self._answer(connection, method, path, headers, body)
                except OSError:
                    return  # the client gave up and closed: what the bounds are for
                if not keep_open:
                    return

    def _answer(
        self,
        connection: socket.socket,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> bool:
        behaviour = self.behaviour
        if behaviour == "proxy":
            assert self.upstream is not None and self.hang is not None
            hang_method, _, hang_path = self.hang.partition(" ")
            behaviour = "silent" if method == hang_method and path == hang_path else "forward"
        if behaviour == "slow":
            self._stop.wait(self.interval)
            behaviour = "forward" if self.upstream else "empty"
        if behaviour == "empty":
            _send_response(connection, 200, json.dumps(_EMPTY_LIST).encode())
            return True
        if behaviour == "forward":
            assert self.upstream is not None
            forwarded = {k: v for k, v in headers.items() if k in _FORWARDED_HEADERS}
            answer = httpx.request(
                method, self.upstream + path, headers=forwarded, content=body, timeout=10.0
            )
            _send_response(connection, answer.status_code, answer.content)
            return True
        if behaviour == "silent":
            self._stop.wait(MAX_LIFETIME)
            return False
        if behaviour == "endless":
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            connection.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            chunk = b" " * 65536
            framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            connection.sendall(b"1\r\n[\r\n")
            while not self._stop.is_set():
                connection.sendall(framed)
            return False
        length = 10_000_000_000 if behaviour == "huge" else 100_000
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}"
        connection.sendall((head + "\r\n\r\n").encode())
        connection.sendall(b"{")
        while not self._stop.wait(self.interval):
            connection.sendall(b" ")
        return False


_FORWARDED_HEADERS = frozenset(
    {"authorization", "content-type", "idempotency-key", "stripe-version", "stripe-account"}
)


def _send_response(connection: socket.socket, status: int, body: bytes) -> None:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRequest-Id: req_hostile\r\n\r\n"
    )
    connection.sendall(head.encode() + body)


def _read_request(
    connection: socket.socket, stop: threading.Event
) -> tuple[str, str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _receive(connection, stop)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = _receive(connection, stop)
        if not chunk:
            return None
        rest += chunk
    return method, path, headers, rest[:length]


def _receive(connection: socket.socket, stop: threading.Event) -> bytes:
    while not stop.is_set():
        try:
            return connection.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return b""
    return b""

"""One HTTP exchange, bounded: the whole answer read with a size cap, and a notice when slow.

httpx's own timeouts bound only the gaps between bytes, and ``response.read()`` reads whatever
arrives, so a server that trickles or never stops would hold (and fill) the process. The client
wraps :func:`exchange` in its time bounds; :class:`SlowNotices` says, once per slow phase, what
it is waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

import httpx

#: The logger of "still waiting for Stripe" notices (INFO, message ready to show as is; the
#: record also carries ``method``, ``path`` and ``waited`` seconds). The library never prints.
WAITING_LOGGER = "reconciler.stripe.waiting"
_waiting = logging.getLogger(WAITING_LOGGER)

#: The largest answer the client reads. Stripe's largest page (100 objects) is far smaller;
#: anything bigger is not Stripe as the key knows it, and reading on would only fill memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024

_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class AnswerTooLarge(Exception):
    """The answer (declared or read so far) is over :data:`MAX_RESPONSE_BYTES`."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"answer over {MAX_RESPONSE_BYTES} bytes")
        self.response = response


async def exchange(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send ``request`` and read its whole answer, refusing one over the cap."""
    response = await http.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            raise AnswerTooLarge(response)
        chunks: list[bytes] = []
        size = 0
        # decoded bytes, so a compressed answer cannot expand past the cap either
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise AnswerTooLarge(response)
            chunks.append(chunk)
    finally:
        await response.aclose()
    # The body is decoded already; a copy without Content-Encoding keeps it that way.
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _DROPPED_HEADERS
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=request,
        extensions=response.extensions,
    )


class SlowNotices:
    """Logs one notice when an attempt has waited ``after`` seconds and no other is already
    known to be slow: one per slow phase (three slow reads at once are one), not per request."""

    def __init__(self, after: float, clock: Callable[[], float]) -> None:
        self._after = after
        self._clock = clock
        self._slow: set[object] = set()

    @contextlib.contextmanager
    def watch(self, method: str, path: str, started: float) -> Iterator[None]:
        """Around one attempt; ``started`` is when its logical request started."""
        token = object()
        timer = asyncio.get_running_loop().call_later(
            self._after, self._became_slow, token, method, path, started
        )
        try:
            yield
        finally:
            timer.cancel()
            self._slow.discard(token)

    def _became_slow(self, token: object, method: str, path: str, started: float) -> None:
        if not self._slow:
            waited = self._clock() - started
            _waiting.info(
                "Waiting for Stripe (%s %s, %.0f s)…",
                method,
                path,
                waited,
                extra={"method": method, "path": path, "waited": waited},
            )
        self._slow.add(token)

"""A client wrapper that can only read: what ``drift`` and ``export`` are given instead of a client.

The read-only commands never hold a :class:`~reconciler.stripe.StripeClient` themselves; they
receive a :class:`ReadOnlyClient`, whose ``request`` refuses anything but ``GET`` before a byte
is sent. So there is no code path from those commands to a write, even by mistake in a handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from reconciler.errors import ReadOnlyViolationError
from reconciler.resources.base import ApiClient


class ReadOnlyClient:
    """Forwards ``GET`` requests and pagination to ``inner``; raises on any other method."""

    def __init__(self, inner: ApiClient) -> None:
        self._inner = inner

    def __repr__(self) -> str:
        return f"ReadOnlyClient({self._inner!r})"

    @property
    def mode(self) -> str | None:
        """The key's mode (``test``/``live``) when the wrapped client knows it."""
        mode = getattr(self._inner, "mode", None)
        return mode if isinstance(mode, str) else None

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        if method.upper() != "GET" or idempotency_key is not None:
            raise ReadOnlyViolationError(
                f"refused {method.upper()} {path}: this command is read-only (this is a bug in "
                "stripe-reconciler; nothing was sent)"
            )
        return await self._inner.request("GET", path, params)

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        # StripeClient.paginate issues GETs only; it is forwarded as is.
        return self._inner.paginate(path, params)

"""The Stripe API spoken directly (httpx), as a Dashboard user or a script would: only for the
live suite's out-of-band edits, its look at the account before the run, and its cleanup.

Everything else goes through the CLI, which is what the suite tests. Requests are few and
sequential; a 429 (Stripe's rate limit), a 5xx or a dropped connection is retried with backoff,
and every POST carries an ``Idempotency-Key`` so a retried one is applied once. Errors show
Stripe's message and the request line, never the key.
"""

from __future__ import annotations

import time
import uuid
from types import TracebackType
from typing import Any

import httpx
from live_backend import Backend

_ATTEMPTS = 6
_TIMEOUT_SECONDS = 30.0


class StripeApiError(AssertionError):
    """Stripe refused a request of the suite itself (not of the CLI under test)."""


class StripeApi:
    """A small synchronous client for the handful of calls the suite makes by hand."""

    def __init__(self, backend: Backend) -> None:
        self._client = httpx.Client(
            base_url=backend.base_url, auth=(backend.key, ""), timeout=_TIMEOUT_SECONDS
        )

    def __enter__(self) -> StripeApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        """One call, retried while Stripe says it may be; ``missing_ok``: a 404 answers ``{}``
        (a DELETE retried after its first attempt did reach Stripe)."""
        headers = {"Idempotency-Key": f"live-suite-{uuid.uuid4()}"} if method == "POST" else {}
        for attempt in range(_ATTEMPTS):
            last = attempt == _ATTEMPTS - 1
            try:
                response = self._client.request(
                    method, path, params=params, data=data, headers=headers
                )
            except httpx.TransportError:
                if last:
                    raise
                time.sleep(_backoff(attempt))
                continue
            if (response.status_code == 429 or response.status_code >= 500) and not last:
                time.sleep(_backoff(attempt))
                continue
            if response.status_code == 404 and missing_ok:
                return {}
            if response.is_error:
                status = response.status_code
                raise StripeApiError(f"{method} {path}: {status} {_message(response)}")
            body: dict[str, Any] = response.json()
            return body
        raise AssertionError("unreachable: the last attempt returns or raises")

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every object of a list endpoint, 100 a page."""
        objects: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 100, **params}
        while True:
            page = self.request("GET", path, params=query)
            objects.extend(page["data"])
            if not page["has_more"]:
                return objects
            query["starting_after"] = page["data"][-1]["id"]

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        return self.list_all("/v1/webhook_endpoints")

    def registrations(self) -> list[dict[str, Any]]:
        return self.list_all("/v1/tax/registrations", status="all")

    def tax_settings(self) -> dict[str, Any]:
        return self.request("GET", "/v1/tax/settings")

    def update(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, data=data)

    def delete(self, path: str) -> None:
        self.request("DELETE", path, missing_ok=True)


def _backoff(attempt: int) -> float:
    return float(min(0.5 * 2**attempt, 8.0))


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return response.text[:200]
    return str(error.get("message") or error)[:500]

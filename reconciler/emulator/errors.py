"""Stripe-shaped API errors raised inside the emulator and turned into JSON responses.

These never leave the emulator package as Python exceptions: the app catches them and answers
with Stripe's ``{"error": {...}}`` body. ``stored`` tells the idempotency layer whether Stripe
would remember this answer for the key (it does not for parameter validation failures).
"""

from __future__ import annotations

from typing import Any

import httpx

RESOURCE_MISSING_DOC = "https://stripe.com/docs/error-codes/resource-missing"


class EmulatedError(Exception):
    """An error answer: HTTP status plus the fields of Stripe's ``api_errors`` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        doc_url: str | None = None,
        stored: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param
        self.doc_url = doc_url
        self.stored = stored
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        if self.doc_url is not None:
            error["doc_url"] = self.doc_url
        return {"error": error}


def invalid_param(param: str, message: str) -> EmulatedError:
    """A parameter validation failure; Stripe stores no idempotent result for these."""
    return EmulatedError(400, message, param=param, stored=False)


def resource_missing(kind: str, object_id: str, param: str = "id") -> EmulatedError:
    return EmulatedError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
        doc_url=RESOURCE_MISSING_DOC,
    )


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to cut the connection mid-response (an injected fault).

    Over a real socket uvicorn aborts the connection and the client sees a transport error.
    In-process, ``httpx.ASGITransport`` re-raises app exceptions, so deriving from
    ``httpx.RemoteProtocolError`` gives an httpx client the same exception family either way.
    """

    def __init__(self, when: str) -> None:
        super().__init__(f"emulator dropped the connection ({when})")
        self.when = when

"""Stripe-shaped API errors raised inside the emulator and turned into JSON responses.

These never leave the emulator package as Python exceptions: the app catches them and answers
with Stripe's ``{"error": {...}}`` body. ``stored`` tells the idempotency layer whether Stripe
would remember this answer for the key (it does not for parameter validation failures).

``code`` takes Stripe's error codes where one names the failure (the ``code`` values of
stripe-python 16.1.0's error objects, e.g. ``terminal/_reader.py``: ``parameter_unknown``,
``parameter_missing``, ``parameter_invalid_empty``, ``parameter_invalid_integer``,
``parameters_exclusive``, ``url_invalid``, ``idempotency_key_in_use``, ``resource_missing``,
``rate_limit``, ``account_invalid``), and every coded error carries its ``doc_url``,
``https://stripe.com/docs/error-codes/<code with dashes>`` (FACTS.md [S17]). Failures no code
names (an enum value Stripe does not know, a string too long) have none, as at Stripe.
"""

from __future__ import annotations

from typing import Any

import httpx

ERROR_CODES_DOC = "https://stripe.com/docs/error-codes/"


def doc_url_for(code: str) -> str:
    """Stripe's page for an error code: ``resource_missing`` → ``…/resource-missing``."""
    return ERROR_CODES_DOC + code.replace("_", "-")


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
        self.doc_url = doc_url if doc_url is not None or code is None else doc_url_for(code)
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


def invalid_param(param: str, message: str, *, code: str | None = None) -> EmulatedError:
    """A parameter validation failure; Stripe stores no idempotent result for these."""
    return EmulatedError(400, message, param=param, code=code, stored=False)


def resource_missing(kind: str, object_id: str, param: str = "id") -> EmulatedError:
    return EmulatedError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
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

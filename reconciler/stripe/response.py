"""Turn an HTTP response into a JSON object or the right typed :class:`StripeError`.

Mapping (as stripe-python's ``_api_requestor`` does, plus a distinct 404 and 409):

=========================================  ==========================
status / error body                        exception
=========================================  ==========================
429, or 400 with ``code=rate_limit``       RateLimitError
any status with ``type=idempotency_error`` IdempotencyError
400, 402                                   InvalidRequestError
401                                        AuthenticationError
403                                        PermissionDeniedError
404                                        NotFoundError
409                                        ConflictError
anything else (5xx, 424, …)                APIError
body not a JSON object / no ``error``      MalformedResponseError
=========================================  ==========================
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx

from reconciler.errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    IdempotencyError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StripeError,
)
from reconciler.stripe.redaction import redact

#: Longer messages are shortened: Stripe's 400 for an enum value it does not know lists every
#: allowed value (about 6 KB for an unknown event), which buries the one that was wrong.
MAX_MESSAGE_CHARS = 300
#: A sent value shown next to its ``param`` is cut to this many characters.
MAX_VALUE_CHARS = 100

_BY_STATUS: dict[int, type[StripeError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InvalidRequestError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def request_id_of(response: httpx.Response) -> str | None:
    """Stripe's ``Request-Id`` header, if any."""
    value = response.headers.get("request-id")
    return value if isinstance(value, str) and value else None


def parse_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful response, or :class:`MalformedResponseError`."""
    body = _decode(response)
    if not isinstance(body, dict):
        raise _malformed(response, f"a JSON {type(body).__name__} instead of an object")
    return body


def error_from_response(response: httpx.Response) -> StripeError:
    """The typed error for a non-2xx response (always returns, never raises)."""
    status = response.status_code
    request_id = request_id_of(response)
    try:
        body = _decode(response)
    except MalformedResponseError as error:
        return error
    error_obj = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error_obj, dict):
        return _malformed(response, "JSON without Stripe's error object")

    error_type = _str_or_none(error_obj.get("type"))
    code = _str_or_none(error_obj.get("code"))
    param = _str_or_none(error_obj.get("param"))
    message = _str_or_none(error_obj.get("message"))
    if not message:
        message = f"Stripe returned HTTP {status}" + (f" ({error_type})" if error_type else "")

    cls: type[StripeError]
    if status == 429 or (status == 400 and code == "rate_limit"):
        cls = RateLimitError
    elif error_type == "idempotency_error":
        cls = IdempotencyError
    else:
        cls = _BY_STATUS.get(status, APIError)
    value = sent_value(response.request, param) if param else None
    if value is not None and value in message:
        value = None  # the message names it already
    return cls(
        redact(shorten(message)),
        http_status=status,
        code=code,
        param=param,
        request_id=request_id,
        error_type=error_type,
        value=None if value is None else redact(shorten(value, MAX_VALUE_CHARS)),
    )


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text``, or its start cut at a word or list boundary and marked as shortened."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(", "), head.rfind(" "))
    head = (head[:cut] if cut > limit // 2 else head).rstrip(" ,;:")
    return f"{head}, … ({len(text) - len(head):,} more characters)"


def sent_value(request: httpx.Request, param: str) -> str | None:
    """What ``request`` sent for ``param`` (bracket notation, ``enabled_events[0]``), if anything.

    Stripe names the offending parameter; its value is in our own form body or query string.
    """
    encoded = request.content if request.method == "POST" else request.url.query
    try:
        pairs = parse_qsl(encoded.decode("ascii"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    return next((value for key, value in pairs if key == param), None)


def _decode(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        content_type = response.headers.get("content-type", "no content type")
        raise _malformed(response, f"a body that is not JSON ({content_type})") from None


def _malformed(response: httpx.Response, what: str) -> MalformedResponseError:
    return MalformedResponseError(
        f"Stripe answered {response.request.method} {response.request.url.path} "
        f"with HTTP {response.status_code} and {what}",
        http_status=response.status_code,
        request_id=request_id_of(response),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

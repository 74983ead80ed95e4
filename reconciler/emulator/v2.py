"""What the emulator's pipeline does differently for ``/v2/`` paths (Stripe's v2 API).

The pipeline (:mod:`reconciler.emulator.api`) is the same for both APIs: route, auth, rate
limiters, injected faults, idempotency, object locks, latency, validation, handler. These are
the v2 differences, read from stripe-python 16.1.0 and stripe-node (FACTS.md [S20]; the client's
side is :mod:`reconciler.stripe.v2`):

- **Bodies are JSON** (``application/json``; ``stripe/_api_requestor.py``); GET and DELETE keep
  bracket-encoded queries (``include[0]=…``), parsed as in v1. A POST body that is not a JSON
  object is refused, as a form is.
- **Context**: the connected account comes in ``Stripe-Context`` (docs.stripe.com/context: it
  supersedes ``Stripe-Account``, which the emulator still reads when no context is given:
  Stripe's docs do not say a v2 request refuses it).
- **Parameters** are typed JSON, checked against the SDK's request types
  (``data.v2()["requests"]``: unknown keys, missing required ones, wrong types, closed enums and
  the values the SDK lists for ``include`` and ``type`` are refused). A parameter error has
  ``code: invalid_fields`` (stripe-node ``Error.ts``: "invalid_field response in V2 APIs
  returns the field 'code'").
- **Errors** keep v1's envelope, ``{"error": {"type", "code", "message"}}``, without v1's
  ``param`` and ``doc_url``: the SDKs' v2 error handling reads only those three
  (``_api_requestor.specific_v2_api_error``).
- **Idempotency**: DELETE takes a key too (the SDKs send one on every v2 POST and DELETE), and
  only a success is stored: "With API v2, retries don't repeat successful operations. Stripe
  retries failed or partially failed work to completion when possible" (docs.stripe.com/api/
  idempotent_requests), so a retry after a failure runs again. A replay is marked
  ``Idempotent-Replayed: true`` as in v1 (the docs name no other header).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.errors import EmulatedError
from reconciler.emulator.forms import parse_form

__all__ = ["error_body", "invalid", "is_v2", "raw_params", "validate"]

INVALID_FIELDS = "invalid_fields"
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def is_v2(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


def invalid(field: str, message: str) -> EmulatedError:
    """A v2 parameter error (not stored for the idempotency key, as no v2 failure is)."""
    return EmulatedError(400, message, code=INVALID_FIELDS, param=field, stored=False)


def error_body(error: EmulatedError) -> dict[str, Any]:
    body: dict[str, Any] = {"type": error.error_type, "message": error.message}
    if error.code is not None:
        body["code"] = error.code
    return {"error": body}


def raw_params(method: str, headers: dict[str, str], body: bytes, query: str) -> dict[str, Any]:
    """The request's parameters: the JSON body of a POST, the query of a GET or DELETE."""
    if method != "post":
        return parse_form(query.encode("latin-1"))
    if not body.strip():
        return {}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise EmulatedError(
            400,
            "Invalid request: v2 endpoints take a JSON body (Content-Type: application/json).",
            code=INVALID_FIELDS,
            stored=False,
        )
    try:
        data = json.loads(body)
    except ValueError:
        raise EmulatedError(
            400, "Invalid request: the body is not valid JSON.", code=INVALID_FIELDS, stored=False
        ) from None
    if not isinstance(data, dict):
        raise EmulatedError(
            400,
            "Invalid request: the body must be a JSON object.",
            code=INVALID_FIELDS,
            stored=False,
        )
    return data


def validate(value: Any, schema: dict[str, Any], name: str = "") -> Any:
    """``value`` checked against a schema of ``data.v2()["requests"]`` (JSON types as sent)."""
    if value is None:
        if schema.get("nullable"):
            return None
        raise invalid(name, f"Invalid {name}: must not be null")
    kind = schema.get("type")
    wanted = _TYPES.get(str(kind), ())
    if wanted and (
        not isinstance(value, wanted) or (kind != "boolean" and isinstance(value, bool))
    ):
        raise invalid(name, f"Invalid {name}: must be of type {kind}")
    if kind == "object":
        return _validate_object(value, schema, name)
    if kind == "array":
        items = schema.get("items", {})
        return [validate(item, items, f"{name}[{index}]") for index, item in enumerate(value)]
    allowed = schema.get("enum") or schema.get("x-known-values")
    if allowed is not None and value not in allowed:
        raise invalid(name, f"Invalid {name}: must be one of {', '.join(map(str, allowed))}")
    return value


def _validate_object(value: dict[str, Any], schema: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    result: dict[str, Any] = {}
    for key, item in value.items():
        field = f"{name}.{key}" if name else key
        sub = properties.get(key, extra if isinstance(extra, dict) else None)
        if sub is None:
            raise invalid(field, f"Received unknown parameter: {field}")
        result[key] = validate(item, sub, field)
    for required in schema.get("required", []):
        if required not in result:
            field = f"{name}.{required}" if name else required
            raise invalid(field, f"Missing required param: {field}.")
    return result

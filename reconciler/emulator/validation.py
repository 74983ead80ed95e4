"""Parameter checks driven by ``openapi-subset.json``, never by hand-written lists.

Form values arrive as strings (see :mod:`reconciler.emulator.forms`); :func:`coerce` walks the
operation's schema, converts them to the declared types and raises Stripe's 400 errors:
``Received unknown parameter: …``, ``Missing required param: …``, ``Invalid integer: …`` and the
enum / maxLength / range messages, each with ``param`` in bracket notation.

The schema is :func:`reconciler.data.spec`: the newest API version the official SDKs document
(2026-10-28.endive), whatever ``Stripe-Version`` a request names. Whether Stripe gates the
additive parameters of a newer version (tax registrations in BW, CI, GH, MU; US
``utility_users_tax``) by the request's version is not documented, so the emulator accepts them
under every version it knows.

``x-stripeBypassValidation``: SDK generators read this marker as "do not validate this enum on the
client", because Stripe adds values over time. The server still rejects values it does not know
(an unknown ``enabled_events`` value is Stripe's 400, FACTS.md §1), so the emulator accepts the
newest version's values and rejects anything else.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from reconciler.data import resolve_ref, spec
from reconciler.emulator.errors import EmulatedError, invalid_param

_INTEGER = re.compile(r"^-?\d+$")


def operation(method: str, template: str) -> dict[str, Any]:
    """The spec's operation object for ``method`` (lower case) on a path template."""
    op: dict[str, Any] = spec()["paths"][template][method]
    return op


@cache
def body_schema(method: str, template: str) -> dict[str, Any]:
    content = operation(method, template)["requestBody"]["content"]
    schema: dict[str, Any] = content["application/x-www-form-urlencoded"]["schema"]
    return schema


@cache
def query_schema(method: str, template: str) -> dict[str, Any]:
    """Query parameters folded into one closed object schema (ranges from the spec text)."""
    properties: dict[str, Any] = {}
    for parameter in operation(method, template).get("parameters", []):
        if parameter["in"] != "query":
            continue
        schema = dict(parameter["schema"])
        bounds = parameter.get("x-range-from-spec-text")
        if bounds:
            schema["minimum"] = bounds["minimum"]
            schema["maximum"] = bounds["maximum"]
        properties[parameter["name"]] = schema
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _child(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def accepts_empty_string(schema: dict[str, Any]) -> bool:
    """True when the spec offers ``""`` (Stripe's "unset") as an explicit alternative here."""
    schema = resolve_ref(schema)
    if "anyOf" in schema:
        return any(accepts_empty_string(option) for option in schema["anyOf"])
    return schema.get("type") == "string" and schema.get("enum") == [""]


def _cannot_unset(field: str) -> EmulatedError:
    return invalid_param(
        field,
        f"You passed an empty string for '{field}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{field}' cannot be unset. You should remove '{field}' "
        "from your request or supply a non-empty value.",
        code="parameter_invalid_empty",
    )


def coerce(value: Any, schema: dict[str, Any], name: str = "") -> Any:
    """Validate ``value`` (strings, lists, dicts from the form parser) and convert its types."""
    schema = resolve_ref(schema)
    if "anyOf" in schema:
        return _coerce_any_of(value, schema["anyOf"], name)
    kind = schema.get("type")
    if kind == "object":
        return _coerce_object(value, schema, name)
    if kind == "array":
        return _coerce_array(value, schema, name)
    if not isinstance(value, str):
        raise invalid_param(name, f"Invalid {kind or 'value'}: {name} must be a single value")
    if kind == "integer":
        return _coerce_integer(value, schema, name)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise invalid_param(name, f"Invalid boolean: {value}")
        return value == "true"
    return _coerce_string(value, schema, name)


def _coerce_any_of(value: Any, options: list[dict[str, Any]], name: str) -> Any:
    first_error: EmulatedError | None = None
    for option in options:
        try:
            return coerce(value, option, name)
        except EmulatedError as error:
            # The "" alternative's complaint is never the helpful one; keep the first real one.
            if first_error is None and resolve_ref(option).get("enum") != [""]:
                first_error = error
    assert first_error is not None
    raise first_error


def _coerce_object(value: Any, schema: dict[str, Any], name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_param(name, f"Invalid object: {name} must be a map of parameters")
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    result: dict[str, Any] = {}
    for key, item in value.items():
        field = _child(name, key)
        sub = properties.get(key)
        if sub is None:
            if not isinstance(extra, dict):
                # Stripe rejects unknown keys at every level, declared closed or not.
                raise invalid_param(
                    field, f"Received unknown parameter: {field}", code="parameter_unknown"
                )
            # Free-form maps (metadata) take "" as "remove this key" (FACTS.md §4).
            result[key] = coerce(item, extra, field)
            continue
        if item == "" and not accepts_empty_string(sub):
            # The spec marks every unsettable param with a "" alternative; elsewhere Stripe
            # reads "" as an attempt to unset something that cannot be unset.
            raise _cannot_unset(field)
        result[key] = coerce(item, sub, field)
    for required in schema.get("required", []):
        if required not in result:
            field = _child(name, required)
            raise invalid_param(
                field, f"Missing required param: {field}.", code="parameter_missing"
            )
    return result


def _coerce_array(value: Any, schema: dict[str, Any], name: str) -> list[Any]:
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        items = [value[key] for key in sorted(value, key=int)]
    elif isinstance(value, list):
        items = value
    else:
        raise invalid_param(name, f"Invalid array: {name} must be sent as {name}[]= or {name}[0]=")
    item_schema = schema.get("items", {})
    return [coerce(item, item_schema, f"{name}[{index}]") for index, item in enumerate(items)]


def _coerce_integer(value: str, schema: dict[str, Any], name: str) -> int:
    if not _INTEGER.match(value):
        raise invalid_param(name, f"Invalid integer: {value}", code="parameter_invalid_integer")
    number = int(value)
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and number < low) or (high is not None and number > high):
        raise invalid_param(name, f"Invalid {name}: must be between {low} and {high}")
    return number


def _coerce_string(value: str, schema: dict[str, Any], name: str) -> str:
    limit = schema.get("maxLength")
    if limit is not None and len(value) > limit:
        raise invalid_param(name, f"Invalid string: {name} must be at most {limit} characters")
    allowed = schema.get("enum")
    if allowed is not None and value not in allowed:
        raise invalid_param(name, f"Invalid {name}: must be one of {_one_of(allowed)}")
    return value


def _one_of(values: list[str]) -> str:
    shown = [value or '""' for value in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f", or {shown[-1]}"

"""Refuse live objects the handlers cannot read, before they reach a diff.

Handlers trust the fields they read to have Stripe's types. A broken proxy, a mock server or a
future API change could send something else, which would otherwise surface as a ``TypeError``
deep inside normalisation. :func:`check_shapes` holds every fetched object against its response
schema in the packaged OpenAPI subset: each field that is present must have the schema's type
(``nullable`` honoured, any ``anyOf`` branch, arrays item by item, maps value by value). Only
``id`` is required, on listed objects: the tool reads a subset of the fields, and the shape of
what it does not read is not its business. Enums are not enforced, since Stripe adds values.
Messages name the field, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.data import component, spec
from reconciler.errors import MalformedResponseError
from reconciler.resources import registry

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}

_JSON_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        # refs are `#/components/schemas/<name>`: every split of them keeps the name last
        name = str(schema["$ref"]).rsplit("/", 1)[-1]  # pragma: no mutate
        schema = spec()["components"]["schemas"][name]
    return schema


def problem(value: Any, schema: Mapping[str, Any], where: str) -> str | None:
    """Where ``value`` first departs from ``schema``, or ``None`` when it conforms."""
    schema = _resolve(schema)
    if value is None:
        return None if schema.get("nullable") else f"{where} is null"
    if "anyOf" in schema:
        branches = schema["anyOf"]
        # only whether a branch fits is read, not where it would not
        fits = any(problem(value, b, where) is None for b in branches)  # pragma: no mutate
        if fits:
            return None
        return f"{where} matches none of its allowed shapes"
    kind = schema.get("type")
    if kind is None:
        return None
    wanted = _TYPES.get(str(kind), ())  # pragma: no mutate (the schema uses only these types)
    if not isinstance(value, wanted) or (kind != "boolean" and isinstance(value, bool)):
        # a JSON value is one of the named types; the fallback is for callers passing others
        got = _JSON_NAMES.get(type(value), "another type")  # pragma: no mutate
        return f"{where} is {got}, not {kind}"
    if isinstance(value, list):
        items = schema.get("items") or {}
        for index, item in enumerate(value):
            found = problem(item, items, f"{where}[{index}]")
            if found:
                return found
    if isinstance(value, dict):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            # no schema of the subset has a boolean additionalProperties
            default = extra if isinstance(extra, Mapping) else None  # pragma: no mutate
            sub = properties.get(key, default)
            found = problem(item, sub, f"{where}.{key}") if sub is not None else None
            if found:
                return found
    return None


def check_shapes(kind: str, objects: tuple[Any, ...]) -> None:
    """Raise :class:`MalformedResponseError` for the first object of ``kind`` that does not
    have the shape the handlers read; return quietly when every one does."""
    if kind not in registry.KINDS:
        return
    # the kind's response schema component, and whether its objects come from a list (need an id)
    name, listed = registry.spec_of(kind).schema, registry.spec_of(kind).listed
    schema = component(name)
    for index, obj in enumerate(objects):
        ident = obj.get("id") if isinstance(obj, dict) else None
        label = ident if isinstance(ident, str) and ident else f"{name} #{index + 1}"
        if not isinstance(obj, dict):
            found: str | None = "it is not an object"
        elif listed and not (isinstance(ident, str) and ident):
            found = "it has no id"
        else:
            found = problem(obj, schema, name)
        if found:
            raise MalformedResponseError(
                f"Stripe returned a {name} this tool cannot read ({label}): {found}"
            )

"""Per-country ``country_options`` shapes of tax registrations, derived from Stripe's OpenAPI spec.

The shapes are read (once, on first use) from the ``POST /v1/tax/registrations`` request schema in
:mod:`reconciler.data`, so a refreshed spec updates the checks without retyping any Stripe fact.
Beyond the plain schema, two rules the spec only states in prose are enforced: a sub-object named
after a ``type`` value (``province_standard``, ``local_amusement_tax``, …) belongs to that type
only, and when it carries a jurisdiction field (``province``, ``jurisdiction``) it is required for
that type, because the jurisdiction is part of the registration's identity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from difflib import get_close_matches
from functools import cache
from typing import Any

from reconciler import data
from reconciler.manifest.diagnostics import DataPath
from reconciler.manifest.suggest import did_you_mean, one_of

#: Fields inside a type sub-object that name a jurisdiction (part of the natural key).
JURISDICTION_FIELDS = ("province", "jurisdiction")

_CODE = re.compile(r"^[A-Z]{2}$")

#: (path relative to the registration, message, point at the key rather than the value)
Problem = tuple[DataPath, str, bool]


@cache
def country_option_schemas() -> dict[str, dict[str, Any]]:
    """Lowercase country code → the OpenAPI schema of its ``country_options`` entry."""
    operation = data.spec()["paths"]["/v1/tax/registrations"]["post"]
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    schemas: dict[str, dict[str, Any]] = body["properties"]["country_options"]["properties"]
    return dict(schemas)


@cache
def supported_countries() -> frozenset[str]:
    """Upper-case ISO codes that Stripe Tax accepts registrations for (in the pinned version)."""
    return frozenset(code.upper() for code in country_option_schemas())


@cache
def _base_option_schemas() -> dict[str, dict[str, Any]]:
    """Lowercase country code → its ``country_options`` request schema in the older spec."""
    operation = data.openapi()["paths"]["/v1/tax/registrations"]["post"]
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    schemas: dict[str, dict[str, Any]] = body["properties"]["country_options"]["properties"]
    return dict(schemas)


def newer_than_base(country: str, kind: Any) -> str | None:
    """What of ``country``/``type`` only the newest API version has, or ``None``.

    A manifest that pins ``account.api_version`` to the older version may not get it: whether
    Stripe gates additions by version is not documented, so validation warns instead of failing.
    """
    base = _base_option_schemas()
    code = country.lower()
    if code in country_option_schemas() and code not in base:
        return f"registrations in {country.upper()}"
    types = base.get(code, {}).get("properties", {}).get("type", {}).get("enum", ())
    if isinstance(kind, str) and kind in type_values(country) and kind not in types:
        return f"type '{kind}'"
    return None


def natural_key(country: str, country_options: Mapping[str, Any]) -> str:
    """``US/state_sales_tax/CA``: a registration's identity (PRODUCT.md §4.3).

    Country, ``type`` and the jurisdiction fields that apply (``state``, then the type
    sub-object's ``province`` / ``jurisdiction``). The one definition: validation's overlap
    check, planning, apply's lookups, drift and export must all agree on it.
    """
    options = country_options.get(country.lower())
    if not isinstance(options, Mapping):
        options = {}
    kind = options.get("type")
    kind = kind if isinstance(kind, str) else ""
    parts = [country.upper(), kind]
    if options.get("state"):
        parts.append(str(options["state"]))
    sub = options.get(kind) if kind else None
    if isinstance(sub, Mapping):
        parts.extend(str(sub[name]) for name in JURISDICTION_FIELDS if sub.get(name))
    return "/".join(parts)


@cache
def _response_schemas() -> dict[str, dict[str, Any]]:
    """Lowercase country code → the response schema of its ``country_options`` entry."""
    registration = data.spec()["components"]["schemas"]["tax.registration"]
    options = data.resolve_ref(registration["properties"]["country_options"])
    return {
        code: data.resolve_ref(schema) for code, schema in options.get("properties", {}).items()
    }


def _project(value: Any, schema: dict[str, Any]) -> Any:
    schema = data.resolve_ref(schema)
    if isinstance(value, dict) and "properties" in schema:
        properties: dict[str, Any] = schema["properties"]
        return {k: _project(v, properties[k]) for k, v in value.items() if k in properties}
    if isinstance(value, list) and "items" in schema:
        return [_project(item, schema["items"]) for item in value]
    return value


def response_view(country: str, country_options: Mapping[str, Any]) -> dict[str, Any]:
    """``country_options`` cut down to what Stripe's response can carry for ``country``.

    Stripe accepts some options it never returns (``standard.place_of_supply_scheme`` for the
    "default" group: ZA, IS, ...), so comparing them with a live object would differ forever.
    Countries the pinned spec does not know are left whole.
    """
    schema = _response_schemas().get(country.lower())
    if schema is None:
        return dict(country_options)
    return {
        code: _project(value, schema) if code == country.lower() else value
        for code, value in country_options.items()
    }


def type_values(country: str) -> tuple[str, ...]:
    """The ``type`` values allowed for ``country`` (upper or lower case)."""
    schema = country_option_schemas().get(country.lower(), {})
    return tuple(schema.get("properties", {}).get("type", {}).get("enum", ()))


def check_country(country: Any) -> list[Problem]:
    """The ``country`` field itself."""
    if not isinstance(country, str):
        return []  # the model reports the wrong type
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        return [(("country",), f"'{country}' is not a two-letter ISO 3166-1 country code", False)]
    if country != country.upper():
        return [(("country",), f"country codes are upper case: write '{country.upper()}'", False)]
    if country not in supported_countries():
        return [
            (
                ("country",),
                f"Stripe Tax does not support registrations in '{country}' "
                f"(API version {data.pinned_api_version()})",
                False,
            )
        ]
    return []


def check_country_options(country: Any, options: Any) -> list[Problem]:
    """``country_options``: one key, equal to the lowercase country, with that country's shape."""
    if not isinstance(options, dict):
        return []  # the model reports the wrong type
    base: DataPath = ("country_options",)
    if not options:
        expected = f"'{country.lower()}'" if isinstance(country, str) else "the lowercase country"
        return [(base, f"needs exactly one key: {expected}", False)]
    problems: list[Problem] = []
    keys = list(options)
    for extra in keys[1:]:
        problems.append(
            ((*base, extra), "a registration covers one country: only one key is allowed", True)
        )
    key = keys[0]
    if not isinstance(country, str) or country.upper() not in supported_countries():
        return problems
    expected = country.lower()
    if key != expected:
        problems.append(
            ((*base, key), f"key '{key}' does not match country {country}; use '{expected}'", True)
        )
        return problems
    schema = country_option_schemas()[expected]
    problems.extend(_check_object(options[key], schema, (*base, key), country))
    if isinstance(options[key], dict):
        problems.extend(_check_type_objects(options[key], schema, (*base, key), country))
    return problems


def _check_object(
    value: Any, schema: dict[str, Any], path: DataPath, country: str
) -> list[Problem]:
    if not isinstance(value, dict):
        return [(path, f"expected a mapping, got {_kind(value)}", False)]
    problems: list[Problem] = []
    properties: dict[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", ()) if name not in value]
    for name, item in value.items():
        if name not in properties:
            close = get_close_matches(name, list(properties), n=1, cutoff=0.6)
            if close and close[0] in missing:
                missing.remove(close[0])  # the typo is the missing key: one message is enough
            hint = did_you_mean(name, properties) or f"; allowed: {', '.join(sorted(properties))}"
            problems.append(((*path, name), f"unknown key '{name}' for {country}{hint}", True))
            continue
        problems.extend(_check_value(item, properties[name], (*path, name), country))
    for name in missing:
        # The key is absent, so the location falls back to the mapping that lacks it.
        problems.append(
            ((*path, name), f"missing required key '{name}'{_hint(name, country)}", True)
        )
    return problems


def _check_value(value: Any, schema: dict[str, Any], path: DataPath, country: str) -> list[Problem]:
    kind = schema.get("type")
    if kind == "object":
        return _check_object(value, schema, path, country)
    if kind == "array":
        if not isinstance(value, list):
            return [(path, f"expected a list, got {_kind(value)}", False)]
        problems: list[Problem] = []
        for index, item in enumerate(value):
            problems.extend(_check_value(item, schema.get("items", {}), (*path, index), country))
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [(path, f"expected a string, got {_kind(value)}", False)]
        if value == "":
            # an empty jurisdiction is no jurisdiction: Stripe refuses it on every create
            return [(path, "is empty; give a value (Stripe refuses an empty one)", False)]
        enum = schema.get("enum")
        if enum is not None and value not in enum:
            field = path[-1]
            return [
                (
                    path,
                    f"'{value}' is not a valid {field} for {country}; expected {one_of(enum)}"
                    + did_you_mean(value, enum),
                    False,
                )
            ]
        limit = schema.get("maxLength")
        if limit is not None and len(value) > limit:
            return [(path, f"is {len(value)} characters long; at most {limit} allowed", False)]
        if path[-1] in ("state", "province") and not _CODE.fullmatch(value):
            what = (
                "US state code (e.g. CA, NY)" if path[-1] == "state" else "province code (e.g. BC)"
            )
            return [(path, f"'{value}' is not a two-letter {what}", False)]
    return []


def _check_type_objects(
    options: dict[str, Any], schema: dict[str, Any], path: DataPath, country: str
) -> list[Problem]:
    """Sub-objects named after a type value must match ``type``; jurisdiction ones are required."""
    chosen = options.get("type")
    properties: dict[str, Any] = schema.get("properties", {})
    enum = properties.get("type", {}).get("enum", ())
    problems: list[Problem] = []
    for name in enum:
        if name == chosen or name not in options or name not in properties:
            continue
        if isinstance(chosen, str) and chosen in enum:
            problems.append(
                (
                    (*path, name),
                    f"'{name}' options only apply to type '{name}', not '{chosen}'",
                    True,
                )
            )
    if isinstance(chosen, str) and chosen in properties and chosen not in options:
        needed = [f for f in properties[chosen].get("required", ()) if f in JURISDICTION_FIELDS]
        if needed:
            problems.append(
                (
                    (*path, "type"),
                    f"type '{chosen}' needs '{chosen}: {{{needed[0]}: ...}}' naming the "
                    f"{needed[0]}",
                    False,
                )
            )
    return problems


def _hint(name: str, country: str) -> str:
    if name == "state":
        return " (the two-letter US state code, e.g. CA)"
    if name == "type":
        return f" ({one_of(type_values(country))})"
    return ""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__

"""The manifest JSON Schema, generated from the pydantic models (editors use it via
``# yaml-language-server: $schema=…``; ``schemas/manifest.schema.json`` is its committed copy).

A few rules that the loader enforces as semantic checks (so they get located, friendly messages)
are added to the generated schema too, so editors flag them while typing: logical-name pattern,
metadata limits, URL characters and credentials, and the 16-endpoint cap (per section: webhook
endpoints and event destinations share it, which only the loader can count).

Every string value is expanded from the environment before it is validated (``${VAR}``, see
:mod:`reconciler.manifest.expand`), so a constrained string (a pattern, an enum, a format) also
accepts any text holding a reference: only the loader, which knows the variable, can judge it.
Booleans and integers take a whole reference only (the model's own schema says so), and mapping
keys and ``version`` are never expanded, so they stay as strict as written.

The schema ships in the wheel too (:func:`packaged_schema`), with an https ``$id`` on the
project's repository that editors and ``check-jsonschema`` can fetch.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from reconciler.manifest.checks import (
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_WEBHOOK_ENDPOINTS,
)
from reconciler.manifest.country_options import country_option_schemas
from reconciler.manifest.expand import CONTAINS_REFERENCE_PATTERN, REFERENCE_PATTERN
from reconciler.manifest.merge import NAME_PATTERN
from reconciler.manifest.model import Manifest

#: The schema's stable address: the committed copy on the repository's default branch (GitHub
#: redirects ``/raw/`` to the file). Spelled with the one repository URL of pyproject.toml, which
#: tests/docs/test_refs.py keeps the same everywhere.
SCHEMA_ID = "https://github.com/OWNER/stripe-reconciler/raw/main/schemas/manifest.schema.json"
#: The copy inside the package (``importlib.resources``), identical to ``schemas/``'s.
PACKAGED_SCHEMA = "manifest.schema.json"

#: What a pattern can say of the loader's URL checks: no whitespace, control or invisible
#: characters, and no user name or password before the host (ports are left to the loader).
#: Lookaheads only: "$" would also match before a trailing newline in Python's ``re``.
URL_PATTERN = (
    r"^(?![A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@)"
    r"(?![\s\S]*[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff])"
)


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest file."""
    generated = Manifest.model_json_schema(mode="validation")
    registration = generated["$defs"]["TaxRegistration"]["properties"]
    for name in ("active_from", "expires_at"):
        # The models accept ISO-8601 text and YAML dates too (normalised to unix seconds).
        registration[name]["anyOf"][1:1] = [
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
        ]
    registration["country_options"].update(
        {
            "properties": _stripe_fragments(country_option_schemas()),
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
        }
    )
    # Before the key and URL rules below: keys are never expanded, and the URL pattern (no
    # whitespace, no credentials) holds for a reference as written.
    accept_references(generated)
    properties = generated["properties"]
    names = {"pattern": NAME_PATTERN.pattern}
    for section in ("webhook_endpoints", "event_destinations"):
        properties[section]["propertyNames"] = names
        properties[section]["maxProperties"] = MAX_WEBHOOK_ENDPOINTS
    properties["tax_registrations"]["propertyNames"] = names
    definitions = generated["$defs"]
    definitions["WebhookEndpoint"]["properties"]["url"]["pattern"] = URL_PATTERN
    definitions["DestinationWebhook"]["properties"]["url"]["pattern"] = URL_PATTERN
    for model in ("WebhookEndpoint", "EventDestination"):
        metadata = definitions[model]["properties"]["metadata"]
        metadata["maxProperties"] = MAX_METADATA_KEYS
        metadata["propertyNames"] = {
            "minLength": 1,
            "maxLength": MAX_METADATA_KEY_LENGTH,
            "pattern": r"^[^\[\]]*$",
        }
        # Stripe deletes a key whose value is "", so an empty value could never be kept
        metadata["additionalProperties"]["minLength"] = 1
        metadata["additionalProperties"]["maxLength"] = MAX_METADATA_VALUE_LENGTH
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "stripe-reconciler manifest",
    }


#: A string holding a ``${…}`` reference: any value, once expanded.
_REFERENCE = {"type": "string", "pattern": CONTAINS_REFERENCE_PATTERN}
#: What stays on the outside when a schema is wrapped in ``anyOf`` (editors show it on hover).
_ANNOTATIONS = ("title", "description", "default", "examples")


def _constrained_string(schema: Any) -> bool:
    """A string schema that a value holding ``${VAR}`` could fail (not the whole-reference
    alternative of a boolean or integer, which is already the reference's own schema)."""
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and any(k in schema for k in ("enum", "const", "pattern", "format"))
        and schema.get("pattern") != REFERENCE_PATTERN
    )


def accept_references(schema: dict[str, Any]) -> None:
    """Let every constrained string of ``schema`` (in place, recursively) also be a string that
    holds a reference: one more ``anyOf`` branch, or a new ``anyOf`` around a lone string."""
    for key in ("properties", "$defs"):
        for child in schema.get(key, {}).values():
            accept_references(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            accept_references(schema[key])
    if "anyOf" in schema:
        branches = schema["anyOf"]
        for branch in branches:
            if not _constrained_string(branch):
                accept_references(branch)
        if any(_constrained_string(b) for b in branches):
            branches.append(dict(_REFERENCE))
    elif _constrained_string(schema):
        inner = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
        for k in inner:
            del schema[k]
        schema["anyOf"] = [inner, dict(_REFERENCE)]


def _stripe_fragments(value: Any) -> Any:
    """Stripe's OpenAPI fragments without vendor extensions (``x-…``), which JSON Schema lacks."""
    if isinstance(value, dict):
        return {k: _stripe_fragments(v) for k, v in value.items() if not k.startswith("x-")}
    if isinstance(value, list):
        return [_stripe_fragments(v) for v in value]
    return value


def render_schema() -> str:
    """The schema as committed: 2-space indented JSON with a trailing newline."""
    return json.dumps(manifest_json_schema(), indent=2) + "\n"


@cache
def packaged_schema() -> dict[str, Any]:
    """The schema shipped inside the package (what ``render_schema`` gave when it was built),
    for tools that validate manifests without running the generator."""
    text = resources.files(__package__).joinpath(PACKAGED_SCHEMA).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document

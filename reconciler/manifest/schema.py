"""The manifest JSON Schema, generated from the pydantic models (editors use it via
``# yaml-language-server: $schema=…``; ``schemas/manifest.schema.json`` is its committed copy).

A few rules that the loader enforces as semantic checks (so they get located, friendly messages)
are added to the generated schema too, so editors flag them while typing: logical-name pattern,
metadata limits, URL characters and credentials, and the 16-endpoint cap.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.manifest.checks import (
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_WEBHOOK_ENDPOINTS,
)
from reconciler.manifest.country_options import country_option_schemas
from reconciler.manifest.merge import NAME_PATTERN
from reconciler.manifest.model import Manifest

SCHEMA_ID = "urn:stripe-reconciler:manifest:v1"

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
    properties = generated["properties"]
    names = {"pattern": NAME_PATTERN.pattern}
    properties["webhook_endpoints"]["propertyNames"] = names
    properties["webhook_endpoints"]["maxProperties"] = MAX_WEBHOOK_ENDPOINTS
    properties["tax_registrations"]["propertyNames"] = names
    endpoint = generated["$defs"]["WebhookEndpoint"]["properties"]
    endpoint["url"]["pattern"] = URL_PATTERN
    metadata = endpoint["metadata"]
    metadata["maxProperties"] = MAX_METADATA_KEYS
    metadata["propertyNames"] = {
        "minLength": 1,
        "maxLength": MAX_METADATA_KEY_LENGTH,
        "pattern": r"^[^\[\]]*$",
    }
    # Stripe deletes a key whose value is "", so an empty value could never be kept
    metadata["additionalProperties"]["minLength"] = 1
    metadata["additionalProperties"]["maxLength"] = MAX_METADATA_VALUE_LENGTH
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
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "stripe-reconciler manifest",
    }


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

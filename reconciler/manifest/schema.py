"""The manifest JSON Schema, generated from the pydantic models (editors use it via
``# yaml-language-server: $schema=…``; ``schemas/manifest.schema.json`` is its committed copy)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.manifest.model import Manifest

SCHEMA_ID = "https://github.com/stripe-reconciler/stripe-reconciler/schemas/manifest.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest file."""
    generated = Manifest.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "stripe-reconciler manifest",
    }


def render_schema() -> str:
    """The schema as committed: 2-space indented JSON with a trailing newline."""
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=False) + "\n"

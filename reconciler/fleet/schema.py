"""The fleet file's JSON Schema, generated from :class:`~reconciler.fleet.model.FleetFile`.

``schemas/fleet.schema.json`` is its committed copy (``stripe-reconciler schema --fleet``), and
the wheel ships it next to this module, as for the manifest schema
(:mod:`reconciler.manifest.schema`): the same ``${VAR}`` rule applies (a constrained string also
accepts text holding a reference, which only the loader can judge).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.fleet.model import FleetFile
from reconciler.manifest.schema import accept_references

SCHEMA_ID = "https://github.com/OWNER/stripe-reconciler/raw/main/schemas/fleet.schema.json"


def fleet_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a fleet file."""
    generated = FleetFile.model_json_schema(mode="validation")
    # ``platform: false`` is read as null (no platform-wide budget), see RateLimits
    platform = generated["$defs"]["RateLimits"]["properties"]["platform"]
    platform["anyOf"].insert(1, {"const": False})
    accept_references(generated)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "stripe-reconciler fleet",
    }


def render_fleet_schema() -> str:
    """The schema as committed: 2-space indented JSON with a trailing newline."""
    return json.dumps(fleet_json_schema(), indent=2) + "\n"

"""Stripe API facts shipped with the package.

``openapi-subset.json`` and ``enabled-events.txt`` are verbatim copies of the project's
``shared/stripe-api`` files (a test keeps them identical). Every part of the tool that needs a
Stripe fact — allowed events, parameter schemas, enums, the pinned API version — reads it from
here instead of retyping it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

OPENAPI_FILE = "openapi-subset.json"
EVENTS_FILE = "enabled-events.txt"


def _read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def openapi() -> dict[str, Any]:
    """Stripe's OpenAPI subset for the endpoints the tool uses (parsed once)."""
    document: dict[str, Any] = json.loads(_read_text(OPENAPI_FILE))
    return document


def resolve_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` pointers (``#/components/schemas/…``) within :func:`openapi` to a schema."""
    while "$ref" in schema:
        node: Any = openapi()
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


@cache
def enabled_events() -> frozenset[str]:
    """Every value Stripe accepts in ``enabled_events``, ``*`` included."""
    lines = (line.strip() for line in _read_text(EVENTS_FILE).splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def pinned_api_version() -> str:
    """The Stripe-Version the tool pins by default: the spec's ``info.version``."""
    version: str = openapi()["info"]["version"]
    return version

"""Stripe API facts shipped with the package.

``openapi-subset.json`` and ``enabled-events.txt`` are verbatim copies of the project's
``shared/stripe-api`` files (a test keeps them identical): Stripe's spec for API version
2026-09-30.endive. ``api-2026-10-28.endive.json`` brings it to 2026-10-28.endive, the newest
version the official SDKs document (stripe-python 16.1.0 and stripe-node pin it): JSON Patch
``add`` operations derived from stripe-python 16.1.0's params and resource classes, with the
source recorded in the file (FACTS.md [S2], [S21]). :func:`spec` is that newest version, and
every part of the tool that needs a Stripe fact — allowed events, parameter schemas, enums —
reads it from here instead of retyping it. :func:`openapi` stays the verbatim older spec, so
checks can tell what a manifest pinned to the older version may not use.

The tool pins the newest version (:func:`pinned_api_version`): it is a strict superset of
2026-09-30.endive for everything the tool sends (the cross-check found only additions), so
manifests written for the older version mean the same, and the additions (tax registrations
in BW, CI, GH, MU; US ``digital_excise_tax`` and ``utility_users_tax``; seven
``three_d_secure.authentication.*`` events) work without an ``account.api_version``. A manifest
can still pin ``account.api_version: 2026-09-30.endive``.

``v2-event-destinations.json`` holds what the tool needs of the v2 API, which the OpenAPI subset
does not describe: the event destination object's shape (its response schema component), the
parameters of its create, update, list and retrieve, and the thin event types, all derived from
stripe-python 16.1.0 with the source recorded in the file (``tests/v2_derive.py`` derives it,
``tests/test_data_v2.py`` checks it against the installed SDK). :func:`component` finds a
response schema in either file.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

OPENAPI_FILE = "openapi-subset.json"
EVENTS_FILE = "enabled-events.txt"
NEWER_VERSION_FILE = "api-2026-10-28.endive.json"
V2_FILE = "v2-event-destinations.json"


def _read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def openapi() -> dict[str, Any]:
    """Stripe's OpenAPI subset for the endpoints the tool uses (parsed once)."""
    document: dict[str, Any] = json.loads(_read_text(OPENAPI_FILE))
    return document


@cache
def newer_version() -> dict[str, Any]:
    """The packaged description of the newest API version: its name, source and patches."""
    document: dict[str, Any] = json.loads(_read_text(NEWER_VERSION_FILE))
    return document


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def _add(document: Any, path: str, value: Any) -> None:
    """RFC 6902 ``add``: set an object member, or insert into a list (``-`` appends)."""
    *parents, last = _pointer(path)
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node.insert(len(node) if last == "-" else int(last), copy.deepcopy(value))
    elif last in node:
        raise ValueError(f"{NEWER_VERSION_FILE}: {path} already exists in {OPENAPI_FILE}")
    else:
        node[last] = copy.deepcopy(value)


@cache
def spec() -> dict[str, Any]:
    """Stripe's OpenAPI subset for the newest API version: :func:`openapi` plus its patches."""
    document = copy.deepcopy(openapi())
    for patch in newer_version()["patches"]:
        if patch.get("op") != "add":
            raise ValueError(f"{NEWER_VERSION_FILE}: only 'add' patches are supported")
        _add(document, str(patch["path"]), patch["value"])
    document["info"] = {**document["info"], "version": newer_version()["api_version"]}
    return document


def resolve_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` pointers (``#/components/schemas/…``) within :func:`spec` to a schema."""
    while "$ref" in schema:
        node: Any = spec()
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


@cache
def enabled_events() -> frozenset[str]:
    """Every value Stripe accepts in ``enabled_events`` in the newest version, ``*`` included."""
    lines = (line.strip() for line in _read_text(EVENTS_FILE).splitlines())
    listed = frozenset(line for line in lines if line and not line.startswith("#"))
    return listed | newer_events()


@cache
def newer_events() -> frozenset[str]:
    """Events the newest version added to ``enabled-events.txt`` (its 2026-09-30.endive list)."""
    create = spec()["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"]
    schema = create["application/x-www-form-urlencoded"]["schema"]["properties"]
    newest = frozenset(schema["enabled_events"]["items"]["enum"])
    older = openapi()["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"]
    base = older["application/x-www-form-urlencoded"]["schema"]["properties"]
    return newest - frozenset(base["enabled_events"]["items"]["enum"])


@cache
def v2() -> dict[str, Any]:
    """The packaged v2 facts (event destinations): schemas, request params, thin events."""
    document: dict[str, Any] = json.loads(_read_text(V2_FILE))
    return document


def component(name: str) -> dict[str, Any]:
    """The response schema component ``name`` (``webhook_endpoint``, ``v2.core.event_destination``)
    from :func:`spec`, or from :func:`v2` for the v2 objects; ``KeyError`` for an unknown one."""
    schemas: dict[str, Any] = spec()["components"]["schemas"]
    if name in schemas:
        found: dict[str, Any] = schemas[name]
        return found
    v2_schema: dict[str, Any] = v2()["components"]["schemas"][name]
    return v2_schema


@cache
def thin_events() -> frozenset[str]:
    """Every thin event type stripe-python 16.1.0 can parse: what a destination whose
    ``event_payload`` is ``thin`` may enable (snapshot payloads take :func:`enabled_events`)."""
    return frozenset(v2()["thin_events"])


def pinned_api_version() -> str:
    """The Stripe-Version the tool pins by default: the newest version the SDKs document.

    Why the newest and not the verbatim spec's 2026-09-30.endive: see the module docstring.
    """
    version: str = newer_version()["api_version"]
    return version


def base_api_version() -> str:
    """The version of the verbatim spec (:func:`openapi`), which the newest one extends."""
    version: str = openapi()["info"]["version"]
    return version

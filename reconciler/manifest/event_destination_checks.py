"""Semantic checks of ``event_destinations`` (what Stripe's v2 API would refuse, and more).

As :mod:`reconciler.manifest.checks`, on raw values guarded by type tests, so one schema error
does not hide the rest. The facts, from stripe-python 16.1.0 (FACTS.md [S20]):

- ``type`` names the target, and the create takes that target's section
  (``webhook_endpoint``, ``amazon_eventbridge`` or ``azure_event_grid``); a section of another
  type is a mistake the tool refuses rather than send.
- ``enabled_events`` of a thin destination are thin event types (:func:`data.thin_events`), of
  a snapshot one the v1 event list (:func:`data.enabled_events`).
- ``snapshot_api_version``: "For snapshot events only … do not provide this for thin events"
  (``EventDestinationCreateParams``).
- ``events_from`` takes ``@self``, ``@accounts``, ``@organization_members`` and
  ``@organization_members/@accounts`` (the parameter's docstring; its type is open, so another
  value is a warning).
"""

from __future__ import annotations

from typing import Any

from reconciler import data
from reconciler.manifest.checks import (
    _check_api_version,
    _check_ignore_changes,
    _check_metadata,
    account_mode,
    check_events,
)
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.merge import Entry, ManifestSet
from reconciler.manifest.model import EventDestination
from reconciler.manifest.names import DESTINATION_SECRET_PREFIX, secret_variable
from reconciler.manifest.urls import url_problem

__all__ = [
    "AWS_REGION_KEY",
    "DESTINATION_RESERVED_KEYS",
    "DESTINATION_SECRET_PREFIX",
    "check_destinations",
]

#: where apply records an EventBridge destination's ``aws_region``, which Stripe never returns
AWS_REGION_KEY = "reconciler_aws_region"
#: metadata keys the tool writes on the destinations it manages
DESTINATION_RESERVED_KEYS = (
    "managed_by",
    "reconciler_name",
    "reconciler_protect",
    "reconciler_secret_pending",
    AWS_REGION_KEY,
)
_RESERVED_PATHS = frozenset(f"metadata.{key}" for key in DESTINATION_RESERVED_KEYS)
#: the target section each ``type`` takes
TARGETS = ("webhook_endpoint", "amazon_eventbridge", "azure_event_grid")
EVENTS_FROM = ("@self", "@accounts", "@organization_members", "@organization_members/@accounts")


def check_destinations(manifests: ManifestSet, *, allow_unknown_events: bool) -> list[Diagnostic]:
    """Every diagnostic of the declared event destinations."""
    mode = account_mode(manifests)
    out: list[Diagnostic | None] = []
    variables: dict[str, str] = {}
    for name, entry in manifests.destinations.items():
        variable = secret_variable(name, prefix=DESTINATION_SECRET_PREFIX)
        if variable in variables:
            out.append(
                entry.diagnostic(
                    (),
                    f"name maps to the same secret variable {variable} as "
                    f"'{variables[variable]}'; rename one",
                    key=True,
                )
            )
        variables.setdefault(variable, name)
        if isinstance(entry.raw, dict):
            out.extend(_check_destination(entry, entry.raw, mode, allow_unknown_events))
    return [d for d in out if d is not None]


def _check_destination(
    entry: Entry, raw: dict[str, Any], mode: str, allow_unknown_events: bool
) -> list[Diagnostic | None]:
    out: list[Diagnostic | None] = []
    kind = raw.get("type")
    if kind in TARGETS:
        if not isinstance(raw.get(kind), dict):
            out.append(
                entry.diagnostic((), f"type {kind} needs {_a(kind)} {kind} section", key=True)
            )
        for other in TARGETS:
            if other != kind and other in raw:
                out.append(
                    entry.diagnostic(
                        (other,),
                        f"{_a(other)} {other} section belongs to type {other}, not {kind}",
                        key=True,
                    )
                )
    payload = raw.get("event_payload")
    if payload == "thin":
        out.extend(check_events(entry, raw, data.thin_events(), allow_unknown_events, "thin event"))
        if raw.get("snapshot_api_version") is not None:
            out.append(
                entry.diagnostic(
                    ("snapshot_api_version",),
                    "is for snapshot payloads only; thin events are not pinned to an API version",
                    key=True,
                )
            )
    elif payload == "snapshot":
        out.extend(check_events(entry, raw, data.enabled_events(), allow_unknown_events))
        out.append(_check_api_version(entry, raw, "snapshot_api_version"))
    webhook = raw.get("webhook_endpoint")
    url = webhook.get("url") if isinstance(webhook, dict) else None
    if isinstance(url, str):
        message = url_problem(url, mode)
        if message:
            out.append(entry.diagnostic(("webhook_endpoint", "url"), message))
    sources = raw.get("events_from")
    for index, source in enumerate(sources if isinstance(sources, list) else ()):
        if isinstance(source, str) and source not in EVENTS_FROM:
            out.append(
                entry.diagnostic(
                    ("events_from", index),
                    f"'{source}' is none of {', '.join(EVENTS_FROM)}, the scopes Stripe "
                    "documents; Stripe may refuse it",
                    severity="warning",
                )
            )
    metadata = raw.get("metadata")
    if isinstance(metadata, dict):
        out.extend(
            _check_metadata(
                entry,
                metadata,
                own=_own_metadata_keys(raw),
                reserved=DESTINATION_RESERVED_KEYS,
                what="destinations",
            )
        )
    out.extend(_check_ignore_changes(entry, raw, EventDestination, _RESERVED_PATHS))
    return out


def _a(word: str) -> str:
    """The article before ``word`` (``an amazon_eventbridge``, ``a webhook_endpoint``)."""
    return "an" if word[0] in "aeiou" else "a"


def _own_metadata_keys(raw: dict[str, Any]) -> int:
    """The tool's own keys on a destination: two ownership tags, the secret-pending marker
    (webhook destinations), the recorded region (EventBridge) and a recorded protect."""
    lifecycle = raw.get("lifecycle")
    protect = isinstance(lifecycle, dict) and lifecycle.get("protect") is True
    kind = raw.get("type")
    return 2 + int(kind == "webhook_endpoint") + int(kind == "amazon_eventbridge") + int(protect)

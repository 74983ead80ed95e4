"""The ``event_destinations`` section of an export (see :mod:`reconciler.export.build`).

An entry holds what a manifest may declare of a live destination, read through the kind's own
normalisation, so that planning it back gives ``No changes.``: ``name`` only when it is not the
logical name (it defaults to it), the target section of its ``type``, and ``events_from`` and
``snapshot_api_version`` as Stripe has them. EventBridge's ``aws_region`` is never returned by
Stripe: a destination the tool created has it recorded in metadata; for any other the entry
reads it from a ``${VAR}`` the user must set (validate refuses to run until then).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.data import enabled_events, thin_events
from reconciler.export.common import (
    description_of,
    escape,
    exported_url,
    metadata_and_lifecycle,
    slug,
    unknown_events,
)
from reconciler.export.tagged import export_tagged
from reconciler.manifest.names import DESTINATION_SECRET_PREFIX
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveObject
from reconciler.resources.event_destination import RESERVED_KEYS

__all__ = ["export_destinations"]

KIND = "event_destinations"
_TARGETS = {
    "webhook_endpoint": ("url",),
    "amazon_eventbridge": ("aws_account_id", "aws_region"),
    "azure_event_grid": ("azure_subscription_id", "azure_resource_group_name", "azure_region"),
}


def _destination(obj: LiveObject, label: str, warnings: list[str]) -> dict[str, Any]:
    now = HANDLERS[KIND].normalize_live(obj)
    entry: dict[str, Any] = {}
    if now["name"] != label.split(".", 1)[1]:
        entry["name"] = escape(now["name"])
    kind, payload = now["type"], now["event_payload"]
    entry["type"] = kind
    entry["event_payload"] = payload
    entry["enabled_events"] = list(now["enabled_events"])
    known = thin_events() if payload == "thin" else enabled_events()
    unknown_events(now["enabled_events"], known, label, warnings)
    if now["events_from"] is not None:
        entry["events_from"] = list(now["events_from"])
    if now["snapshot_api_version"] is not None:
        entry["snapshot_api_version"] = now["snapshot_api_version"]
    target: dict[str, Any] = {}
    for part in _TARGETS.get(kind, ()):
        value = now[f"{kind}.{part}"]
        if part == "url":
            target[part] = exported_url(str(value), label, warnings)
        elif value is None and part == "aws_region":
            variable = "STRIPE_EXPORT_" + label.split(".", 1)[1].upper().replace("-", "_")
            target[part] = f"${{{variable}_AWS_REGION}}"
            warnings.append(
                f"{label}: Stripe never returns amazon_eventbridge.aws_region; the manifest "
                f"reads it from ${{{variable}_AWS_REGION}}: set that variable to the region "
                "of the partner event source before plan or apply"
            )
        else:
            target[part] = escape(value)
    if target:
        entry[kind] = target
    ignored: list[str] = []
    description_of(entry, now["description"], ignored)
    if now["disabled"]:
        entry["disabled"] = True
    metadata_and_lifecycle(entry, now["metadata"], RESERVED_KEYS, label, warnings, ignored)
    return entry


def export_destinations(
    objects: Iterable[LiveObject], *, adopt: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    """(declared destinations, untagged destinations kept aside, warnings)."""
    found = export_tagged(
        HANDLERS[KIND],
        objects,
        adopt=adopt,
        entry=_destination,
        base_name=lambda obj: slug(str(obj.get("name") or ""), "destination"),
        prefix=DESTINATION_SECRET_PREFIX,
    )
    return found.declared, found.aside, found.warnings

"""Tax settings (``/v1/tax/settings``): a singleton, managed field by field.

Only fields present in the manifest are managed. Stripe cannot unset any of them, so a field
removed from the manifest simply stops being managed and the tool never sends ``""``
(PRODUCT.md §4.2): every field is ``never_unset``.

``head_office.address`` is one value: sent whole, compared whole, never completed from live
parts (PRODUCT.md §4.2). Stripe's ``head_office`` param is one ``validated_country_address``;
a part the manifest leaves out is not copied from live into the request (that once left
``state: CA`` on an address moved to Berlin), and a live part the manifest leaves out is a
difference, with a warning that asks to declare it, never ``No changes.``. The field is a map
(one change per part) sent ``whole``.

``pending`` is reported only where it matters: when the manifests use Stripe Tax (declare tax
settings or registrations) and the plan does not set what is missing, with what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.manifest.model import Manifest, TaxSettings
from reconciler.resources.base import Decision, LiveObject, Pair
from reconciler.resources.changes import Report
from reconciler.resources.differ import Diff
from reconciler.resources.fields import Absence, Field
from reconciler.resources.kind import KindSpec, Singleton

__all__ = ["ADDRESS_FIELDS", "PATH", "SPEC", "TaxSettingsHandler"]

PATH = "/v1/tax/settings"
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
_ADDRESS = "head_office.address"


def _live_address(obj: Mapping[str, Any]) -> dict[str, Any]:
    address = (obj.get("head_office") or {}).get("address") or {}
    return {key: address.get(key) or None for key in ADDRESS_FIELDS}


FIELDS = (
    Field("defaults.tax_behavior", absence=Absence.NEVER_UNSET),
    Field("defaults.tax_code", absence=Absence.NEVER_UNSET),
    # the whole address: a part left out is declared absent, not left to live
    Field(_ADDRESS, map_valued=True, whole=True, absence=Absence.NEVER_UNSET, live=_live_address),
)


def _normalize(obj: LiveObject) -> dict[str, Any]:
    """Every field by dotted path (one per address part), the status and what it misses."""
    defaults = obj.get("defaults") or {}
    fields: dict[str, Any] = {
        "defaults.tax_behavior": defaults.get("tax_behavior"),
        "defaults.tax_code": defaults.get("tax_code"),
    }
    for key, value in _live_address(obj).items():
        fields[f"{_ADDRESS}.{key}"] = value
    pending = (obj.get("status_details") or {}).get("pending") or {}
    return {
        "fields": fields,
        "status": obj.get("status"),
        "missing_fields": sorted(pending.get("missing_fields") or ()),
    }


def _refine(pair: Pair, proposal: Decision, diff: Diff, now: int) -> Decision:
    """Warn about live address parts the manifest leaves out (the declared address is sent
    whole, so they go)."""
    if proposal.action is None:
        return proposal
    prefix = f"{_ADDRESS}."
    left_out = [
        (c.path[len(prefix) :], c.before)
        for c in proposal.changes
        if c.path.startswith(prefix) and c.after is None
    ]
    warnings: tuple[str, ...] = ()
    if left_out:
        parts = ", ".join(f"{key} {json.dumps(value)}" for key, value in left_out)
        warnings = (
            f"tax_settings.{_ADDRESS}: the live head office has {parts}, which the "
            "manifest leaves out; the address is one value and apply sends the declared one "
            "whole, so declare each part the head office has (e.g. "
            f"{left_out[0][0]}: {json.dumps(left_out[0][1])}) to keep it",
        )
    return replace(proposal, reason="managed fields differ", warnings=warnings)


def _reports(manifest: Manifest, live: tuple[LiveObject, ...]) -> tuple[Report, ...]:
    """``pending`` where it matters: the manifests use Stripe Tax, and the plan does not
    set what is missing (a declared head office resolves ``head_office``)."""
    have = _normalize(live[0] if live else {})
    if have["status"] != "pending":
        return ()
    if manifest.tax_settings is None and not manifest.tax_registrations:
        return ()  # accounts that do not use Stripe Tax stay pending; not our business
    missing = list(have["missing_fields"]) or ["unknown"]
    settings = manifest.tax_settings
    if settings is not None and settings.head_office is not None:
        missing = [field for field in missing if field != "head_office"]
        if not missing:
            return ()  # the plan sets the head office, which is what Stripe waits for
    hint = (
        "declare tax_settings.head_office.address (apply sets it before any registration) "
        "or set it in the Dashboard (Settings → Tax)"
        if "head_office" in missing
        else "set them in the Dashboard (Settings → Tax)"
    )
    message = (
        f"status: pending (missing fields: {', '.join(missing)}); Stripe Tax calculates no "
        f"tax until they are set: {hint}"
    )
    # a status note of the kind itself: no live_id (drift tells it from an unmanaged object so)
    return (Report(kind=SPEC.name, address=SPEC.name, message=message),)


def _status(live: tuple[LiveObject, ...]) -> str | None:
    status = live[0].get("status") if live else None
    return None if status is None else str(status)


SPEC = KindSpec(
    name="tax_settings",
    order=10,
    noun="tax settings",
    model=TaxSettings,
    schema="tax.settings",
    path=PATH,
    identity=Singleton(),
    fields=FIELDS,
    # Stripe refuses a registration until tax settings hold a head office: apply them first
    runs_first=True,
    normalize=_normalize,
    refine=_refine,
    reports=_reports,
    status=_status,
)


def TaxSettingsHandler() -> KindSpec:
    """The kind's spec, under the name of the handler class it replaced."""
    return SPEC

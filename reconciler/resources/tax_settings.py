"""Tax settings (``/v1/tax/settings``): a singleton, managed field by field.

Only fields present in the manifest are managed. Stripe cannot unset any of them, so a field
removed from the manifest simply stops being managed and the tool never sends ``""``
(PRODUCT.md §4.2).

``head_office.address`` is one value: sent whole, compared whole, never completed from live
parts (PRODUCT.md §4.2). Stripe's ``head_office`` param is one ``validated_country_address``;
a part the manifest leaves out is not copied from live into the request (that once left
``state: CA`` on an address moved to Berlin), and a live part the manifest leaves out is a
difference, with a warning that asks to declare it, never ``No changes.``.

``pending`` is reported only where it matters: when the manifests use Stripe Tax (declare tax
settings or registrations) and the plan does not set what is missing, with what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from reconciler.manifest.model import Manifest, TaxSettings
from reconciler.resources.base import (
    ApiClient,
    KindPlan,
    LiveObject,
    ResourceHandler,
    change,
)
from reconciler.resources.changes import Action, ActionType, Report, Request

PATH = "/v1/tax/settings"
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def desired_fields(settings: TaxSettings) -> dict[str, Any]:
    """Dotted path → value for every field the manifest sets (these are the managed ones)."""
    fields: dict[str, Any] = {}
    if settings.defaults is not None:
        for key in ("tax_behavior", "tax_code"):
            value = getattr(settings.defaults, key)
            if value is not None:
                fields[f"defaults.{key}"] = value
    if settings.head_office is not None:
        # the whole address: a part left out is declared absent, not left to live
        for key in ADDRESS_FIELDS:
            fields[f"head_office.address.{key}"] = getattr(settings.head_office.address, key)
    return fields


class TaxSettingsHandler(ResourceHandler):
    kind: ClassVar[str] = "tax_settings"

    async def fetch(self, client: ApiClient) -> tuple[LiveObject, ...]:
        return (await client.request("GET", PATH),)

    def live_id(self, obj: LiveObject) -> str:
        return "tax_settings"

    def address(self, name: str) -> str:
        return self.kind

    def normalize_live(self, obj: LiveObject) -> dict[str, Any]:
        defaults = obj.get("defaults") or {}
        address = (obj.get("head_office") or {}).get("address") or {}
        fields: dict[str, Any] = {
            "defaults.tax_behavior": defaults.get("tax_behavior"),
            "defaults.tax_code": defaults.get("tax_code"),
        }
        for key in ADDRESS_FIELDS:
            fields[f"head_office.address.{key}"] = address.get(key) or None
        pending = (obj.get("status_details") or {}).get("pending") or {}
        return {
            "fields": fields,
            "status": obj.get("status"),
            "missing_fields": sorted(pending.get("missing_fields") or ()),
        }

    def declared(self, manifest: Manifest) -> Mapping[str, Any]:
        return {} if manifest.tax_settings is None else {"tax_settings": manifest.tax_settings}

    def plan_kind(self, manifest: Manifest, live: tuple[LiveObject, ...], *, now: int) -> KindPlan:
        obj: LiveObject = live[0] if live else {}
        have = self.normalize_live(obj)
        reports = self._pending(manifest, have)
        if manifest.tax_settings is None:
            return KindPlan(reports=reports)
        want = desired_fields(manifest.tax_settings)
        changes = [
            change(path, have["fields"].get(path), value)
            for path, value in sorted(want.items())
            if have["fields"].get(path) != value
        ]
        if not changes:
            return KindPlan(reports=reports, unchanged=1)
        left_out = [
            (path.rsplit(".", 1)[1], c.before)
            for c in changes
            for path in (c.path,)
            if path.startswith("head_office.") and c.after is None
        ]
        warnings: tuple[str, ...] = ()
        if left_out:
            parts = ", ".join(f"{key} {json.dumps(value)}" for key, value in left_out)
            warnings = (
                f"tax_settings.head_office.address: the live head office has {parts}, which the "
                "manifest leaves out; the address is one value and apply sends the declared one "
                "whole, so declare each part the head office has (e.g. "
                f"{left_out[0][0]}: {json.dumps(left_out[0][1])}) to keep it",
            )
        action = Action(
            kind=self.kind,
            address=self.kind,
            action=ActionType.UPDATE,
            reason="managed fields differ",
            live_id=None,
            changes=tuple(changes),
            requests=self.requests(ActionType.UPDATE, "tax_settings", manifest.tax_settings, obj),
            warnings=warnings,
            fingerprint=self.fingerprint(obj),
        )
        return KindPlan(actions=(action,), reports=reports, warnings=warnings)

    def _pending(self, manifest: Manifest, have: Mapping[str, Any]) -> tuple[Report, ...]:
        """``pending`` where it matters: the manifests use Stripe Tax, and the plan does not
        set what is missing (a declared head office resolves ``head_office``)."""
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
        return (Report(kind=self.kind, address=self.kind, live_id=None, message=message),)

    def requests(
        self, action: ActionType, name: str | None, desired: Any, live: LiveObject | None
    ) -> tuple[Request, ...]:
        want = desired_fields(desired)
        now = self.normalize_live(live or {})["fields"]
        params: dict[str, Any] = {}
        defaults = {
            path.split(".", 1)[1]: value
            for path, value in want.items()
            if path.startswith("defaults.") and now.get(path) != value
        }
        if defaults:
            params["defaults"] = defaults
        address_paths = [p for p in want if p.startswith("head_office.")]
        if any(now.get(p) != want[p] for p in address_paths):
            # the declared address, whole; never completed from live parts (see the docstring)
            address = {key: want[f"head_office.address.{key}"] for key in ADDRESS_FIELDS}
            params["head_office"] = {"address": {k: v for k, v in address.items() if v}}
        return (Request("update", "POST", PATH, params),)

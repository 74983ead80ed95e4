"""Tax settings (``/v1/tax/settings``): a singleton, managed field by field.

Only fields present in the manifest are managed. Stripe cannot unset any of them, so a field
removed from the manifest simply stops being managed and the tool never sends ``""``
(PRODUCT.md §4.2). The ``pending`` status and its missing fields are always shown.
"""

from __future__ import annotations

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
        for key in ADDRESS_FIELDS:
            value = getattr(settings.head_office.address, key)
            if value is not None:
                fields[f"head_office.address.{key}"] = value
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
            fields[f"head_office.address.{key}"] = address.get(key)
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
        reports: list[Report] = []
        if have["status"] == "pending":
            missing = ", ".join(have["missing_fields"]) or "unknown"
            reports.append(
                Report(
                    kind=self.kind,
                    address=self.kind,
                    live_id=None,
                    message=f"status: pending (missing fields: {missing})",
                )
            )
        if manifest.tax_settings is None:
            return KindPlan(reports=tuple(reports))
        want = desired_fields(manifest.tax_settings)
        changes = [
            change(path, have["fields"].get(path), value)
            for path, value in sorted(want.items())
            if have["fields"].get(path) != value
        ]
        if not changes:
            return KindPlan(reports=tuple(reports), unchanged=1)
        action = Action(
            kind=self.kind,
            address=self.kind,
            action=ActionType.UPDATE,
            reason="managed fields differ",
            live_id=None,
            changes=tuple(changes),
            requests=self.requests(ActionType.UPDATE, "tax_settings", manifest.tax_settings, obj),
            fingerprint=self.fingerprint(obj),
        )
        return KindPlan(actions=(action,), reports=tuple(reports))

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
            # the address is sent whole; keep live values of unmanaged parts so none is lost
            address = {
                key: want.get(f"head_office.address.{key}", now.get(f"head_office.address.{key}"))
                for key in ADDRESS_FIELDS
            }
            params["head_office"] = {"address": {k: v for k, v in address.items() if v}}
        return (Request("update", "POST", PATH, params),)

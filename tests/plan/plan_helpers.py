"""Helpers shared by the plan tests: building live state and plans from plain dicts."""

from __future__ import annotations

from typing import Any

from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import Plan
from reconciler.resources.base import LiveState


def live_state(live: dict[str, Any] | None) -> LiveState:
    live = live or {}
    settings = live.get("tax_settings")
    return LiveState(
        objects={
            "webhook_endpoints": tuple(live.get("webhook_endpoints") or ()),
            "tax_settings": () if settings is None else (settings,),
            "tax_registrations": tuple(live.get("tax_registrations") or ()),
        }
    )


def plan_of(desired: dict[str, Any], live: dict[str, Any] | None = None) -> Plan:
    return build_plan(Manifest.model_validate(desired), live_state(live))

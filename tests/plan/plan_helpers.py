"""Helpers shared by the plan tests: building live state and plans from plain dicts."""

from __future__ import annotations

from typing import Any

from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import Plan
from reconciler.resources.base import LiveState
from reconciler.resources.registry import KIND_ORDER


def live_state(live: dict[str, Any] | None) -> LiveState:
    live = live or {}
    settings = live.get("tax_settings")
    objects = {kind: tuple(live.get(kind) or ()) for kind in KIND_ORDER}
    objects["tax_settings"] = () if settings is None else (settings,)
    return LiveState(objects=objects)


def plan_of(desired: dict[str, Any], live: dict[str, Any] | None = None) -> Plan:
    return build_plan(Manifest.model_validate(desired), live_state(live))

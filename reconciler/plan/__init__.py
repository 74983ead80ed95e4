"""Plans: pure data and functions, no I/O (actions, building, safety, checksum, file, renderers)."""

from __future__ import annotations

from reconciler.plan.builder import build_plan, check_safety
from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report, Request
from reconciler.plan.planfile import PlanFile, dump_plan_file, load_plan_file
from reconciler.plan.render import build_view, render

__all__ = [
    "Action",
    "ActionType",
    "FieldChange",
    "Plan",
    "PlanFile",
    "Report",
    "Request",
    "build_plan",
    "build_view",
    "check_safety",
    "dump_plan_file",
    "load_plan_file",
    "render",
]

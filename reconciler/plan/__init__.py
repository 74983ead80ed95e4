"""Plans: pure data and functions, no I/O (actions, building, safety, checksum, file, renderers).

Only the planner and the plan's model load with the package. The plan file's validating models
(:mod:`reconciler.plan.planfile`, for ``plan --out`` and ``apply --plan``) and the renderers
(:mod:`reconciler.plan.render`) are imported from their own modules by whoever needs them, so a
``plan`` process does not pay for what it never uses (the start-up target of issue 16).
"""

from __future__ import annotations

from reconciler.plan.builder import build_plan, check_safety
from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report, Request

__all__ = [
    "Action",
    "ActionType",
    "FieldChange",
    "Plan",
    "Report",
    "Request",
    "build_plan",
    "check_safety",
]

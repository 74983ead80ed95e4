"""Plans: pure data and functions, no I/O (actions, building, safety, checksum, file, renderers).

The names below are loaded on first use: importing one module of this package (the planner, for
``plan``) does not load the others (the plan file's validating models, for ``plan --out`` and
``apply --plan``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name → the module that defines it
_API = {
    "build_plan": "reconciler.plan.builder",
    "check_safety": "reconciler.plan.builder",
    "Action": "reconciler.plan.model",
    "ActionType": "reconciler.plan.model",
    "FieldChange": "reconciler.plan.model",
    "Plan": "reconciler.plan.model",
    "Report": "reconciler.plan.model",
    "Request": "reconciler.plan.model",
    "PlanFile": "reconciler.plan.planfile",
    "dump_plan_file": "reconciler.plan.planfile",
    "load_plan_file": "reconciler.plan.planfile",
    "build_view": "reconciler.plan.render",
    "render": "reconciler.plan.render",
}

if TYPE_CHECKING:
    from reconciler.plan.builder import build_plan, check_safety
    from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report, Request
    from reconciler.plan.planfile import PlanFile, dump_plan_file, load_plan_file
    from reconciler.plan.render import build_view, render


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reconciler.plan' has no attribute {name!r}")


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

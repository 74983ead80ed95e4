"""Plans: pure data and functions, no I/O (actions, building, safety, checksum, file, renderers).

``build_plan`` and ``check_safety`` are imported lazily: the builder needs
:mod:`reconciler.resources`, which itself uses this package's model, so an eager import here
would be circular.
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in ("build_plan", "check_safety"):
        from reconciler.plan import builder

        return getattr(builder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

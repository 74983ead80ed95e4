"""Building a plan from desired and live state, and the safety policy that guards it.

Pure functions: no I/O. ``build_plan`` asks every registered handler for its part and returns one
:class:`~reconciler.plan.model.Plan` in canonical order; ``check_safety`` raises named errors whose
messages state the numbers and the override.
"""

from __future__ import annotations

import time
from dataclasses import replace

from reconciler.errors import MaxDestroyExceededError, ProtectedResourceError
from reconciler.manifest.model import Manifest
from reconciler.plan.mask import mask, mask_text
from reconciler.plan.model import Action, FieldChange, Plan, Report
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveState


def build_plan(
    manifest: Manifest,
    live: LiveState,
    *,
    targets: tuple[str, ...] = (),
    now: int | None = None,
) -> Plan:
    """The plan that takes ``live`` to ``manifest``, optionally restricted to ``targets``.

    ``now`` (unix seconds, default: the clock) is when the plan is made; registration windows
    are judged against it. It is the one input besides the two states.
    """
    at = int(time.time()) if now is None else now
    actions: list[Action] = []
    reports: list[Report] = []
    warnings: list[str] = []
    unchanged = 0
    for kind, handler in HANDLERS.items():
        part = handler.plan_kind(manifest, live.of(kind), now=at)
        actions.extend(_masked(a) for a in part.actions)
        reports.extend(replace(r, message=mask_text(r.message)) for r in part.reports)
        warnings.extend(mask_text(w) for w in part.warnings)
        unchanged += part.unchanged
    return Plan.of(actions, reports, warnings, unchanged).only(targets)


def _masked(action: Action) -> Action:
    """The action as every output shows it: display text masked, requests left exact.

    Requests are what apply sends and come from the manifest, which refuses secret-looking
    values; everything else may quote live state, where anything can sit.
    """
    return replace(
        action,
        reason=mask_text(action.reason),
        changes=tuple(
            FieldChange(mask_text(c.path), mask(c.before), mask(c.after)) for c in action.changes
        ),
        warnings=tuple(mask_text(w) for w in action.warnings),
    )


def check_safety(plan: Plan, manifest: Manifest, *, force: bool = False) -> None:
    """Refuse destructive plans that break ``lifecycle.protect`` or ``policy.max_destroy``.

    ``protect`` cannot be forced: the resource's own declaration says never, so the way out is
    to remove ``lifecycle.protect`` in a reviewed change. ``max_destroy`` yields to ``--force``.
    """
    blocked = [a for a in plan.destructive if a.protected]
    if blocked:
        listed = ", ".join(f"{a.address} ({a.action.value})" for a in blocked)
        raise ProtectedResourceError(
            f"{len(blocked)} protected resource(s) would be destroyed: {listed}; "
            "remove lifecycle.protect from them first if this is intended"
        )
    limit = manifest.policy.max_destroy
    count = len(plan.destructive)
    if limit is not None and count > limit and not force:
        raise MaxDestroyExceededError(
            f"{count} destructive actions (replace/delete/expire) exceed policy.max_destroy="
            f"{limit}; review them or pass --force"
        )

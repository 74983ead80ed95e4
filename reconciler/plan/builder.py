"""Building a plan from desired and live state, and the safety policy that guards it.

Pure functions: no I/O. ``build_plan`` asks every registered handler for its part and returns one
:class:`~reconciler.plan.model.Plan` in canonical order; ``check_safety`` raises named errors whose
messages state the numbers and the override.
"""

from __future__ import annotations

import time
from dataclasses import replace

from reconciler.errors import EndpointLimitError, MaxDestroyExceededError, ProtectedResourceError
from reconciler.manifest.checks import MAX_WEBHOOK_ENDPOINTS
from reconciler.manifest.model import Manifest
from reconciler.plan.mask import mask, mask_text
from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report
from reconciler.plan.registrations import check_registration_requests, head_office_dependency
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveState
from reconciler.resources.changes import DUPLICATE_STEP
from reconciler.resources.tax_registration import iso, schedules_end
from reconciler.resources.webhook_endpoint import (
    PENDING_SECRET_PROTECT_HINT,
    PROTECTED_LEFTOVER_HINT,
    PROTECTED_LEFTOVER_REASON,
    replaces_pending_secret,
    tagged_name,
)


def build_plan(
    manifest: Manifest,
    live: LiveState,
    *,
    targets: tuple[str, ...] = (),
    now: int | None = None,
    check_limits: bool = True,
) -> Plan:
    """The plan that takes ``live`` to ``manifest``, optionally restricted to ``targets``.

    ``now`` (unix seconds, default: the clock) is when the plan is made; registration windows
    are judged against it. It is the one input besides the two states. ``check_limits`` refuses
    a plan Stripe would stop half-way (:func:`check_endpoint_limit`, and the registration
    requests of :mod:`reconciler.plan.registrations`); a read-only comparison such as drift may
    turn it off.
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
    full = Plan.of(actions, reports, warnings, unchanged)
    plan = full.only(targets)
    if targets:
        plan = head_office_dependency(plan, full, live)
    if check_limits:
        check_endpoint_limit(plan, live)
        check_registration_requests(plan, manifest, live, now=at)
    return plan


def check_endpoint_limit(plan: Plan, live: LiveState) -> None:
    """Refuse a plan whose creates would take the account past Stripe's endpoint limit.

    How apply orders endpoint work (``reconciler.apply.executor``): first the deletes of
    duplicates whose twin is kept (they finish an interrupted replace), then creates, then
    replacements, other deletions last. A replace creates the new endpoint before it deletes the old
    one, because consumers hold the old secret until they switch, so it needs one free place
    while it runs; at the limit apply runs the replaces one at a time. A replace of an endpoint
    whose signing secret was never delivered needs no free place: nobody can be using its
    secret, so when there is no room apply deletes it before creating its successor. So the
    peak is every live endpoint (ours or not) less the finishing deletes, plus the creates,
    plus one if any ordinary replace must run.
    """
    endpoints = [a for a in plan.actions if a.kind == "webhook_endpoints"]
    # deletes that finish an interrupted replace run first and free their places
    finishing = sum(
        1
        for a in endpoints
        if a.action is ActionType.DELETE and any(r.step == DUPLICATE_STEP for r in a.requests)
    )
    creates = sum(1 for a in endpoints if a.action is ActionType.CREATE)
    replaces = sum(
        1 for a in endpoints if a.action is ActionType.REPLACE and not replaces_pending_secret(a)
    )
    existing = live.of("webhook_endpoints")
    peak = len(existing) - finishing + creates + min(replaces, 1)
    if not (creates or replaces) or peak <= MAX_WEBHOOK_ENDPOINTS:
        return
    foreign = sum(1 for obj in existing if tagged_name(obj) is None)
    whose = (
        f"{foreign} not managed by stripe-reconciler"
        if foreign
        else "all managed by stripe-reconciler"
    )
    needs = f"creates {creates}"
    if replaces:
        needs += (
            f" and replaces {replaces} (a replace creates the new endpoint before it deletes "
            "the old one, one at a time at the limit)"
        )
    if finishing:
        whose += f"; {finishing} of them duplicates that apply deletes first"
    raise EndpointLimitError(
        f"{len(existing)} webhook endpoints exist ({whose}) and this plan {needs} before it "
        f"deletes any, so {peak} would exist at once; Stripe allows at most "
        f"{MAX_WEBHOOK_ENDPOINTS} per account and mode. Delete endpoints you no longer need "
        "first (in the Dashboard, or apply only their deletion with --target "
        "webhook_endpoints.<name> or webhook_endpoints[<id>]), or create fewer at a time with "
        "--target"
    )


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


def _what(action: Action) -> str:
    if not schedules_end(action):
        return action.action.value
    end = next(c.after for c in action.changes if c.path == "expires_at")
    return f"scheduled end at {iso(end)}" if isinstance(end, int) else "scheduled end"


def check_safety(plan: Plan, manifest: Manifest, *, force: bool = False) -> None:
    """Refuse destructive plans that break ``lifecycle.protect`` or ``policy.max_destroy``.

    ``protect`` cannot be forced: the resource's own declaration says never, so the way out is
    to remove ``lifecycle.protect`` in a reviewed change. ``max_destroy`` yields to ``--force``.
    """
    # protect means the tool never ends a registration, so a scheduled end is blocked too
    blocked = [
        a for a in plan.actions if a.protected and (a.action.destructive or schedules_end(a))
    ]
    if blocked:
        listed = ", ".join(f"{a.address} ({_what(a)})" for a in blocked)
        ended = any(schedules_end(a) for a in blocked)
        message = (
            f"{len(blocked)} protected resource(s) would be "
            f"{'destroyed or ended' if ended else 'destroyed'}: {listed}; "
            "remove lifecycle.protect from them first if this is intended"
        )
        # an undelivered secret is not a change the user made: say why, and the manual way out
        pending = [a.address for a in blocked if replaces_pending_secret(a)]
        if pending:
            message += ". " + PENDING_SECRET_PROTECT_HINT.format(addresses=", ".join(pending))
        # protection recorded on an endpoint nothing declares: say how to lift it
        recorded = [a.address for a in blocked if a.reason == PROTECTED_LEFTOVER_REASON]
        if recorded:
            message += ". " + PROTECTED_LEFTOVER_HINT.format(addresses=", ".join(recorded))
        raise ProtectedResourceError(message)
    limit = manifest.policy.max_destroy
    # Replacing an endpoint whose secret was never delivered recovers from an interrupted
    # apply; no manifest change asked for it, so it is not what max_destroy guards against,
    # and counting it would make such an apply need --force on every rerun (review finding 6).
    count = sum(1 for a in plan.destructive if not replaces_pending_secret(a))
    if limit is not None and count > limit and not force:
        raise MaxDestroyExceededError(
            f"{count} destructive actions (replace/delete/expire) exceed policy.max_destroy="
            f"{limit}; review them or pass --force"
        )

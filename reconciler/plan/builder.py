"""Building a plan from desired and live state, and the safety policy that guards it.

Pure functions: no I/O. ``build_plan`` asks every registered kind for its part and returns one
:class:`~reconciler.plan.model.Plan` in canonical order; ``check_safety`` raises named errors whose
messages state the numbers and the override. What differs between kinds comes from their specs
(:mod:`reconciler.resources.kind`): their ``limit``, their ``check`` and ``needs`` hooks, what
``lifecycle.protect`` blocks besides destroying (``protected_update``) and what a refusal adds.
"""

from __future__ import annotations

import time
from dataclasses import replace

from reconciler.errors import EndpointLimitError, MaxDestroyExceededError, ProtectedResourceError
from reconciler.manifest.model import Manifest
from reconciler.plan.mask import mask, mask_text
from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report
from reconciler.resources.base import LiveState
from reconciler.resources.changes import DUPLICATE_STEP
from reconciler.resources.kind import KindSpec
from reconciler.resources.registry import pools, spec_of, specs
from reconciler.resources.tagged import Tagged


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
    a plan Stripe would stop half-way (:func:`check_endpoint_limit`, and each kind's ``check``
    hook, such as the registration requests of
    :mod:`reconciler.resources.tax_registration_checks`); a read-only comparison such as drift
    may turn it off.
    """
    at = int(time.time()) if now is None else now
    actions: list[Action] = []
    reports: list[Report] = []
    warnings: list[str] = []
    unchanged = 0
    for spec in specs():
        part = spec.plan_kind(manifest, live.of(spec.name), now=at)
        actions.extend(_masked(a) for a in part.actions)
        reports.extend(replace(r, message=mask_text(r.message)) for r in part.reports)
        warnings.extend(mask_text(w) for w in part.warnings)
        unchanged += part.unchanged
    full = Plan.of(actions, reports, warnings, unchanged)
    plan = full.only(targets)
    if targets:
        plan = _with_dependencies(plan, full, live)
    if check_limits:
        check_endpoint_limit(plan, live)
        for spec in specs():
            if spec.check is not None:
                spec.check(plan.actions, manifest, live, at)
    return plan


def _with_dependencies(targeted: Plan, full: Plan, live: LiveState) -> Plan:
    """``targeted`` plus the actions its kinds' ``needs`` hooks say it cannot do without (as
    Terraform's ``-target`` includes dependencies), each with a warning saying so."""
    for spec in specs():
        if spec.needs is None:
            continue
        extra, warning = spec.needs(targeted.actions, full.actions, live)
        if extra:
            targeted = Plan.of(
                [*targeted.actions, *extra],
                list(targeted.reports),
                [*targeted.warnings, warning],
                targeted.unchanged,
            )
    return targeted


def check_endpoint_limit(plan: Plan, live: LiveState) -> None:
    """Refuse a plan whose creates would take the account past a kind's ``limit`` (Stripe's
    16 webhook endpoints per account and mode, which event destinations count against too:
    kinds of one ``limit_pool`` share the count).

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
    for members in pools().values():
        limit = members[0].limit
        assert limit is not None
        _check_limit(members, limit, plan, live)


def _check_limit(members: tuple[KindSpec, ...], limit: int, plan: Plan, live: LiveState) -> None:
    kinds = {spec.name: spec for spec in members}
    actions = [a for a in plan.actions if a.kind in kinds]
    # deletes that finish an interrupted replace run first and free their places
    finishing = sum(
        1
        for a in actions
        if a.action is ActionType.DELETE and any(r.step == DUPLICATE_STEP for r in a.requests)
    )
    creates = sum(1 for a in actions if a.action is ActionType.CREATE)
    replaces = sum(
        1
        for a in actions
        if a.action is ActionType.REPLACE and not kinds[a.kind].replaces_pending_secret(a)
    )
    existing = sum(len(live.of(spec.name)) for spec in members)
    peak = existing - finishing + creates + min(replaces, 1)
    if not (creates or replaces) or peak <= limit:
        return
    foreign = sum(
        1 for spec in members for obj in live.of(spec.name) if spec.identity.owner(obj) is None
    )
    whose = (
        f"{foreign} not managed by stripe-reconciler"
        if foreign
        else "all managed by stripe-reconciler"
    )
    # the kinds this account or plan has any of; the message names only those
    involved = [
        spec for spec in members if live.of(spec.name) or any(a.kind == spec.name for a in actions)
    ]
    what = " or ".join(spec.short for spec in involved)
    whats = " or ".join(f"{spec.short}s" for spec in involved)
    needs = f"creates {creates}"
    if replaces:
        needs += (
            f" and replaces {replaces} (a replace creates the new {what} before it deletes "
            "the old one, one at a time at the limit)"
        )
    if finishing:
        whose += f"; {finishing} of them duplicates that apply deletes first"
    counted = _and(
        [f"{len(live.of(spec.name))} {spec.noun}s" for spec in involved if live.of(spec.name)]
        or [f"0 {involved[0].noun}s"]
    )
    together = (
        " (together: Stripe documents the limit for webhook endpoints, and stripe-reconciler "
        "counts event destinations against it too)"
        if len(involved) > 1
        else ""
    )
    addresses = [a for s in involved for a in (f"{s.name}.<name>", f"{s.name}[<id>]")]
    targets = ", ".join(addresses[:-1]) + " or " + addresses[-1]
    raise EndpointLimitError(
        f"{counted} exist ({whose}) and this plan {needs} before it "
        f"deletes any, so {peak} would exist at once; Stripe allows at most "
        f"{limit} per account and mode{together}. Delete {whats} you no longer need "
        f"first (in the Dashboard, or apply only their deletion with --target {targets}), or "
        "create fewer at a time with --target"
    )


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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


def _blocked_update(action: Action) -> str | None:
    """An update ``lifecycle.protect`` blocks too (a registration's scheduled end), described."""
    return spec_of(action.kind).protected_update(action)


def _what(action: Action) -> str:
    return _blocked_update(action) or action.action.value


def check_safety(plan: Plan, manifest: Manifest, *, force: bool = False) -> None:
    """Refuse destructive plans that break ``lifecycle.protect`` or ``policy.max_destroy``.

    ``protect`` cannot be forced: the resource's own declaration says never, so the way out is
    to remove ``lifecycle.protect`` in a reviewed change. ``max_destroy`` yields to ``--force``.
    """
    # protect means the tool never ends a registration, so a scheduled end is blocked too
    blocked = [
        a
        for a in plan.actions
        if a.protected and (a.action.destructive or _blocked_update(a) is not None)
    ]
    if blocked:
        listed = ", ".join(f"{a.address} ({_what(a)})" for a in blocked)
        ended = any(_blocked_update(a) is not None for a in blocked)
        message = (
            f"{len(blocked)} protected resource(s) would be "
            f"{'destroyed or ended' if ended else 'destroyed'}: {listed}; "
            "remove lifecycle.protect from them first if this is intended"
        )
        for spec in specs():
            mine = [a for a in blocked if a.kind == spec.name]
            # an undelivered secret is not a change the user made: say why, and the manual way
            pending = [a.address for a in mine if spec.replaces_pending_secret(a)]
            if pending and spec.secret is not None:
                message += ". " + spec.secret.protect_hint.format(addresses=", ".join(pending))
            # protection recorded on an object nothing declares: say how to lift it
            identity = spec.identity
            if isinstance(identity, Tagged):
                recorded = [a.address for a in mine if a.reason == identity.protected_reason]
                if recorded:
                    hint = identity.protected_hint.format(addresses=", ".join(recorded))
                    message += ". " + hint
        raise ProtectedResourceError(message)
    limit = manifest.policy.max_destroy
    # Replacing an endpoint whose secret was never delivered recovers from an interrupted
    # apply; no manifest change asked for it, so it is not what max_destroy guards against,
    # and counting it would make such an apply need --force on every rerun (review finding 6).
    count = sum(1 for a in plan.destructive if not spec_of(a.kind).replaces_pending_secret(a))
    if limit is not None and count > limit and not force:
        raise MaxDestroyExceededError(
            f"{count} destructive actions (replace/delete/expire) exceed policy.max_destroy="
            f"{limit}; review them or pass --force"
        )

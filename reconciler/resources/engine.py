"""The fixed planning pipeline every kind runs through (octoDNS's provider template method).

For one kind: read the declared resources, pair them with live objects (the kind's identity),
then for each pair build the documents once, diff them (:mod:`reconciler.resources.differ`),
propose the generic decision and let the kind's ``refine`` hook have the last word; then the
destroy actions for owned leftovers, the ``policy.unmanaged`` handling of the rest, and the
kind's status reports. Requests follow from the final decision unless the hook built them.

The generic decision: no live twin → create (every declared value); a change on a ``replace``
field → replace (the reason names the fields); an adopted twin → adopt; other changes → update;
none → unchanged.

Pure: handlers decide, they never fetch while deciding (pyinfra's facts vs operations). Raw
values go into changes, reasons and reports; the plan builder masks every one of them once
(:mod:`reconciler.plan.mask`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler.resources.base import Decision, KindPlan, LiveObject, Pair
from reconciler.resources.changes import (
    DUPLICATE_STEP,
    Action,
    ActionType,
    FieldChange,
    Report,
    Request,
)
from reconciler.resources.differ import (
    Diff,
    create_changes,
    create_follow_ups,
    create_params,
    diff,
    field_requests,
    have_document,
    update_params,
    want_document,
)

if TYPE_CHECKING:
    from reconciler.manifest.model import Manifest
    from reconciler.resources.kind import KindSpec

__all__ = ["compare", "plan_kind", "requests_for", "want_of"]


def want_of(spec: KindSpec, name: str, desired: Any) -> dict[str, Any]:
    """The declared document of ``name``, with the tags its identity writes and the values it
    gives fields the manifest leaves out (an event destination's ``name``)."""
    want = want_document(spec.fields, desired, spec.identity.tags(name, desired))
    for path, value in spec.identity.defaults(name).items():
        if want.get(path) is None:
            want[path] = value
    return want


def _patterns(desired: Any) -> tuple[str, ...]:
    lifecycle = getattr(desired, "lifecycle", None)
    return tuple(lifecycle.ignore_changes) if lifecycle is not None else ()


def compare(
    spec: KindSpec,
    name: str,
    desired: Any,
    obj: LiveObject,
    *,
    now: int,
) -> Diff:
    """What differs between ``desired`` (declared as ``name``) and ``obj`` at ``now``."""
    want = want_of(spec, name, desired)
    have = have_document(spec.fields, obj)
    patterns = _patterns(desired)
    # equivalent: obj and now reach only `equivalent` fields, and no tagged kind has one
    return diff(spec.fields, have, want, patterns, obj=obj, now=now)  # pragma: no mutate


def propose(spec: KindSpec, pair: Pair, difference: Diff, want: Mapping[str, Any]) -> Decision:
    """The generic decision (see the module docstring)."""
    if pair.live is None:
        return Decision(
            ActionType.CREATE,
            changes=create_changes(spec.fields, want),
            reason=spec.identity.create_reason,
        )
    if difference.replaced:
        return Decision(
            ActionType.REPLACE,
            changes=difference.changes,
            reason=f"create-only field changed: {', '.join(difference.replaced)}",
        )
    if pair.adopted:
        return Decision(
            ActionType.ADOPT, changes=difference.changes, reason=spec.identity.adopt_reason
        )
    if difference.changes:
        return Decision(ActionType.UPDATE, changes=difference.changes, reason="fields differ")
    return Decision(None)


def requests_for(
    spec: KindSpec,
    action: ActionType,
    name: str,
    want: Mapping[str, Any],
    live: LiveObject | None,
    changes: tuple[FieldChange, ...] = (),
) -> tuple[Request, ...]:
    """The API calls of ``action`` on a declared resource: create (and its follow-ups),
    replace, update, or destroy (a declared registration whose end has passed expires)."""
    if action is ActionType.CREATE:
        return _create_requests(spec, name, want)
    assert live is not None
    if action in (ActionType.DELETE, ActionType.EXPIRE):
        return _destroy_requests(spec, live)
    if action is ActionType.REPLACE:
        return (*_create_requests(spec, name, want), *_destroy_requests(spec, live))
    path = spec.identity.object_path(spec, live)
    params = update_params(spec.fields, changes, want)
    own = field_requests(spec.fields, changes, path)  # e.g. POST …/{id}/disable
    update = (Request("update", "POST", path, params),) if params or not own else ()
    return (*update, *own)


def _create_requests(spec: KindSpec, name: str, want: Mapping[str, Any]) -> tuple[Request, ...]:
    if spec.create_requests is not None:
        return spec.create_requests(name, want)
    return (
        Request("create", "POST", spec.path, create_params(spec.fields, want)),
        *create_follow_ups(spec.fields, want, spec.path),
    )


def _destroy_requests(spec: KindSpec, obj: LiveObject) -> tuple[Request, ...]:
    if spec.destroy_requests is not None:
        return spec.destroy_requests(obj)
    return (Request("delete", "DELETE", spec.identity.object_path(spec, obj)),)


def plan_kind(
    spec: KindSpec, manifest: Manifest, live: tuple[LiveObject, ...], *, now: int
) -> KindPlan:
    """This kind's actions, reports, warnings and unchanged count."""
    declared = spec.declared(manifest)
    matching = spec.identity.match(spec, declared, live, now)
    actions: list[Action] = []
    warnings = list(matching.warnings)
    unchanged = 0
    for pair in matching.pairs:
        want = want_of(spec, pair.name, pair.desired)
        have: Mapping[str, Any] = {}
        difference = Diff()
        if pair.live is not None:
            have = have_document(spec.fields, pair.live)
            difference = diff(
                spec.fields, have, want, _patterns(pair.desired), obj=pair.live, now=now
            )
        decision = propose(spec, pair, difference, want)
        if spec.refine is not None:
            decision = spec.refine(pair, decision, difference, now)
        warnings.extend(decision.warnings)
        if decision.action is None:
            unchanged += 1
            continue
        lifecycle = getattr(pair.desired, "lifecycle", None)
        live_obj = pair.live
        actions.append(
            Action(
                kind=spec.name,
                address=spec.address(pair.name),
                action=decision.action,
                reason=decision.reason,
                live_id=None if live_obj is None else spec.identity.action_live_id(spec, live_obj),
                changes=decision.changes,
                requests=decision.requests
                or requests_for(
                    spec,
                    decision.action,
                    pair.name,
                    want,
                    live_obj,
                    decision.changes,
                ),
                warnings=decision.warnings,
                fingerprint=spec.fingerprint(
                    live_obj,
                    # it only spares reading that document again (KindSpec.normalize_live)
                    have,  # pragma: no mutate
                ),
                protected=bool(lifecycle and lifecycle.protect),
            )
        )
    for obj in matching.owned_leftovers:
        live_id = spec.live_id(obj)
        reason = matching.reasons.get(
            live_id, "tagged as managed by stripe-reconciler but no longer declared"
        )
        actions.append(
            _destroy(
                spec,
                obj,
                reason,
                protected=live_id in matching.protected_ids,
                duplicate=live_id in matching.duplicate_ids,
            )
        )
    extra_actions, reports = _unmanaged(spec, manifest, matching.leftovers)
    if spec.reports is not None:
        reports = (*reports, *spec.reports(manifest, live))
    return KindPlan(
        actions=(*actions, *extra_actions),
        reports=reports,
        warnings=tuple(warnings),
        unchanged=unchanged,
    )


def _unmanaged(
    spec: KindSpec, manifest: Manifest, leftovers: tuple[LiveObject, ...]
) -> tuple[tuple[Action, ...], tuple[Report, ...]]:
    """Live objects nothing declares, as ``policy.unmanaged`` says (report, ignore, delete)."""
    policy = manifest.policy.unmanaged
    if policy == "ignore" or not leftovers:
        return (), ()
    if policy == "delete":
        reason = "not declared and policy.unmanaged is delete"
        return tuple(_destroy(spec, obj, reason) for obj in leftovers), ()
    return (), tuple(
        Report(
            kind=spec.name,
            address=spec.live_address(obj),
            live_id=spec.live_id(obj),
            message=f"unmanaged: {spec.describe(obj)} (policy.unmanaged: report)",
        )
        for obj in leftovers
    )


def _destroy(
    spec: KindSpec,
    obj: LiveObject,
    reason: str,
    *,
    protected: bool = False,
    duplicate: bool = False,
) -> Action:
    requests = _destroy_requests(spec, obj)
    if duplicate:
        # finishing an interrupted replace: apply runs it first (DUPLICATE_STEP)
        requests = tuple(replace(r, step=DUPLICATE_STEP) for r in requests)
    return Action(
        kind=spec.name,
        address=spec.live_address(obj),
        action=spec.destroy,
        reason=reason,
        live_id=spec.live_id(obj),
        requests=requests,
        fingerprint=spec.fingerprint(obj),
        protected=protected,
    )

"""Is a saved plan still the plan? Compare it with one recomputed from live state right now.

``apply --plan FILE`` recomputes the plan from the file's embedded desired state and today's live
state, and refuses (writing nothing) when the recomputed plan would do anything the reviewer did
not see. Each recomputed action must be one of:

* identical to the saved action at the same address (same live object fingerprint, same field
  changes, same requests);
* the rest of a reviewed replace: a create whose requests all appear in the saved replace (its old
  half is done), or the delete of the old object a saved replace was going to delete;
* about an endpoint that an interrupted apply of this plan created (``own_ids``: tagged with a
  name the saved plan creates or replaces, and unknown to it), e.g. the update that finishes it
  or the delete of a duplicate.

Saved actions with no recomputed counterpart are done already (an earlier, interrupted apply of
this plan, or the same change made elsewhere), so they are not differences: the same saved plan
can be applied again after a crash and converges. Anything else — a live object that changed
under an action, a new action, a new unmanaged object — makes the plan stale.

"Done already" must be visible in Stripe, or the file's actions are not what its own manifests
give and the file was edited (:func:`unexplained_actions`): the same manifests and an unchanged
live object always give the same action, so a saved action on an object whose fingerprint is
unchanged must be recomputed, and a saved create with nothing to show for it must be too (the
object that makes it unneeded was created after the plan was made).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reconciler.errors import PlanFileError, StalePlanError
from reconciler.plan.model import Action, ActionType, Plan, Request, canonical_json
from reconciler.resources.base import LiveObject, LiveState
from reconciler.resources.registry import KINDS, specs


def _describe(action: Action) -> str:
    ident = f" {action.live_id}" if action.live_id else ""
    return f"{action.action.value}{ident}"


def _fields(action: Action) -> Mapping[str, Any]:
    return {change.path: (change.before, change.after) for change in action.changes}


def _request_key(request: Request) -> str:
    return canonical_json(request.to_dict())


def _continues(new: Action, old: Action | None, replaced_ids: set[str]) -> bool:
    if old is not None and old.action is ActionType.REPLACE and new.action is ActionType.CREATE:
        reviewed = {_request_key(r) for r in old.requests}
        return bool(new.requests) and all(_request_key(r) in reviewed for r in new.requests)
    return (
        old is None
        and new.action in (ActionType.DELETE, ActionType.EXPIRE)
        and new.live_id in replaced_ids
    )


def _difference(address: str, old: Action | None, new: Action) -> str:
    if old is None:
        return f"{address}: not in the plan, now needs {_describe(new)}"
    if (old.action, old.live_id) != (new.action, new.live_id):
        return f"{address}: planned {_describe(old)}, now {_describe(new)}"
    if old.fingerprint != new.fingerprint:
        return f"{address}: {old.live_id or 'the live object'} changed in Stripe"
    was, now = _fields(old), _fields(new)
    changed = sorted(p for p in was.keys() | now.keys() if was.get(p) != now.get(p))
    detail = ", ".join(changed) if changed else "its requests"
    return f"{address}: the {new.action.value} differs in {detail}"


def _matches(want: Any, have: Any) -> bool:
    """Whether a live value is what a request value makes: lists as sets, mappings key by key
    for the keys the request sends (Stripe adds its own) and the object returns (a write-only
    one, such as EventBridge's ``aws_region``, cannot tell), scalars as they are."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            _matches(value, have[key]) for key, value in want.items() if key in have
        )
    if isinstance(want, (list, tuple)):
        return isinstance(have, (list, tuple)) and sorted(map(str, set(want))) == sorted(
            map(str, set(have))
        )
    return bool(want == have)


def _made_by(action: Action, obj: LiveObject) -> bool:
    """Whether ``obj`` is what ``action``'s create request makes, judged on the fields the
    object returns (metadata aside: apply adds its own markers to it)."""
    create = next((r for r in action.requests if r.step == "create"), None)
    if create is None:
        return False
    return all(
        _matches(value, obj[key])
        for key, value in create.params.items()
        if key != "metadata" and key in obj
    )


def created_since(
    saved: Plan, live_objects: Sequence[LiveObject], *, kind: str | None = None
) -> set[str]:
    """Live objects an interrupted apply of the saved plan created: unknown to the plan,
    tagged with a name it creates or replaces, and made as its create request says.

    Had one existed when the plan was made, the plan would mention it (as the pair of its name
    or as a duplicate to delete), so it was created afterwards. One made differently (another
    URL, other events) was created by another apply, of a newer plan: not this plan's progress,
    so what apply would do about it makes the plan stale. Only kinds whose objects carry their
    name (tags) can tell; ``kind`` limits it to one kind's creates (``None``: any such kind's).
    """
    creating = {
        a.address.split(".", 1)[1]: a
        for a in saved.actions
        if (kind is None or a.kind == kind)
        and a.kind in KINDS
        and a.action in (ActionType.CREATE, ActionType.REPLACE)
        and "." in a.address
    }
    owners = [s.identity for s in specs() if kind is None or s.name == kind]
    known = {a.live_id for a in saved.actions if a.live_id}
    return {
        str(obj["id"])
        for obj in live_objects
        if obj.get("id") not in known
        and any(
            (name := o.owner(obj)) in creating and _made_by(creating[name], obj) for o in owners
        )
    }


def own_objects(saved: Plan, live: LiveState) -> set[str]:
    """:func:`created_since` over every kind of ``live``: the objects an interrupted apply of
    this plan created."""
    found: set[str] = set()
    for spec in specs():
        found |= created_since(saved, live.of(spec.name), kind=spec.name)
    return found


def plan_differences(saved: Plan, fresh: Plan, *, own_ids: Collection[str] = ()) -> list[str]:
    """Lines naming what ``fresh`` would do that ``saved`` did not show (empty: still valid)."""
    before = {a.address: a for a in saved.actions}
    replaced_ids = {
        a.live_id for a in saved.actions if a.action is ActionType.REPLACE and a.live_id
    }
    lines: list[str] = []
    for new in fresh.actions:
        old = before.get(new.address)
        if old is not None and old.to_dict() == new.to_dict():
            continue
        if new.live_id is not None and new.live_id in own_ids:
            continue
        if _continues(new, old, replaced_ids):
            continue
        lines.append(_difference(new.address, old, new))
    # Reports that went away are progress (e.g. tax settings no longer pending); new ones are
    # live objects the reviewer never saw.
    old_reports = {(r.address, r.message) for r in saved.reports}
    new_reports = {(r.address, r.message) for r in fresh.reports}
    lines.extend(f"{a}: new: {m}" for a, m in sorted(new_reports - old_reports))
    return lines


def _created_since(action: Action, live: LiveState, seen: Collection[str]) -> bool:
    """Whether an object that a create at ``action.address`` would make exists that the plan
    did not see (its id is not in ``seen``), i.e. it was created after the plan."""
    name = action.address.split(".", 1)[1] if "." in action.address else ""
    spec = KINDS[action.kind]
    create = next((r for r in action.requests if r.step == "create"), None)
    same = [o for o in live.of(action.kind) if spec.identity.made_by(spec, name, create, o)]
    return any(str(o.get("id")) not in seen for o in same)


def _shown_as_done(old: Action, live: LiveState, seen: Collection[str] | None) -> bool:
    """Whether Stripe shows ``old`` (a saved action the recomputation lacks) as done."""
    obj = next((o for o in live.of(old.kind) if o.get("id") == old.live_id), None)
    spec = KINDS.get(old.kind)
    if old.action is ActionType.DELETE:
        return obj is None
    if old.action is ActionType.EXPIRE:
        # an expired registration: ended as the expire ends it
        return obj is None or (spec is not None and spec.ended(obj))
    if old.action is ActionType.CREATE:
        return seen is None or _created_since(old, live, seen)
    if obj is None:
        return True  # replaced or deleted since: its recomputation is about the successor
    # an update (adopt, replace) is done once the object changed since the plan saw it
    return spec is None or spec.fingerprint(obj) != old.fingerprint


def unexplained_actions(
    saved: Plan, fresh: Plan, live: LiveState, *, seen: Collection[str] | None
) -> list[str]:
    """Saved actions the recomputation does not have and Stripe does not show as done.

    An action has a counterpart when the fresh plan acts on the same address or the same live
    object (a half-done replace continues as the delete of its old object). One without a
    counterpart is done when Stripe shows it: a deleted object is gone, an expired registration
    expired, a created object was created after the plan was made (its id is not among the
    ``seen`` ids the file records; unknown for older files), an updated one changed since the
    fingerprint the plan recorded. Anything else
    means the file says more than its own manifests do.
    """
    addresses = {a.address for a in fresh.actions}
    ids = {a.live_id for a in fresh.actions if a.live_id}
    return [
        f"{old.address}: the file plans {_describe(old)}, but the manifests it carries do not "
        "need it and Stripe does not show it as done"
        for old in saved.actions
        if old.address not in addresses
        and (old.live_id is None or old.live_id not in ids)
        and not _shown_as_done(old, live, seen)
    ]


def check_consistent(
    saved: Plan, fresh: Plan, live: LiveState, *, seen: Collection[str] | None
) -> None:
    """Refuse a plan file whose actions are not what its own manifests give (it was edited)."""
    lines = unexplained_actions(saved, fresh, live, seen=seen)
    if lines:
        listed = "\n".join(f"  {line}" for line in lines)
        raise PlanFileError(
            "the plan file's actions do not follow from the manifests it carries, so it was "
            f"modified after plan --out. Nothing was applied.\n{listed}\n"
            "Run plan --out again and review it."
        )


def check_not_stale(saved: Plan, fresh: Plan, *, own_ids: Collection[str] = ()) -> None:
    """Raise :class:`StalePlanError` listing every difference, or return quietly."""
    differences = plan_differences(saved, fresh, own_ids=own_ids)
    if differences:
        listed = "\n".join(f"  {line}" for line in differences)
        raise StalePlanError(
            "the saved plan is stale: Stripe changed since it was made, so it is not what "
            f"would happen now. Nothing was applied. Changes:\n{listed}\n"
            "Run plan again, review it, and apply the new plan.",
            changes=differences,
        )

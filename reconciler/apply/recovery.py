"""Recovering webhook signing secrets an earlier apply created but never delivered.

A new endpoint is created with the metadata marker ``reconciler_secret_pending=true`` and the
marker is removed only after every sink has the secret (``reconciler.apply.executor``). An
endpoint still carrying it has a secret nobody may have received, so nobody can be verifying its
signatures: replacing it is safe, and the only way to get a secret (Stripe returns one only on
create). The marker is read from the live objects themselves, so an endpoint the plan would
otherwise leave alone (or merely update) is recovered too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.plan.model import Action, ActionType, FieldChange, Plan
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveObject
from reconciler.resources.webhook_endpoint import SECRET_PENDING_KEY, tagged_name

_KIND = "webhook_endpoints"
_REASON = (
    "its signing secret was never delivered (an earlier apply stopped after creating it): "
    "a new endpoint brings a new secret"
)


def pending_secret(obj: LiveObject) -> bool:
    """True when an endpoint still carries the marker of an undelivered signing secret."""
    return (obj.get("metadata") or {}).get(SECRET_PENDING_KEY) == "true"


def recover_pending_secrets(
    plan: Plan, live_endpoints: Sequence[LiveObject], declared: Mapping[str, Any]
) -> Plan:
    """Replace every declared endpoint whose secret was never delivered.

    Its update or adopt becomes a replace; one the plan leaves unchanged (its differences are
    all ignored, say) gets a replace of its own. An endpoint the plan deletes or replaces already
    goes away. A protected endpoint is left alone, with a warning, because ``lifecycle.protect``
    forbids the delete. The result may need more endpoints at once than the plan did: callers
    check the endpoint limit again (``reconciler.plan.builder.check_endpoint_limit``).
    """
    by_id = {str(obj.get("id")): obj for obj in live_endpoints}
    actions: list[Action] = []
    warnings = list(plan.warnings)
    for action in plan.actions:
        live = by_id.get(action.live_id or "")
        name = action.address.split(".", 1)[1] if "." in action.address else ""
        if (
            action.kind != _KIND
            or action.action not in (ActionType.UPDATE, ActionType.ADOPT)
            or live is None
            or not pending_secret(live)
            or name not in declared
        ):
            actions.append(action)
        elif action.protected:
            warnings.append(_protected_warning(action.address, live))
            actions.append(action)
        else:
            actions.append(_replacing(action, name, declared[name], live))
    acted_on = {a.live_id for a in plan.actions if a.kind == _KIND and a.live_id}
    addressed = {a.address for a in plan.actions}
    handler = HANDLERS[_KIND]
    unchanged = plan.unchanged
    for obj in live_endpoints:
        tagged = tagged_name(obj)
        if (
            tagged is None
            or tagged not in declared
            or not pending_secret(obj)
            or str(obj.get("id")) in acted_on
            or handler.address(tagged) in addressed
        ):
            continue
        name = tagged
        # the plan's twin for `name`, left unchanged (duplicates would be deleted, in acted_on)
        lifecycle = getattr(declared[name], "lifecycle", None)
        protected = bool(lifecycle and lifecycle.protect)
        if protected:
            warnings.append(_protected_warning(handler.address(name), obj))
            continue
        unchanged -= 1
        unplanned = Action(
            kind=_KIND,
            address=handler.address(name),
            action=ActionType.UPDATE,
            reason="",
            live_id=handler.live_id(obj),
            fingerprint=handler.fingerprint(obj),
        )
        actions.append(_replacing(unplanned, name, declared[name], obj))
    return Plan.of(actions, list(plan.reports), warnings, max(unchanged, 0))


def _replacing(action: Action, name: str, desired: Any, live: LiveObject) -> Action:
    marker = FieldChange(f"metadata.{SECRET_PENDING_KEY}", "true", None)
    changes = action.changes if action.changes else (marker,)
    return replace(
        action,
        action=ActionType.REPLACE,
        reason=_REASON,
        changes=changes,
        requests=HANDLERS[_KIND].requests(ActionType.REPLACE, name, desired, live),
    )


def _protected_warning(address: str, live: LiveObject) -> str:
    return (
        f"{address}: the signing secret of {live['id']} was never delivered, "
        "and lifecycle.protect prevents replacing it; roll it in the Dashboard"
    )

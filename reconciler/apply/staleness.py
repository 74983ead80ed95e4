"""Is a saved plan still the plan? Compare it with one recomputed from live state right now.

``apply --plan FILE`` recomputes the plan from the file's embedded desired state and today's live
state. Any difference — an action added, gone or different, a live object that changed under an
action (its fingerprint), a new or vanished report — makes the saved plan stale: the reviewer did
not see what would now happen, so apply refuses and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import StalePlanError
from reconciler.plan.model import Action, Plan


def _describe(action: Action) -> str:
    ident = f" {action.live_id}" if action.live_id else ""
    return f"{action.action.value}{ident}"


def _fields(action: Action) -> Mapping[str, Any]:
    return {change.path: (change.before, change.after) for change in action.changes}


def plan_differences(saved: Plan, fresh: Plan) -> list[str]:
    """Human lines saying how ``fresh`` differs from ``saved`` (empty: the plan still holds)."""
    lines: list[str] = []
    before = {a.address: a for a in saved.actions}
    after = {a.address: a for a in fresh.actions}
    for address in sorted(before.keys() | after.keys()):
        old, new = before.get(address), after.get(address)
        if old is not None and new is None:
            lines.append(f"{address}: planned {_describe(old)}, now nothing to do")
        elif old is None and new is not None:
            lines.append(f"{address}: not in the plan, now needs {_describe(new)}")
        elif old is not None and new is not None and old.to_dict() != new.to_dict():
            if (old.action, old.live_id) != (new.action, new.live_id):
                lines.append(f"{address}: planned {_describe(old)}, now {_describe(new)}")
            elif old.fingerprint != new.fingerprint:
                lines.append(f"{address}: {old.live_id or 'the live object'} changed in Stripe")
            else:
                was, now = _fields(old), _fields(new)
                changed = sorted(p for p in was.keys() | now.keys() if was.get(p) != now.get(p))
                detail = ", ".join(changed) if changed else "its requests"
                lines.append(f"{address}: the {new.action.value} differs in {detail}")
    old_reports = {(r.address, r.message) for r in saved.reports}
    new_reports = {(r.address, r.message) for r in fresh.reports}
    lines.extend(f"{a}: new: {m}" for a, m in sorted(new_reports - old_reports))
    lines.extend(f"{a}: gone: {m}" for a, m in sorted(old_reports - new_reports))
    if not lines and saved.checksum != fresh.checksum:
        if saved.unchanged != fresh.unchanged:
            lines.append(
                f"unchanged resources: {saved.unchanged} when planned, {fresh.unchanged} now"
            )
        else:
            lines.append("plan warnings differ")
    return lines


def check_not_stale(saved: Plan, fresh: Plan) -> None:
    """Raise :class:`StalePlanError` listing every difference, or return quietly."""
    differences = plan_differences(saved, fresh)
    if differences:
        listed = "\n".join(f"  {line}" for line in differences)
        raise StalePlanError(
            "the saved plan is stale: Stripe changed since it was made, so it is not what "
            f"would happen now. Nothing was applied. Changes:\n{listed}\n"
            "Run plan again, review it, and apply the new plan.",
            changes=differences,
        )

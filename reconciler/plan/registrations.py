"""Tax registration requests Stripe would refuse, found before apply sends anything.

Two rules, both judged on the plan's own requests and the live state it was computed from:

- **A registration needs a head office.** Stripe: "To add a tax registration, you must first set
  up a head office address. Without a defined head office address, an
  ``invalid_request_error`` gets triggered" (FACTS.md §3, [S19]). A plan that creates one while
  the account has no head office and the plan does not set one (apply sets tax settings first)
  would fail half-way.
- **No end before the start.** A registration whose ``expires_at`` would come before its
  ``active_from`` (issue 13: Stripe refuses it; an update that moves one but not the other, e.g.
  with ``active_from`` under ``lifecycle.ignore_changes``). An end equal to the start is a
  registration that is never active, which an expire of a scheduled registration sends.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import RegistrationRefusedError
from reconciler.manifest.model import Manifest
from reconciler.plan.model import ActionType, Plan
from reconciler.resources.base import LiveState
from reconciler.resources.tax_registration import iso

REGISTRATIONS = "tax_registrations"


def check_registration_requests(
    plan: Plan, manifest: Manifest, live: LiveState, *, now: int
) -> None:
    """Raise :class:`RegistrationRefusedError` naming each request Stripe would refuse."""
    problems = [*_head_office_problems(plan, live), *_window_problems(plan, live, now)]
    if problems:
        raise RegistrationRefusedError("; ".join(problems))


def _head_office_problems(plan: Plan, live: LiveState) -> list[str]:
    creating = [
        a.address
        for a in plan.actions
        if a.kind == REGISTRATIONS and a.action in (ActionType.CREATE, ActionType.REPLACE)
    ]
    if not creating or _has_head_office(live) or sets_head_office(plan):
        return []
    return [
        f"{', '.join(creating)}: the account has no head office address, and Stripe refuses "
        "to create a tax registration without one; declare tax_settings.head_office.address in "
        "the manifests (apply sets it before any registration) or set it in the Dashboard "
        "(Settings → Tax)"
    ]


def head_office_dependency(targeted: Plan, full: Plan, live: LiveState) -> Plan:
    """``targeted`` plus the tax settings update that sets the head office its registration
    creates need (as Terraform's ``-target`` includes dependencies), with a warning saying so.

    Stripe refuses a registration until the account has a head office; targeting a
    registration alone would otherwise fail where the full plan would not.
    """
    needs = any(
        a.kind == REGISTRATIONS and a.action in (ActionType.CREATE, ActionType.REPLACE)
        for a in targeted.actions
    )
    if not needs or _has_head_office(live) or sets_head_office(targeted):
        return targeted
    settings = [a for a in full.actions if a.kind == "tax_settings"]
    if not sets_head_office(Plan(actions=tuple(settings))):
        return targeted
    return Plan.of(
        [*targeted.actions, *settings],
        list(targeted.reports),
        [
            *targeted.warnings,
            "tax_settings: included although not targeted: the targeted registrations need the "
            "head office it sets (Stripe refuses a registration without one)",
        ],
        targeted.unchanged,
    )


def _has_head_office(live: LiveState) -> bool:
    """Whether the account has one; live state without the settings (a plan computed from
    registrations alone, never :func:`reconciler.resources.fetch_live`) cannot say it has not."""
    settings = live.of("tax_settings")
    return not settings or bool(settings[0].get("head_office"))


def sets_head_office(plan: Plan) -> bool:
    return any(
        request.params.get("head_office")
        for action in plan.actions
        if action.kind == "tax_settings"
        for request in action.requests
    )


def _window_problems(plan: Plan, live: LiveState, now: int) -> list[str]:
    by_id = {str(obj.get("id")): obj for obj in live.of(REGISTRATIONS)}
    problems = []
    for action in plan.actions:
        if action.kind != REGISTRATIONS:
            continue
        for request in action.requests:
            if request.step not in ("create", "update"):
                continue
            # an update keeps what it does not send; a create has nothing before it
            before = by_id.get(action.live_id or "", {}) if request.step == "update" else {}
            start = _moment(request.params.get("active_from", before.get("active_from")), now)
            end = _moment(request.params.get("expires_at", before.get("expires_at")), now)
            if start is not None and end is not None and end < start:
                problems.append(
                    f"{action.address}: it would end ({iso(end)}) before it starts "
                    f"({iso(start)}), which Stripe refuses; declare an expires_at after "
                    "active_from, or stop ignoring active_from (lifecycle.ignore_changes)"
                )
    return problems


def _moment(value: Any, now: int) -> int | None:
    """A request's time value in unix seconds (``now`` is the plan's clock, ``""`` no end)."""
    if value == "now":
        return now
    return value if isinstance(value, int) and not isinstance(value, bool) else None

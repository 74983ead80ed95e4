"""Tax registration requests Stripe would refuse, found before apply sends anything.

Two rules, both judged on the plan's own requests and the live state it was computed from (the
registration kind's ``check`` hook):

- **A registration needs a head office.** Stripe: "To add a tax registration, you must first set
  up a head office address. Without a defined head office address, an
  ``invalid_request_error`` gets triggered" (FACTS.md §3, [S19]). A plan that creates one while
  the account has no head office and the plan does not set one (apply sets tax settings first)
  would fail half-way.
- **No end before the start.** A registration whose ``expires_at`` would come before its
  ``active_from`` (issue 13: Stripe refuses it; an update that moves one but not the other, e.g.
  with ``active_from`` under ``lifecycle.ignore_changes``). An end equal to the start is a
  registration that is never active, which an expire of a scheduled registration sends.

And one dependency (the ``needs`` hook): a ``--target`` plan that creates registrations includes
the tax settings update that sets the head office they need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import RegistrationRefusedError
from reconciler.manifest.model import Manifest
from reconciler.resources import tax_settings
from reconciler.resources.base import LiveObject, LiveState
from reconciler.resources.changes import Action, ActionType
from reconciler.resources.tax_registration_windows import iso

#: the kind a registration needs: Stripe refuses one until tax settings hold a head office
SETTINGS = tax_settings.SPEC.name
REGISTRATIONS = "tax_registrations"


def check_registration_requests(
    actions: Sequence[Action], manifest: Manifest, live: LiveState, now: int
) -> None:
    """Raise :class:`RegistrationRefusedError` naming each request Stripe would refuse."""
    problems = [*_head_office_problems(actions, live), *_window_problems(actions, live, now)]
    if problems:
        raise RegistrationRefusedError("; ".join(problems))


def _creating(actions: Sequence[Action]) -> list[str]:
    return [
        a.address
        for a in actions
        if a.kind == REGISTRATIONS and a.action in (ActionType.CREATE, ActionType.REPLACE)
    ]


def _head_office_problems(actions: Sequence[Action], live: LiveState) -> list[str]:
    creating = _creating(actions)
    if not creating or _has_head_office(live) or sets_head_office(actions):
        return []
    return [
        f"{', '.join(creating)}: the account has no head office address, and Stripe refuses "
        "to create a tax registration without one; declare tax_settings.head_office.address in "
        "the manifests (apply sets it before any registration) or set it in the Dashboard "
        "(Settings → Tax)"
    ]


def head_office_dependency(
    targeted: Sequence[Action], full: Sequence[Action], live: LiveState
) -> tuple[list[Action], str]:
    """The tax settings update that sets the head office the targeted registration creates
    need (as Terraform's ``-target`` includes dependencies), with a warning saying so; nothing
    when they need none.

    Stripe refuses a registration until the account has a head office; targeting a
    registration alone would otherwise fail where the full plan would not.
    """
    # with no actions to add, the caller reads no warning
    if not _creating(targeted) or _has_head_office(live) or sets_head_office(targeted):
        return [], ""  # pragma: no mutate
    settings = [a for a in full if a.kind == SETTINGS]
    if not sets_head_office(settings):
        return [], ""  # pragma: no mutate
    return settings, (
        "tax_settings: included although not targeted: the targeted registrations need the "
        "head office it sets (Stripe refuses a registration without one)"
    )


def _has_head_office(live: LiveState) -> bool:
    """Whether the account has one; live state without the settings (a plan computed from
    registrations alone, never :func:`reconciler.resources.fetch_live`) cannot say it has not."""
    settings = live.of(SETTINGS)
    return not settings or bool(settings[0].get("head_office"))


def sets_head_office(actions: Sequence[Action]) -> bool:
    return any(
        request.params.get("head_office")
        for action in actions
        if action.kind == SETTINGS
        for request in action.requests
    )


def _window_problems(actions: Sequence[Action], live: LiveState, now: int) -> list[str]:
    # keyed so that an action's live_id looks itself up (None, which no object has, finds none)
    by_id: dict[str | None, LiveObject] = {
        str(obj.get("id")): obj for obj in live.of(REGISTRATIONS)
    }
    problems = []
    for action in actions:
        if action.kind != REGISTRATIONS:
            continue
        for request in action.requests:
            if request.step not in ("create", "update"):
                continue
            # an update keeps what it does not send; a create has nothing before it
            before = by_id.get(action.live_id, {}) if request.step == "update" else {}
            start = _moment(request.params.get("active_from", before.get("active_from")), now)
            end = _moment(request.params.get("expires_at", before.get("expires_at")), now)
            if start is not None and end is not None and end < start:
                problems.append(
                    f"{action.address}: it would end ({iso(end)}) before it starts "
                    f"({iso(start)}), which Stripe refuses; {_window_hint(request.params)}"
                )
    return problems


def _window_hint(params: Mapping[str, Any]) -> str:
    """What to change: the side the request leaves as it is live (an ignored field) or, when it
    sends both, the declared end."""
    if "active_from" not in params:
        change, kept = "an expires_at after active_from", "active_from"
    elif "expires_at" not in params:
        change, kept = "an active_from before expires_at", "expires_at"
    else:
        return "declare an expires_at after active_from"
    return f"declare {change}, or stop ignoring {kept} (lifecycle.ignore_changes)"


def _moment(value: Any, now: int) -> int | None:
    """A request's time value in unix seconds (``now`` is the plan's clock, ``""`` no end)."""
    if value == "now":
        return now
    return value if isinstance(value, int) and not isinstance(value, bool) else None

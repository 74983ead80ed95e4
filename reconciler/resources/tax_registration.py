"""Tax registrations (``/v1/tax/registrations``): natural keys, time windows, expire for delete.

Registrations have no metadata and no DELETE. A registration is identified by its natural key
(country, type, jurisdiction) and window (:mod:`.tax_registration_windows`); only ``active`` and
``scheduled`` ones are candidates, expired ones are history. ``active_from``/``expires_at`` are
updatable; ``country_options`` is create-only, so a change means replace = expire the old one,
then create the new one (PRODUCT.md §4.3). Only what the response can carry of the declared
options is compared (``live_view``); the create still sends everything.

Time, judged against the plan's clock (``now``) in :func:`_refine`:

- An ``expires_at`` at or before ``now`` (or ``now`` itself) ends a running registration at
  once: an **expire**, which ``lifecycle.protect`` blocks and ``policy.max_destroy`` counts.
  A later ``expires_at`` is a scheduled end: an update whose reason names the date, and
  ``lifecycle.protect`` blocks it too (:func:`schedules_end`), since protect means the tool
  never ends the registration.
- An expire sends ``expires_at=now`` (Stripe's update docs: "either ``now`` … or a timestamp";
  its own example is ``-d expires_at=now``), also in the second the registration started; a
  scheduled one gets ``expires_at`` = its ``active_from``, so it never becomes active.
- Stripe cannot backdate: the create docs take "``now`` … or a *future* timestamp". A declared
  start that has passed is created as ``now`` (the plan says so), and a live registration that
  started later than a declared past start is not a difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.manifest.country_options import response_view
from reconciler.manifest.model import TaxRegistration
from reconciler.resources import tax_settings
from reconciler.resources.base import Decision, LiveObject, Pair, change, ignored
from reconciler.resources.changes import Action, ActionType, FieldChange, Request
from reconciler.resources.differ import Diff, create_params, want_document
from reconciler.resources.fields import Field, OnChange
from reconciler.resources.kind import KindSpec
from reconciler.resources.tax_registration_checks import (
    check_registration_requests,
    head_office_dependency,
)
from reconciler.resources.tax_registration_windows import (
    CANDIDATE_STATUSES,
    PATH,
    NaturalKeyWindows,
    WindowLookup,
    country_of,
    drop_none,
    end_request,
    iso,
    key_of,
    natural_key,
    past_start,
    window_fit,
)
from reconciler.timestamps import iso_utc

__all__ = [
    "CANDIDATE_STATUSES",
    "PATH",
    "SPEC",
    "TaxRegistrationHandler",
    "drop_none",
    "iso",
    "natural_key",
    "schedules_end",
    "window_fit",
]


def _live_options(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Only the options of the registration's own country, without nulls."""
    country = country_of(obj).lower()
    options = obj.get("country_options") or {}
    return dict(drop_none({country: options.get(country) or {}}))


def _options_carried(declared: Any, obj: Mapping[str, Any], now: int) -> bool:
    """Stripe accepts options it never returns: compare only what the response can carry
    (the live twin has the declared country: it is part of the natural key)."""
    return bool(drop_none(response_view(country_of(obj), declared)) == _live_options(obj))


def _started(declared: Any, obj: Mapping[str, Any], now: int) -> bool:
    """``now`` means "already active", not a timestamp to compare; a declared start that has
    passed holds for a registration that started at it or later, since Stripe cannot backdate."""
    if declared == "now":
        return obj.get("status") == "active"
    start, live_start = past_start(declared, now), obj.get("active_from")
    if start is None or not isinstance(live_start, int):
        return False
    # a start equal to the declared one never gets here (the differ compares equal values first)
    return start <= live_start <= now  # pragma: no mutate


FIELDS = (
    Field("country", on_change=OnChange.REPLACE, live=country_of),
    Field(
        "country_options",
        on_change=OnChange.REPLACE,
        desired=lambda desired: drop_none(desired.country_options),
        live=_live_options,
        equivalent=_options_carried,
    ),
    Field("active_from", equivalent=_started),
    # `expires_at=` (empty) clears it on update
    Field("expires_at", clear=""),
)


def _ended(expires_at: Any, now: int) -> bool:
    """Whether a declared ``expires_at`` is at or before the plan's clock."""
    return expires_at == "now" or (isinstance(expires_at, int) and expires_at <= now)


def schedules_end(action: Action) -> bool:
    """Whether ``action`` sets a future end on a registration (blocked by ``protect``).

    An end at or before the plan's clock is an expire; this is the update that sets a later
    ``expires_at`` (a change to ``(none)`` removes an end and is not one).
    """
    return (
        action.kind == SPEC.name
        and action.action is ActionType.UPDATE
        and any(c.path == "expires_at" and c.after is not None for c in action.changes)
    )


def _scheduled_end(action: Action) -> str | None:
    """What a scheduled end is called in a refusal (``protect`` blocks it like an expire).

    Refusals judge the plan just built, where the end an update sets is always a timestamp:
    ``now`` or a past one is an expire, and removing the end is not a scheduled end.
    """
    if not schedules_end(action):
        return None
    end = next(c.after for c in action.changes if c.path == "expires_at")
    return f"scheduled end at {iso(end)}"


def _create_request(desired: TaxRegistration, now: int | None) -> Request:
    """The create; with the plan's clock, a declared start that has passed becomes ``now``."""
    params = create_params(FIELDS, want_document(FIELDS, desired))
    if now is not None and past_start(desired.active_from, now) is not None:
        params["active_from"] = "now"
    if not isinstance(desired.expires_at, int):  # create takes an integer only
        # never there: `now` ends the window before any create, and no end is no param
        params.pop("expires_at", None)  # pragma: no mutate
    return Request("create", "POST", PATH, params)


def _active_from(desired: TaxRegistration, item: FieldChange, now: int) -> FieldChange:
    """The ``active_from`` change under the plan's clock (:func:`_started` took out what
    already holds): a declared start that has passed, on a registration that has not started
    yet, starts it now; one that started before it is moved to it."""
    live_start = item.before
    if past_start(desired.active_from, now) is None:
        return item
    # a start at `now` exactly already holds (:func:`_started` took it out), so > and >= agree
    if not isinstance(live_start, int) or live_start > now:  # pragma: no mutate
        return change("active_from", live_start, "now")
    return item


def _refine(pair: Pair, proposal: Decision, diff: Diff, now: int) -> Decision:
    """Windows under the plan's clock: ended → expire (or nothing to create), past starts →
    ``now``, a create-only change → expire then create, a scheduled end named in the reason."""
    desired: TaxRegistration = pair.desired
    live = pair.live
    if live is None:
        if _ended(desired.expires_at, now):
            # a window that has ended, with nothing running: creating it would only add
            # another expired registration, on every apply
            return Decision(None)
        request = _create_request(desired, now)
        start = request.params["active_from"]
        created = tuple(
            replace(c, after=start) if c.path == "active_from" else c for c in proposal.changes
        )
        reason = proposal.reason
        began = past_start(desired.active_from, now)
        if began is not None:
            reason += (
                f"; its declared start {iso(began)} has passed and Stripe cannot backdate a "
                "registration, so it is created active from now"
            )
        return Decision(ActionType.CREATE, changes=created, reason=reason, requests=(request,))
    if _ended(desired.expires_at, now) and not ignored("expires_at", desired.lifecycle):
        ends = desired.expires_at
        reason = (
            f"expires_at {iso(ends)} has passed: this ends the registration now"
            if isinstance(ends, int)
            else "expires_at: now ends this registration"
        )
        return Decision(
            ActionType.EXPIRE,
            changes=(change("expires_at", live.get("expires_at"), ends),),
            reason=reason,
        )
    if diff.replaced:
        return Decision(
            ActionType.REPLACE,
            changes=tuple(c for c in diff.changes if c.path == "country_options"),
            reason="country_options is create-only: expire the old registration, create anew",
            requests=(end_request(live, str(live["id"])), _create_request(desired, now)),
        )
    changes = [
        _active_from(desired, item, now) if item.path == "active_from" else item
        for item in diff.changes
    ]
    if not changes:
        return Decision(None)
    reason = "time window differs"
    for item in changes:
        if item.path == "expires_at" and isinstance(item.after, int):
            reason += f"; a scheduled end: it stops being active at {iso(item.after)}"
        if item.path == "active_from" and item.after == "now":
            start = past_start(desired.active_from, now)
            if start is not None:
                reason += f"; its declared start {iso(start)} has passed, so it starts now"
    return Decision(ActionType.UPDATE, changes=tuple(changes), reason=reason)


def _destroy_requests(obj: LiveObject) -> tuple[Request, ...]:
    return (end_request(obj, str(obj["id"])),)


def _describe(obj: LiveObject) -> str:
    return f"{key_of(obj)} ({obj.get('status')})"


def _ended_at(obj: LiveObject) -> int:
    """When an expired registration ended."""
    ended = obj.get("expires_at")
    if ended is None:
        return 0  # pragma: no mutate (an expired registration has ended: it has an expires_at)
    return int(ended)


def _missing(
    name: str, desired: TaxRegistration | None, live: tuple[LiveObject, ...]
) -> str | None:
    """Why a declared registration has no twin: the last one of its key expired, or none."""
    if desired is None:
        return None
    key = natural_key(desired.country, desired.country_options)
    expired = sorted(
        (o for o in live if o.get("status") == "expired" and key_of(o) == key),
        key=_ended_at,
    )
    if not expired:
        return f"declared {key} has no active or scheduled registration in Stripe"
    last = expired[-1]
    ended = iso_utc(last.get("expires_at")) or str(last.get("expires_at"))
    return (
        f"declared {key} has no active or scheduled registration: {last['id']} expired at {ended}"
    )


SPEC = KindSpec(
    name="tax_registrations",
    order=30,
    noun="tax registration",
    model=TaxRegistration,
    schema="tax.registration",
    path=PATH,
    identity=NaturalKeyWindows(),
    fields=FIELDS,
    destroy=ActionType.EXPIRE,
    depends_on=(tax_settings.SPEC.name,),
    # status=all explicitly: Stripe does not document the default filter
    list_params={"limit": 100, "status": "all"},
    lookup=WindowLookup(),
    extra_live=("status",),
    refine=_refine,
    destroy_requests=_destroy_requests,
    describe_live=_describe,
    missing=_missing,
    protected_update=_scheduled_end,
    check=check_registration_requests,
    needs=head_office_dependency,
    ended=lambda obj: obj.get("status") == "expired",
)


def TaxRegistrationHandler() -> KindSpec:
    """The kind's spec, under the name of the handler class it replaced."""
    return SPEC

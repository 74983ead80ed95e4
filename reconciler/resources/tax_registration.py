"""Tax registrations (``/v1/tax/registrations``): natural keys, time windows, expire for delete.

Registrations have no metadata and no DELETE. A registration is identified by its natural key
(country, type, jurisdiction); only ``active`` and ``scheduled`` ones are candidates, expired ones
are history. ``active_from``/``expires_at`` are updatable; anything else means replace = expire
the old one, then create the new one (PRODUCT.md §4.3).

Time, judged against the plan's clock (``now``):

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

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from reconciler.manifest.country_options import natural_key, response_view
from reconciler.manifest.model import Manifest, TaxRegistration
from reconciler.resources.base import (
    ApiClient,
    Decision,
    LiveObject,
    Matching,
    Pair,
    ResourceHandler,
    change,
    ignored,
)
from reconciler.resources.changes import Action, ActionType, FieldChange, Request

__all__ = [
    "CANDIDATE_STATUSES",
    "PATH",
    "TaxRegistrationHandler",
    "drop_none",
    "iso",
    "natural_key",
    "schedules_end",
    "window_fit",
]

PATH = "/v1/tax/registrations"
CANDIDATE_STATUSES = ("active", "scheduled")


def drop_none(value: Any) -> Any:
    """Responses spell absent sub-fields as ``null``; manifests leave them out."""
    if isinstance(value, Mapping):
        return {k: drop_none(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [drop_none(v) for v in value]
    return value


_OPEN = float("inf")


def iso(timestamp: int) -> str:
    """Unix seconds as plans show them (``2027-12-31T00:00:00Z``)."""
    try:
        moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ended(expires_at: Any, now: int) -> bool:
    """Whether a declared ``expires_at`` is at or before the plan's clock."""
    return expires_at == "now" or (isinstance(expires_at, int) and expires_at <= now)


def _past_start(active_from: Any, now: int) -> int | None:
    """A declared timestamp start that has already passed (Stripe creates it as ``now``)."""
    return active_from if isinstance(active_from, int) and active_from <= now else None


def schedules_end(action: Action) -> bool:
    """Whether ``action`` sets a future end on a registration (blocked by ``protect``).

    An end at or before the plan's clock is an expire; this is the update that sets a later
    ``expires_at`` (a change to ``(none)`` removes an end and is not one).
    """
    return (
        action.kind == TaxRegistrationHandler.kind
        and action.action is ActionType.UPDATE
        and any(c.path == "expires_at" and c.after is not None for c in action.changes)
    )


def _window(start: Any, end: Any, now: int) -> tuple[float, float]:
    """``[start, end)`` in unix seconds; ``now`` is the plan's clock, no end is open."""
    begin = float(now if start == "now" or start is None else start)
    stop = _OPEN if end is None else float(now if end == "now" else end)
    return begin, stop


def _overlap(start: float, end: float, live_start: float, live_end: float) -> bool:
    if start == end:  # `active_from: now` with `expires_at: now`: the instant itself
        return live_start <= start < live_end
    return start < live_end and live_start < end


def window_fit(desired: TaxRegistration, obj: LiveObject, now: int) -> tuple[int, float]:
    """How well a live registration fits a declared window; smaller is better.

    0: the same window (``active_from: now`` fits one that is already active, and a declared
    start that has passed fits one that started at it or later, since Stripe cannot backdate),
    1: the windows overlap, 2: they do not. The second number (distance between the starts)
    ranks within a tier.
    """
    live_start, live_end = _window(obj.get("active_from"), obj.get("expires_at"), now)
    start, end = _window(desired.active_from, desired.expires_at, now)
    began = _past_start(desired.active_from, now)
    if desired.active_from == "now":
        same_start = obj.get("status") == "active"
    elif began is not None:
        same_start = began <= live_start <= now
    else:
        same_start = desired.active_from == obj.get("active_from")
    if same_start and desired.expires_at == obj.get("expires_at"):
        tier = 0
    elif _overlap(start, end, live_start, live_end):
        tier = 1
    else:
        tier = 2
    return tier, abs(start - live_start)


def _pair_by_window(
    names: list[str],
    declared: Mapping[str, TaxRegistration],
    candidates: list[LiveObject],
    now: int,
) -> dict[str, LiveObject]:
    """Pair the declared registrations of one natural key with its live ones, best fit first.

    Several windows of one key (the current registration and its scheduled successor) must each
    keep their own twin whatever their names, or the plan swaps them on every run. Greedy over
    (fit, name, live order): exact windows first, then overlapping ones; names only break ties.
    """
    ranked = sorted(
        (window_fit(declared[name], obj, now), name, index)
        for name in names
        for index, obj in enumerate(candidates)
    )
    twins: dict[str, LiveObject] = {}
    taken: set[int] = set()
    for _, name, index in ranked:
        if name not in twins and index not in taken:
            twins[name] = candidates[index]
            taken.add(index)
    return twins


class TaxRegistrationHandler(ResourceHandler):
    kind: ClassVar[str] = "tax_registrations"
    destroy_action: ClassVar[ActionType] = ActionType.EXPIRE

    async def fetch(self, client: ApiClient) -> tuple[LiveObject, ...]:
        # status=all explicitly: Stripe does not document the default filter
        params = {"limit": 100, "status": "all"}
        return tuple([obj async for obj in client.paginate(PATH, params)])

    def normalize_live(self, obj: LiveObject) -> dict[str, Any]:
        country = str(obj.get("country") or "")
        options = obj.get("country_options") or {}
        return {
            "id": obj.get("id"),
            "country": country,
            "country_options": drop_none({country.lower(): options.get(country.lower()) or {}}),
            "active_from": obj.get("active_from"),
            "expires_at": obj.get("expires_at"),
            "status": obj.get("status"),
        }

    def declared(self, manifest: Manifest) -> Mapping[str, TaxRegistration]:
        return manifest.tax_registrations

    def describe(self, obj: LiveObject) -> str:
        now = self.normalize_live(obj)
        return f"{natural_key(now['country'], now['country_options'])} ({now['status']})"

    def match(
        self, declared: Mapping[str, Any], live: tuple[LiveObject, ...], *, now: int
    ) -> Matching:
        # active before scheduled, then by id, so the choice is stable
        candidates = sorted(
            (o for o in live if o.get("status") in CANDIDATE_STATUSES),
            key=lambda o: (CANDIDATE_STATUSES.index(str(o["status"])), str(o["id"])),
        )
        # indexed by key so that matching stays linear for thousands of registrations
        live_by_key: dict[str, list[LiveObject]] = {}
        for obj in candidates:
            live_by_key.setdefault(self._key_of(obj), []).append(obj)
        names_by_key: dict[str, list[str]] = {}
        for name in sorted(declared):
            desired: TaxRegistration = declared[name]
            key = natural_key(desired.country, desired.country_options)
            names_by_key.setdefault(key, []).append(name)
        # Type is part of the key, so a live registration of another type is never claimed: it
        # is undeclared and follows policy.unmanaged. EU schemes (oss_union, ioss, ...) coexist,
        # and registrations carry no tag that could say one used to be a declared resource.
        twins: dict[str, LiveObject] = {}
        for key, names in names_by_key.items():
            twins.update(_pair_by_window(names, declared, live_by_key.get(key, []), now))
        claimed = {str(obj["id"]) for obj in twins.values()}
        pairs = tuple(Pair(name, declared[name], twins.get(name)) for name in sorted(declared))
        leftovers = tuple(o for o in candidates if str(o["id"]) not in claimed)
        return Matching(pairs=pairs, leftovers=leftovers)

    @staticmethod
    def _key_of(obj: LiveObject) -> str:
        return natural_key(str(obj.get("country") or ""), obj.get("country_options") or {})

    def decide(self, pair: Pair, *, now: int) -> Decision:
        desired: TaxRegistration = pair.desired
        if pair.live is None:
            if _ended(desired.expires_at, now):
                # a window that has ended, with nothing running: creating it would only add
                # another expired registration, on every apply
                return Decision(None)
            return self._create(desired, now)
        have = self.normalize_live(pair.live)
        life = desired.lifecycle
        if _ended(desired.expires_at, now) and not ignored("expires_at", life):
            ends = desired.expires_at
            reason = (
                f"expires_at {iso(ends)} has passed: this ends the registration now"
                if isinstance(ends, int)
                else "expires_at: now ends this registration"
            )
            return Decision(
                ActionType.EXPIRE,
                changes=(change("expires_at", have["expires_at"], ends),),
                reason=reason,
            )
        want_options = drop_none(desired.country_options)
        # only what the response can carry is comparable; the create still sends everything
        comparable = drop_none(response_view(desired.country, desired.country_options))
        if comparable != have["country_options"] and not ignored("country_options", life):
            return Decision(
                ActionType.REPLACE,
                changes=(change("country_options", have["country_options"], want_options),),
                reason="country_options is create-only: expire the old registration, create anew",
                requests=(self._expire_request(pair.live), self._create_request(desired, now)),
            )
        changes = self._window_changes(desired, have, now)
        if not changes:
            return Decision(None)
        reason = "time window differs"
        for item in changes:
            if item.path == "expires_at" and isinstance(item.after, int):
                reason += f"; a scheduled end: it stops being active at {iso(item.after)}"
            if item.path == "active_from" and item.after == "now":
                start = _past_start(desired.active_from, now)
                if start is not None:
                    reason += f"; its declared start {iso(start)} has passed, so it starts now"
        return Decision(
            ActionType.UPDATE,
            changes=tuple(changes),
            reason=reason,
            requests=(self._update_request(pair.live, changes),),
        )

    def _create(self, desired: TaxRegistration, now: int) -> Decision:
        request = self._create_request(desired, now)
        changes = [
            change("country", None, desired.country),
            change("country_options", None, drop_none(desired.country_options)),
            change("active_from", None, request.params["active_from"]),
        ]
        if desired.expires_at is not None:
            changes.append(change("expires_at", None, desired.expires_at))
        reason = "no active or scheduled registration of this natural key is left for this window"
        start = _past_start(desired.active_from, now)
        if start is not None:
            reason += (
                f"; its declared start {iso(start)} has passed and Stripe cannot backdate a "
                "registration, so it is created active from now"
            )
        return Decision(
            ActionType.CREATE, changes=tuple(changes), reason=reason, requests=(request,)
        )

    def _window_changes(
        self, desired: TaxRegistration, have: Mapping[str, Any], now: int | None
    ) -> list[FieldChange]:
        life = desired.lifecycle
        changes: list[FieldChange] = []
        start = None if now is None else _past_start(desired.active_from, now)
        live_start = have["active_from"]
        if ignored("active_from", life):
            pass
        elif desired.active_from == "now":
            # `now` means "already active", not a timestamp to compare
            if have["status"] != "active":
                changes.append(change("active_from", live_start, "now"))
        elif start is not None and now is not None:
            # A declared start that has passed: Stripe cannot backdate, so having started
            # later is the closest it can get; one that has not started yet starts now.
            if not isinstance(live_start, int) or live_start > now:
                changes.append(change("active_from", live_start, "now"))
            elif live_start < start:
                changes.append(change("active_from", live_start, start))
        elif desired.active_from != live_start:
            changes.append(change("active_from", live_start, desired.active_from))
        if desired.expires_at != have["expires_at"] and not ignored("expires_at", life):
            changes.append(change("expires_at", have["expires_at"], desired.expires_at))
        return changes

    @staticmethod
    def _update_request(live: LiveObject, changes: list[FieldChange]) -> Request:
        # `expires_at=` (empty) clears it on update
        params = {item.path: "" if item.after is None else item.after for item in changes}
        return Request("update", "POST", f"{PATH}/{live['id']}", params)

    def _expire_request(self, live: LiveObject) -> Request:
        """End it now; a scheduled one ends where it starts, so it is never active."""
        value: Any = "now"
        if live.get("status") == "scheduled" and isinstance(live.get("active_from"), int):
            value = int(live["active_from"])
        return Request("expire", "POST", f"{PATH}/{live['id']}", {"expires_at": value})

    def _create_request(self, desired: TaxRegistration, now: int | None) -> Request:
        """The create; with the plan's clock, a declared start that has passed becomes ``now``."""
        start: Any = desired.active_from
        if now is not None and _past_start(start, now) is not None:
            start = "now"
        params: dict[str, Any] = {
            "country": desired.country,
            "country_options": drop_none(desired.country_options),
            "active_from": start,
        }
        if isinstance(desired.expires_at, int):  # create takes an integer only
            params["expires_at"] = desired.expires_at
        return Request("create", "POST", PATH, params)

    def requests(
        self, action: ActionType, name: str | None, desired: Any, live: LiveObject | None
    ) -> tuple[Request, ...]:
        """The calls as declared, without the plan's clock.

        ``decide`` builds the requests of declared registrations itself, with the clock (a start
        that has passed is sent as ``now``); this serves the expire of an undeclared one.
        """
        if action is ActionType.CREATE:
            return (self._create_request(desired, None),)
        assert live is not None
        if action is ActionType.EXPIRE:
            return (self._expire_request(live),)
        if action is ActionType.REPLACE:
            return (self._expire_request(live), self._create_request(desired, None))
        changes = self._window_changes(desired, self.normalize_live(live), None)
        return (self._update_request(live, changes),)

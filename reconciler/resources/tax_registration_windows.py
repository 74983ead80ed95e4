"""Tax registration identity: natural key and time window, for planning and for apply.

Registrations have no metadata, so nothing on them can say "ours". A declared registration is
paired with a live one of the same natural key (country, type, jurisdiction: type is part of it,
so a live registration of another type is never claimed) whose window fits best
(:func:`window_fit`); only ``active`` and ``scheduled`` ones are candidates, expired ones are
history. Several windows of one key (the current registration and its scheduled successor) each
keep their own twin whatever their names (:func:`pair_by_window`).

Apply uses the same test (:class:`WindowLookup`): before creating a registration it looks for
one created after the plan was made (tier 0 of :func:`window_fit`: same key, same window), and
after a phase's creates for twins a concurrent apply of another plan made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.manifest.country_options import natural_key
from reconciler.manifest.model import TaxRegistration
from reconciler.resources.base import LiveObject, Matching, Pair
from reconciler.resources.changes import Request
from reconciler.resources.kind import Identity, Lookup

if TYPE_CHECKING:
    from reconciler.resources.kind import KindSpec

__all__ = [
    "CANDIDATE_STATUSES",
    "PATH",
    "NaturalKeyWindows",
    "WindowLookup",
    "country_of",
    "drop_none",
    "iso",
    "key_of",
    "natural_key",
    "pair_by_window",
    "same_registration",
    "window_fit",
]

PATH = "/v1/tax/registrations"
CANDIDATE_STATUSES = ("active", "scheduled")
_OPEN = float("inf")


def drop_none(value: Any) -> Any:
    """Responses spell absent sub-fields as ``null``; manifests leave them out."""
    if isinstance(value, Mapping):
        return {k: drop_none(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [drop_none(v) for v in value]
    return value


def iso(timestamp: int) -> str:
    """Unix seconds as plans show them (``2027-12-31T00:00:00Z``)."""
    try:
        moment = dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def country_of(obj: LiveObject) -> str:
    """A live registration's country."""
    country = obj.get("country")
    if country is None:
        return ""  # pragma: no mutate (Stripe's schema requires a registration's country)
    return str(country)


def key_of(obj: LiveObject) -> str:
    """The natural key of a live registration."""
    return natural_key(country_of(obj), obj.get("country_options") or {})


def past_start(active_from: Any, now: int) -> int | None:
    """A declared timestamp start that has already passed (Stripe creates it as ``now``)."""
    return active_from if isinstance(active_from, int) and active_from <= now else None


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
    began = past_start(desired.active_from, now)
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


def pair_by_window(
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


class NaturalKeyWindows(Identity):
    """Paired by natural key, then by window; leftovers follow ``policy.unmanaged``."""

    create_reason = (
        "no active or scheduled registration of this natural key is left for this window"
    )

    def match(
        self, spec: KindSpec, declared: Mapping[str, Any], live: tuple[LiveObject, ...], now: int
    ) -> Matching:
        # active before scheduled, then by id, so the choice is stable
        candidates = sorted(
            (o for o in live if o.get("status") in CANDIDATE_STATUSES),
            key=lambda o: (CANDIDATE_STATUSES.index(str(o["status"])), str(o["id"])),
        )
        # indexed by key so that matching stays linear for thousands of registrations
        live_by_key: dict[str, list[LiveObject]] = {}
        for obj in candidates:
            live_by_key.setdefault(key_of(obj), []).append(obj)
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
            twins.update(pair_by_window(names, declared, live_by_key.get(key, []), now))
        claimed = {str(obj["id"]) for obj in twins.values()}
        # An exact twin of a paired registration (same key, same window) is a duplicate: two
        # applies of different plans that raced, each failing to take its own back. It carries
        # nothing the kept one does not, so it is ended like a duplicate endpoint, whatever
        # policy.unmanaged says; an undeclared registration of another window is not one.
        duplicates: list[LiveObject] = []
        reasons: dict[str, str] = {}
        protected: set[str] = set()
        for name, kept in sorted(twins.items()):
            desired = declared[name]
            for obj in live_by_key.get(key_of(kept), []):
                obj_id = str(obj["id"])
                if obj_id in claimed or window_fit(desired, obj, now)[0] != 0:
                    continue
                claimed.add(obj_id)
                duplicates.append(obj)
                reasons[obj_id] = f"duplicate of {kept['id']} ({name}): the same key and window"
                if desired.lifecycle.protect:
                    protected.add(obj_id)
        pairs = tuple(Pair(name, declared[name], twins.get(name)) for name in sorted(declared))
        leftovers = tuple(o for o in candidates if str(o["id"]) not in claimed)
        return Matching(
            pairs=pairs,
            leftovers=leftovers,
            owned_leftovers=tuple(duplicates),
            reasons=reasons,
            protected_ids=frozenset(protected),
            duplicate_ids=frozenset(reasons),
        )

    def made_by(self, spec: KindSpec, name: str, create: Request | None, obj: LiveObject) -> bool:
        # apply asks only about saved creates, whose params always hold the country
        if create is None or "country" not in create.params:  # pragma: no mutate
            return False  # pragma: no mutate
        params = create.params
        return key_of(obj) == natural_key(str(params["country"]), params["country_options"])


def end_request(obj: LiveObject, object_id: str) -> Request:
    """End a registration now; a scheduled one ends where it starts, so it is never active."""
    value: Any = "now"
    if obj.get("status") == "scheduled" and isinstance(obj.get("active_from"), int):
        value = int(obj["active_from"])
    return Request("expire", "POST", f"{PATH}/{object_id}", {"expires_at": value})


class WindowLookup(Lookup):
    """The registrations that already are the one being created (see the module docstring).

    Only a live object the plan would pair with the declared window counts. Another window of
    the same key is not it, nor is a live object another action of the plan works on
    (``excluded``). Validation refuses overlapping windows of one key, so no other declared
    window can be the exact twin.
    """

    def twins(
        self,
        params: Mapping[str, Any],
        live: Sequence[LiveObject],
        *,
        excluded: Collection[str],
        now: int,
    ) -> list[str]:
        key = natural_key(str(params["country"]), params["country_options"])
        desired = _declared_window(params)
        return [
            str(obj.get("id"))
            for obj in live
            if str(obj.get("id")) not in excluded
            and obj.get("status") in CANDIDATE_STATUSES
            and key_of(obj) == key
            and window_fit(desired, obj, now)[0] == 0
        ]

    def gone(self, obj: LiveObject) -> str | None:
        status = obj.get("status")
        return None if status in CANDIDATE_STATUSES else f"has become {status}"

    def undo(self, obj: LiveObject, new_id: str) -> Request:
        return end_request(obj, new_id)


def same_registration(
    params: Mapping[str, Any],
    live: Sequence[LiveObject],
    *,
    excluded: Collection[str],
    now: int,
) -> str | None:
    """The id of a live registration that already is what create ``params`` would make."""
    found = WindowLookup().twins(params, live, excluded=excluded, now=now)
    return found[0] if found else None


def _declared_window(params: Mapping[str, Any]) -> TaxRegistration:
    """The declared registration a create request was built from (its window is what counts).

    Built without validation: the request came from a validated manifest, and only the window
    is read, so nothing here can fail on a shape the model would word differently. A create
    without ``active_from`` starts now.
    """
    return TaxRegistration.model_construct(
        country=params["country"],  # pragma: no mutate (only the window is read)
        country_options=params["country_options"],  # pragma: no mutate (only the window is read)
        active_from=params.get("active_from", "now"),
        expires_at=params.get("expires_at"),
    )

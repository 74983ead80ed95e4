"""Tax registrations (``/v1/tax/registrations``): natural keys, time windows, expire for delete.

Registrations have no metadata and no DELETE. A registration is identified by its natural key
(country, type, jurisdiction); only ``active`` and ``scheduled`` ones are candidates, expired ones
are history. ``active_from``/``expires_at`` are updatable; anything else means replace = expire
the old one, then create the new one (PRODUCT.md §4.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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
from reconciler.resources.changes import ActionType, FieldChange, Request

PATH = "/v1/tax/registrations"
CANDIDATE_STATUSES = ("active", "scheduled")


def drop_none(value: Any) -> Any:
    """Responses spell absent sub-fields as ``null``; manifests leave them out."""
    if isinstance(value, Mapping):
        return {k: drop_none(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [drop_none(v) for v in value]
    return value


def natural_key(country: str, country_options: Mapping[str, Any]) -> str:
    """``US/state_sales_tax/CA``: country, type and the jurisdiction fields that apply."""
    cc = country.lower()
    options = country_options.get(cc) or {}
    kind = str(options.get("type") or "")
    parts = [country.upper(), kind]
    if options.get("state"):
        parts.append(str(options["state"]))
    province = (options.get("province_standard") or {}).get("province")
    if province:
        parts.append(str(province))
    sub = options.get(kind)
    if isinstance(sub, Mapping) and sub.get("jurisdiction"):
        parts.append(str(sub["jurisdiction"]))
    return "/".join(parts)


def _without_type(key: str) -> str:
    country, _type, *jurisdiction = key.split("/")
    return "/".join([country, *jurisdiction])


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

    def match(self, declared: Mapping[str, Any], live: tuple[LiveObject, ...]) -> Matching:
        # active before scheduled, then by id, so the choice is stable
        candidates = sorted(
            (o for o in live if o.get("status") in CANDIDATE_STATUSES),
            key=lambda o: (CANDIDATE_STATUSES.index(str(o["status"])), str(o["id"])),
        )
        # indexed by key so that matching stays linear for thousands of registrations
        by_key: dict[str, list[LiveObject]] = {}
        for obj in candidates:
            by_key.setdefault(self._key_of(obj), []).append(obj)
        claimed: set[str] = set()
        pairs: list[Pair] = []
        for name in sorted(declared):
            desired: TaxRegistration = declared[name]
            queue = by_key.get(natural_key(desired.country, desired.country_options), [])
            twin = queue.pop(0) if queue else None
            if twin is not None:
                claimed.add(str(twin["id"]))
            pairs.append(Pair(name, desired, twin))
        pairs = self._pair_type_changes(pairs, candidates, claimed)
        leftovers = tuple(o for o in candidates if o["id"] not in claimed)
        return Matching(pairs=tuple(pairs), leftovers=leftovers)

    @staticmethod
    def _key_of(obj: LiveObject) -> str:
        return natural_key(str(obj.get("country") or ""), obj.get("country_options") or {})

    def _pair_type_changes(
        self, pairs: list[Pair], candidates: list[LiveObject], claimed: set[str]
    ) -> list[Pair]:
        """Second pass: outside the US a country has one registration per jurisdiction, so a
        declared one whose ``type`` changed is the same registration (replace), not a new one.
        In the US several types coexist per state, so there ``type`` stays part of identity."""
        if all(p.live is not None for p in pairs):
            return pairs
        by_place: dict[str, list[LiveObject]] = {}
        for obj in candidates:
            if obj["id"] not in claimed:
                by_place.setdefault(_without_type(self._key_of(obj)), []).append(obj)
        result: list[Pair] = []
        for pair in pairs:
            desired: TaxRegistration = pair.desired
            if pair.live is not None or desired.country.upper() == "US":
                result.append(pair)
                continue
            place = _without_type(natural_key(desired.country, desired.country_options))
            same_place = [o for o in by_place.get(place, []) if o["id"] not in claimed]
            if len(same_place) == 1:
                claimed.add(str(same_place[0]["id"]))
                result.append(Pair(pair.name, desired, same_place[0]))
            else:
                result.append(pair)
        return result

    def decide(self, pair: Pair) -> Decision:
        desired: TaxRegistration = pair.desired
        if pair.live is None:
            if desired.expires_at == "now":
                return Decision(None)  # ending something that does not run: nothing to do
            changes = [
                change("country", None, desired.country),
                change("country_options", None, drop_none(desired.country_options)),
                change("active_from", None, desired.active_from),
            ]
            if desired.expires_at is not None:
                changes.append(change("expires_at", None, desired.expires_at))
            return Decision(
                ActionType.CREATE,
                changes=tuple(changes),
                reason="no active or scheduled registration has this natural key",
            )
        now = self.normalize_live(pair.live)
        life = desired.lifecycle
        if desired.expires_at == "now" and not ignored("expires_at", life):
            return Decision(
                ActionType.EXPIRE,
                changes=(change("expires_at", now["expires_at"], "now"),),
                reason="expires_at: now ends this registration",
            )
        want_options = drop_none(desired.country_options)
        if want_options != now["country_options"] and not ignored("country_options", life):
            return Decision(
                ActionType.REPLACE,
                changes=(change("country_options", now["country_options"], want_options),),
                reason="country_options is create-only: expire the old registration, create anew",
            )
        changes = self._window_changes(desired, now)
        if changes:
            return Decision(ActionType.UPDATE, changes=tuple(changes), reason="time window differs")
        return Decision(None)

    def _window_changes(
        self, desired: TaxRegistration, now: Mapping[str, Any]
    ) -> list[FieldChange]:
        life = desired.lifecycle
        changes: list[FieldChange] = []
        if not ignored("active_from", life):
            if desired.active_from == "now":
                # `now` means "already active", not a timestamp to compare
                if now["status"] != "active":
                    changes.append(change("active_from", now["active_from"], "now"))
            elif desired.active_from != now["active_from"]:
                changes.append(change("active_from", now["active_from"], desired.active_from))
        if desired.expires_at != now["expires_at"] and not ignored("expires_at", life):
            changes.append(change("expires_at", now["expires_at"], desired.expires_at))
        return changes

    def _expire_request(self, live: LiveObject) -> Request:
        # `now` must stay later than active_from: a scheduled one ends right after it starts
        value: Any = "now"
        if live.get("status") == "scheduled" and isinstance(live.get("active_from"), int):
            value = int(live["active_from"]) + 1
        return Request("expire", "POST", f"{PATH}/{live['id']}", {"expires_at": value})

    def _create_request(self, desired: TaxRegistration) -> Request:
        params: dict[str, Any] = {
            "country": desired.country,
            "country_options": drop_none(desired.country_options),
            "active_from": desired.active_from,
        }
        if isinstance(desired.expires_at, int):  # create takes an integer only
            params["expires_at"] = desired.expires_at
        return Request("create", "POST", PATH, params)

    def requests(
        self, action: ActionType, name: str | None, desired: Any, live: LiveObject | None
    ) -> tuple[Request, ...]:
        if action is ActionType.CREATE:
            return (self._create_request(desired),)
        assert live is not None
        if action is ActionType.EXPIRE:
            return (self._expire_request(live),)
        if action is ActionType.REPLACE:
            return (self._expire_request(live), self._create_request(desired))
        params: dict[str, Any] = {}
        for item in self._window_changes(desired, self.normalize_live(live)):
            # `expires_at=` (empty) clears it on update
            params[item.path] = "" if item.after is None else item.after
        return (Request("update", "POST", f"{PATH}/{live['id']}", params),)

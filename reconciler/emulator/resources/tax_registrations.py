"""``/v1/tax/registrations``: list (``status`` filter), create, retrieve, update; no DELETE.

Parameter types and per-country shapes come from the spec (see validation.py). Rules beyond
the schema, each with its source (FACTS.md §3 and stripe-python 16.1.0's docstrings in
``stripe/params/tax/_registration_{create,update,list}_params.py``):

- ``country_options`` holds exactly the lowercase ``country``, and a type sub-object
  (``luxury_tax: {jurisdiction}``, ``province_standard``) only goes with that type.
- A create needs a head office on the account's tax settings: "Without a defined head office
  address, an ``invalid_request_error`` gets triggered" ([S19]).
- ``active_from`` on create is "``now`` … or a *future* timestamp": a past one is refused.
- ``expires_at`` may not come before ``active_from`` (an end equal to the start, a registration
  that is never active, is accepted: ``expires_at=now`` works in the second the registration
  started, Stripe's own example being ``-d expires_at=now``).

Where Stripe's docs are silent the emulator accepts, and says so here and in README:

- The spec marks a US type's sub-object (``local_amusement_tax: {jurisdiction}``, …) optional:
  a create without it is accepted.
- A second registration of one natural key whose window overlaps another's is accepted (the
  reconciler must prevent duplicates itself). ``refuse_duplicate_registrations`` in the
  emulator config restores the old refusal, for experiments.
- An expired registration can be updated (nothing documents that an expiry is final).
- Updates take any timestamp, past or future ("either ``now`` … or a timestamp").
- The list's ``status`` defaults to ``all`` (the API reference lists every status; the
  reconciler sends ``status=all`` anyway).

``status`` is computed from the emulator clock on every read: ``expired`` from ``expires_at``
on, else ``scheduled`` before ``active_from``, else ``active``.
"""

from __future__ import annotations

from typing import Any

from reconciler.data import resolve_ref
from reconciler.emulator.errors import EmulatedError, invalid_param, resource_missing
from reconciler.emulator.resources.base import Call, Route, paginate
from reconciler.emulator.store import new_id
from reconciler.emulator.validation import body_schema

COLLECTION = "/v1/tax/registrations"
ITEM = "/v1/tax/registrations/{id}"


def status_at(registration: dict[str, Any], now: int) -> str:
    """ "Deduced from ``active_from`` and ``expires_at``" (the status field's docstring)."""
    expires_at = registration["expires_at"]
    if expires_at is not None and now >= expires_at:
        return "expired"
    if now < registration["active_from"]:
        return "scheduled"
    return "active"


def _shape(value: Any, schema: dict[str, Any]) -> Any:
    """Keep only what the response schema has (the request shapes are a superset)."""
    schema = resolve_ref(schema)
    if isinstance(value, list):
        return [_shape(item, schema.get("items", {})) for item in value]
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties", {})
    shaped = {
        key: _shape(item, properties[key]) for key, item in value.items() if key in properties
    }
    return {key: item for key, item in shaped.items() if _complete(item, properties[key])}


def _complete(value: Any, schema: dict[str, Any]) -> bool:
    schema = resolve_ref(schema)
    return not isinstance(value, dict) or all(key in value for key in schema.get("required", []))


def render(stored: dict[str, Any], now: int) -> dict[str, Any]:
    options_schema = {
        "$ref": "#/components/schemas/tax_product_registrations_resource_country_options"
    }
    return {
        "id": stored["id"],
        "object": "tax.registration",
        "active_from": stored["active_from"],
        "country": stored["country"],
        "country_options": _shape(stored["country_options"], options_schema),
        "created": stored["created"],
        "expires_at": stored["expires_at"],
        "livemode": stored["livemode"],
        "status": status_at(stored, now),
    }


def natural_key(country: str, options: dict[str, Any]) -> tuple[str, ...]:
    """country + type + the jurisdiction fields (state, province, <type>.jurisdiction)."""
    kind = options.get("type", "")
    sub = options.get(kind) if isinstance(options.get(kind), dict) else {}
    return (
        country,
        kind,
        options.get("state", ""),
        (options.get("province_standard") or {}).get("province", ""),
        (sub or {}).get("jurisdiction", ""),
    )


def _registrations(call: Call) -> dict[str, dict[str, Any]]:
    registrations: dict[str, dict[str, Any]] = call.namespace["tax_registrations"]
    return registrations


def _key_index(call: Call) -> dict[str, list[str]]:
    """Natural key → registration ids, so a create does not scan every registration."""
    index: dict[str, list[str]] | None = call.namespace.get("registration_keys")
    if index is None:
        index = {}
        for stored in _registrations(call).values():
            options = stored["country_options"][stored["country"].lower()]
            key = "|".join(natural_key(stored["country"], options))
            index.setdefault(key, []).append(stored["id"])
        call.namespace["registration_keys"] = index
    return index


def _check_country_options(country: str, options: dict[str, Any]) -> dict[str, Any]:
    code = country.lower()
    create_schema = body_schema("post", COLLECTION)["properties"]["country_options"]
    if code not in create_schema["properties"]:
        raise invalid_param("country", f"Invalid country: {country} is not a supported country")
    if set(options) != {code}:
        raise invalid_param(
            "country_options",
            f"country_options must contain exactly one entry, country_options[{code}], "
            f"matching country={country}.",
        )
    chosen: dict[str, Any] = options[code]
    kind = chosen["type"]
    shape = create_schema["properties"][code]["properties"]
    prefix = f"country_options[{code}]"
    sub_objects = [name for name in shape if name not in ("type", "state", "standard")]
    for name in sub_objects:
        if name in chosen and name != kind:
            raise invalid_param(f"{prefix}[{name}]", f"{prefix}[{name}] requires type={name}.")
    # The spec marks every type sub-object optional (`luxury_tax: {jurisdiction}` …), and no
    # documented rule asks for it when the type matches: a create without it is accepted.
    return chosen


def _timestamp(value: Any, now: int) -> int:
    return now if value == "now" else int(value)


def _check_window(active_from: int, expires_at: int | None) -> None:
    # An end before the start is refused (issue 13 takes it as Stripe's rule; no docstring
    # states it). An end equal to the start is a window that is never active: accepted.
    if expires_at is not None and expires_at < active_from:
        raise invalid_param("expires_at", "expires_at must not be earlier than active_from.")


def _check_head_office(call: Call) -> None:
    """FACTS.md §3 [S19]: no registration without a head office on the tax settings."""
    settings = call.namespace.get("tax_settings") or {}
    if settings.get("head_office") is None:
        raise EmulatedError(
            400,
            "To add a tax registration, you must first set up a head office address in your "
            "tax settings (head_office on POST /v1/tax/settings).",
            param="country",
            stored=False,
        )


def _check_start(value: Any, now: int) -> None:
    """Create: "``now`` … or a future timestamp" (stripe-python 16.1.0 create params)."""
    if value != "now" and int(value) < now:
        raise invalid_param(
            "active_from",
            "active_from must be now or a timestamp in the future; a registration cannot start "
            "in the past.",
        )


def _overlap(first: tuple[int, int | None], second: tuple[int, int | None]) -> bool:
    """Whether two [active_from, expires_at) windows share a second (None: open-ended)."""
    (start_a, end_a), (start_b, end_b) = first, second
    return (end_b is None or start_a < end_b) and (end_a is None or start_b < end_a)


def _refuse_overlap(call: Call, ids: list[str], window: tuple[int, int | None]) -> None:
    """The optional refusal (off by default): Stripe's docs are silent on duplicates."""
    registrations = _registrations(call)
    for other_id in ids:
        other = registrations[other_id]
        if status_at(other, call.now) != "expired" and _overlap(
            window, (other["active_from"], other["expires_at"])
        ):
            raise EmulatedError(
                400,
                f"A registration for this jurisdiction already exists ({other_id}) for an "
                "overlapping period; expire it before creating another. (Refused because the "
                "emulator runs with refuse_duplicate_registrations.)",
                param="country_options",
            )


def list_registrations(call: Call) -> dict[str, Any]:
    wanted = call.params.get("status", "all")  # the API reference's default
    newest_first = sorted(_registrations(call).values(), key=lambda r: r["_seq"], reverse=True)
    matching = [r for r in newest_first if wanted == "all" or status_at(r, call.now) == wanted]
    return paginate(
        matching, call.params, COLLECTION, "tax.registration", lambda r: render(r, call.now)
    )


def create_registration(call: Call) -> dict[str, Any]:
    params = call.params
    _check_head_office(call)
    country = params["country"].upper()
    chosen = _check_country_options(params["country"], params["country_options"])
    _check_start(params["active_from"], call.now)
    active_from = _timestamp(params["active_from"], call.now)
    expires_at = params.get("expires_at")
    _check_window(active_from, expires_at)
    registrations = _registrations(call)
    index = _key_index(call)
    key = "|".join(natural_key(country, chosen))
    if call.refuse_duplicate_registrations:
        _refuse_overlap(call, index.get(key, []), (active_from, expires_at))
    stored = {
        "id": new_id("taxreg_"),
        "active_from": active_from,
        "country": country,
        "country_options": {country.lower(): chosen},
        "created": call.now,
        "expires_at": expires_at,
        "livemode": call.livemode,
        "_seq": len(registrations) + 1,  # registrations are never deleted
    }
    index.setdefault(key, []).append(stored["id"])
    registrations[stored["id"]] = stored
    return render(stored, call.now)


def _find(call: Call) -> dict[str, Any]:
    registration_id = call.path_args["id"]
    stored = _registrations(call).get(registration_id)
    if stored is None:
        raise resource_missing("tax.registration", registration_id)
    return stored


def retrieve_registration(call: Call) -> dict[str, Any]:
    return render(_find(call), call.now)


def update_registration(call: Call) -> dict[str, Any]:
    stored = _find(call)
    # An expired registration is updated like any other: nothing documents that an expiry is
    # final (FACTS.md §3), so refusing would be an invented rule.
    updated = dict(stored)
    if "active_from" in call.params:
        updated["active_from"] = _timestamp(call.params["active_from"], call.now)
    if "expires_at" in call.params:
        value = call.params["expires_at"]
        updated["expires_at"] = None if value == "" else _timestamp(value, call.now)
    _check_window(updated["active_from"], updated["expires_at"])
    _registrations(call)[stored["id"]] = updated
    return render(updated, call.now)


ROUTES = (
    Route("get", COLLECTION, list_registrations),
    Route("post", COLLECTION, create_registration),
    Route("get", ITEM, retrieve_registration),
    Route("post", ITEM, update_registration),
)

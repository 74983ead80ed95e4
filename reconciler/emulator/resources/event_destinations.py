"""``/v2/core/event_destinations``: list, create, retrieve, update, enable, disable, delete.

The object's shape is stripe-python 16.1.0's ``EventDestination`` (``data.component(
"v2.core.event_destination")``, every attribute present, ``null`` where it has no value); the
parameters are its request types (``data.v2()["requests"]``, checked by
:mod:`reconciler.emulator.v2`). What the SDK documents and the emulator does:

- ``created`` and ``updated`` are RFC 3339 strings, as every v2 time.
- ``webhook_endpoint.url`` is "Returned only when explicitly included" (``include:
  ["webhook_endpoint.url"]``, on create, retrieve, update and list); the signing secret
  "Returned only in the create response when explicitly included; public API clients cannot
  retrieve it later" (``include: ["webhook_endpoint.signing_secret"]``). Otherwise both are
  ``null``.
- Only ``description``, ``enabled_events``, ``metadata`` (``null`` unsets a key), ``name`` and
  ``webhook_endpoint.url`` are updatable; ``…/enable`` and ``…/disable`` set the status
  (``status_details.disabled.reason`` ``user``).
- ``snapshot_api_version`` "do not provide this for thin events"; a webhook URL in live mode
  "requires HTTPS; sandbox mode also supports HTTP"; a destination of each ``type`` needs that
  type's section (without one there is nothing to deliver to).
- EventBridge's ``aws_region`` is a create parameter the object never returns; the partner
  event source starts ``pending`` and Event Grid's partner topic ``never_activated`` (until
  someone associates or activates them in AWS or Azure, which the emulator never does).
- A list is newest first, ``{"data": [...], "next_page_url": …}``; the next page's URL carries
  its ``page`` token and the request's ``limit`` and ``include`` (stripe-python GETs it as it
  is). No maximum page size is documented; the default is 20.
- Stripe documents no limit on the number of event destinations, so the emulator has none (the
  tool counts them against the webhook endpoint limit anyway: the safer reading).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode, urlsplit

from reconciler.data import v2 as v2_facts
from reconciler.emulator.errors import resource_missing
from reconciler.emulator.resources.base import Call, Route
from reconciler.emulator.store import new_id
from reconciler.emulator.v2 import invalid

__all__ = ["ROUTES", "SCHEMAS", "render"]

KIND = "event_destination"
OBJECT = "v2.core.event_destination"
COLLECTION = "/v2/core/event_destinations"
ITEM = "/v2/core/event_destinations/{id}"
DEFAULT_PAGE = 20
URL_INCLUDE = "webhook_endpoint.url"
SECRET_INCLUDE = "webhook_endpoint.signing_secret"
_TARGETS = ("webhook_endpoint", "amazon_eventbridge", "azure_event_grid")


def _time(now: int) -> str:
    return dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _store(call: Call) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = call.namespace.setdefault("event_destinations", {})
    return found


def _find(call: Call) -> dict[str, Any]:
    object_id = call.path_args["id"]
    stored = _store(call).get(object_id)
    if stored is None:
        raise resource_missing(KIND, object_id)
    return stored


def render(stored: dict[str, Any], include: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The API shape; the URL only when included, the region and private keys never."""
    shown = {key: value for key, value in stored.items() if not key.startswith("_")}
    if stored["type"] == "webhook_endpoint":
        url = stored["_url"] if URL_INCLUDE in include else None
        shown["webhook_endpoint"] = {"signing_secret": None, "url": url}
    return shown


def _check_url(url: str, livemode: bool) -> None:
    parts = urlsplit(url)
    allowed = ("https",) if livemode else ("http", "https")
    if parts.scheme not in allowed or not parts.netloc:
        raise invalid(
            "webhook_endpoint.url",
            "Invalid webhook_endpoint.url: live mode requires an https URL; sandboxes also "
            "take http",
        )


def _metadata(current: dict[str, str], change: dict[str, str | None]) -> dict[str, str]:
    """Merge; ``null`` unsets a key (``EventDestinationUpdateParams.metadata``)."""
    merged = dict(current)
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _target(params: dict[str, Any], stored_id: str) -> dict[str, Any]:
    kind = params["type"]
    section = params.get(kind)
    if section is None:
        raise invalid(kind, f"Missing required param: {kind} (type is {kind}).")
    for other in _TARGETS:
        if other != kind and other in params:
            raise invalid(other, f"Invalid {other}: type is {kind}.")
    if kind == "amazon_eventbridge":
        region = section["aws_region"]
        source = f"aws.partner/stripe.com/{stored_id}"
        return {
            "amazon_eventbridge": {
                "aws_account_id": section["aws_account_id"],
                "aws_event_source_arn": f"arn:aws:events:{region}::event-source/{source}",
                "aws_event_source_status": "pending",
            },
            "_aws_region": region,
        }
    if kind == "azure_event_grid":
        return {
            "azure_event_grid": {
                **section,
                "azure_partner_topic_name": f"stripe-{stored_id}",
                "azure_partner_topic_status": "never_activated",
            }
        }
    return {"_url": section["url"]}


def list_destinations(call: Call) -> dict[str, Any]:
    params = call.params
    limit = params.get("limit", DEFAULT_PAGE)
    if limit < 1:
        raise invalid("limit", "Invalid limit: must be at least 1")
    include = params.get("include", [])
    newest = sorted(_store(call).values(), key=lambda o: o["_seq"], reverse=True)
    start = 0
    if "page" in params:
        ids = [o["id"] for o in newest]
        if params["page"] not in ids:
            raise invalid("page", "Invalid page: the page token is not valid (anymore)")
        start = ids.index(params["page"])
    window = newest[start : start + limit]
    following = newest[start + limit : start + limit + 1]
    next_url = None
    if following:
        query = [("limit", str(limit)), *[(f"include[{i}]", v) for i, v in enumerate(include)]]
        next_url = f"{COLLECTION}?{urlencode([*query, ('page', following[0]['id'])])}"
    return {
        "data": [render(o, include) for o in window],
        "next_page_url": next_url,
        "previous_page_url": None,
    }


def create_destination(call: Call) -> dict[str, Any]:
    params = call.params
    include = params.get("include", [])
    if params["event_payload"] == "thin" and "snapshot_api_version" in params:
        raise invalid(
            "snapshot_api_version", "Invalid snapshot_api_version: not for thin event payloads"
        )
    object_id = new_id("ed_")
    target = _target(params, object_id)
    if params["type"] == "webhook_endpoint":
        _check_url(target["_url"], call.livemode)
    store = _store(call)
    stored: dict[str, Any] = {
        "id": object_id,
        "object": OBJECT,
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "created": _time(call.now),
        "description": params.get("description", ""),
        "enabled_events": params["enabled_events"],
        "event_payload": params["event_payload"],
        "events_from": params.get("events_from"),
        "livemode": call.livemode,
        "metadata": dict(params.get("metadata", {})),
        "name": params["name"],
        "snapshot_api_version": params.get("snapshot_api_version"),
        "status": "enabled",
        "status_details": None,
        "type": params["type"],
        "updated": _time(call.now),
        "webhook_endpoint": None,
        "_seq": max((o["_seq"] for o in store.values()), default=0) + 1,
        **target,
    }
    store[object_id] = stored
    shown = render(stored, include)
    if stored["type"] == "webhook_endpoint" and SECRET_INCLUDE in include:
        shown["webhook_endpoint"]["signing_secret"] = new_id("whsec_", 32)
    return shown


def retrieve_destination(call: Call) -> dict[str, Any]:
    return render(_find(call), call.params.get("include", []))


def update_destination(call: Call) -> dict[str, Any]:
    stored = _find(call)
    params = call.params
    updated = dict(stored)
    for key in ("description", "enabled_events", "name"):
        if key in params:
            updated[key] = params[key]
    if "metadata" in params:
        updated["metadata"] = _metadata(stored["metadata"] or {}, params["metadata"])
    if "webhook_endpoint" in params:
        if stored["type"] != "webhook_endpoint":
            raise invalid("webhook_endpoint", f"Invalid webhook_endpoint: type is {stored['type']}")
        _check_url(params["webhook_endpoint"]["url"], call.livemode)
        updated["_url"] = params["webhook_endpoint"]["url"]
    updated["updated"] = _time(call.now)
    _store(call)[stored["id"]] = updated
    return render(updated, params.get("include", []))


def _set_status(call: Call, disabled: bool) -> dict[str, Any]:
    stored = _find(call)
    updated = {
        **stored,
        "status": "disabled" if disabled else "enabled",
        "status_details": {"disabled": {"reason": "user"}} if disabled else None,
        "updated": _time(call.now),
    }
    _store(call)[stored["id"]] = updated
    return render(updated)


def enable_destination(call: Call) -> dict[str, Any]:
    return _set_status(call, False)


def disable_destination(call: Call) -> dict[str, Any]:
    return _set_status(call, True)


def delete_destination(call: Call) -> dict[str, Any]:
    stored = _find(call)
    del _store(call)[stored["id"]]
    return {"id": stored["id"], "object": OBJECT}


ROUTES = (
    Route("get", COLLECTION, list_destinations),
    Route("post", COLLECTION, create_destination),
    Route("get", ITEM, retrieve_destination),
    Route("post", ITEM, update_destination),
    Route("post", f"{ITEM}/enable", enable_destination),
    Route("post", f"{ITEM}/disable", disable_destination),
    Route("delete", ITEM, delete_destination),
)


def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    requests = v2_facts()["requests"]
    listing = requests["list"]
    empty = {"type": "object", "properties": {}, "additionalProperties": False}
    return {
        # the page token rides in next_page_url (docs.stripe.com/api-v2-overview)
        ("get", COLLECTION): {
            **listing,
            "properties": {**listing["properties"], "page": {"type": "string"}},
        },
        ("post", COLLECTION): requests["create"],
        ("get", ITEM): requests["retrieve"],
        ("post", ITEM): requests["update"],
        ("post", f"{ITEM}/enable"): empty,  # EventDestinationEnableParams: no parameters
        ("post", f"{ITEM}/disable"): empty,
        ("delete", ITEM): empty,
    }


#: (method, template) → the parameter schema of each route
SCHEMAS = _schemas()

"""``/v1/webhook_endpoints``: list, create, retrieve, update, delete (FACTS.md §1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from reconciler.emulator.errors import EmulatedError, invalid_param, resource_missing
from reconciler.emulator.resources.base import Call, Route, paginate
from reconciler.emulator.store import new_id

KIND = "webhook endpoint"
MAX_ENDPOINTS = 16  # per account and mode (FACTS.md §1, [S4])
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


def render(stored: dict[str, Any]) -> dict[str, Any]:
    """The API shape: ``connect`` is never returned and the secret only at create time."""
    return {key: value for key, value in stored.items() if key not in ("connect", "_seq")}


def _endpoints(call: Call) -> dict[str, dict[str, Any]]:
    endpoints: dict[str, dict[str, Any]] = call.namespace["webhook_endpoints"]
    return endpoints


def _find(call: Call) -> dict[str, Any]:
    endpoint_id = call.path_args["webhook_endpoint"]
    stored = _endpoints(call).get(endpoint_id)
    if stored is None:
        raise resource_missing("webhook_endpoint", endpoint_id)
    return stored


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_param(
            "url",
            f"Invalid URL: {url}. URLs must begin with http:// or https://",
            code="url_invalid",
        )


def _check_events(events: list[str]) -> None:
    if not events:
        raise invalid_param(
            "enabled_events", "Missing required param: enabled_events.", code="parameter_missing"
        )


def apply_metadata(current: dict[str, str], change: dict[str, str] | str) -> dict[str, str]:
    """Merge: ``metadata[k]=`` unsets k, ``metadata=`` clears all, other keys stay (FACTS §4)."""
    if change == "":
        return {}
    assert isinstance(change, dict)
    merged = dict(current)
    for key, value in change.items():
        if len(key) > METADATA_KEY_MAX or "[" in key or "]" in key:
            raise invalid_param(
                f"metadata[{key}]",
                f"Metadata keys must be at most {METADATA_KEY_MAX} characters and contain no "
                "square brackets.",
            )
        if value == "":
            merged.pop(key, None)
        elif len(value) > METADATA_VALUE_MAX:
            raise invalid_param(
                f"metadata[{key}]",
                f"Metadata values can have up to {METADATA_VALUE_MAX} characters.",
            )
        else:
            merged[key] = value
    if len(merged) > METADATA_MAX_KEYS:
        raise invalid_param("metadata", f"You can specify up to {METADATA_MAX_KEYS} metadata keys.")
    return merged


def list_endpoints(call: Call) -> dict[str, Any]:
    newest_first = sorted(_endpoints(call).values(), key=lambda e: e["_seq"], reverse=True)
    return paginate(newest_first, call.params, "/v1/webhook_endpoints", "webhook_endpoint", render)


def create_endpoint(call: Call) -> dict[str, Any]:
    params = call.params
    _check_url(params["url"])
    _check_events(params["enabled_events"])
    endpoints = _endpoints(call)
    if len(endpoints) >= MAX_ENDPOINTS:
        mode = "live" if call.livemode else "test"
        raise EmulatedError(
            400,
            f"You have reached the maximum of {MAX_ENDPOINTS} {mode} webhook endpoints on this "
            "account. Delete an endpoint before adding another.",
            param="url",
        )
    seq = max((e["_seq"] for e in endpoints.values()), default=0) + 1
    stored: dict[str, Any] = {
        "id": new_id("we_"),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        "application": None,
        "created": call.now,
        "description": params.get("description") or None,
        "enabled_events": params["enabled_events"],
        "livemode": call.livemode,
        "metadata": apply_metadata({}, params.get("metadata", {})),
        "status": "enabled",
        "url": params["url"],
        "connect": params.get("connect", False),
        "_seq": seq,
    }
    endpoints[stored["id"]] = stored
    return {**render(stored), "secret": new_id("whsec_", 32)}


def retrieve_endpoint(call: Call) -> dict[str, Any]:
    return render(_find(call))


def update_endpoint(call: Call) -> dict[str, Any]:
    stored = _find(call)
    params = call.params
    updated = dict(stored)
    if "url" in params:
        _check_url(params["url"])
        updated["url"] = params["url"]
    if "enabled_events" in params:
        _check_events(params["enabled_events"])
        updated["enabled_events"] = params["enabled_events"]
    if "description" in params:
        updated["description"] = params["description"] or None
    if "metadata" in params:
        updated["metadata"] = apply_metadata(stored["metadata"], params["metadata"])
    if "disabled" in params:
        updated["status"] = "disabled" if params["disabled"] else "enabled"
    _endpoints(call)[stored["id"]] = updated
    return render(updated)


def delete_endpoint(call: Call) -> dict[str, Any]:
    stored = _find(call)
    del _endpoints(call)[stored["id"]]
    return {"id": stored["id"], "object": "webhook_endpoint", "deleted": True}


COLLECTION = "/v1/webhook_endpoints"
ITEM = "/v1/webhook_endpoints/{webhook_endpoint}"

ROUTES = (
    Route("get", COLLECTION, list_endpoints),
    Route("post", COLLECTION, create_endpoint),
    Route("get", ITEM, retrieve_endpoint),
    Route("post", ITEM, update_endpoint),
    Route("delete", ITEM, delete_endpoint),
)

"""What every resource handler receives, and the list pagination they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.errors import invalid_param, resource_missing
from reconciler.emulator.store import Store


@dataclass(frozen=True)
class Call:
    """One validated API call: whose namespace, when (emulator clock) and with what params."""

    store: Store
    namespace: dict[str, Any]
    account: str
    livemode: bool
    now: int
    params: dict[str, Any]
    path_args: dict[str, str]
    path: str
    #: the emulator option that refuses overlapping registrations of one natural key
    refuse_duplicate_registrations: bool = False
    #: the account whose key made the call (``account`` itself unless ``Stripe-Account``)
    platform_account: str = ""


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler


def paginate(
    objects: list[dict[str, Any]],
    params: dict[str, Any],
    url: str,
    kind: str,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Stripe list semantics over ``objects`` ordered newest first."""
    limit: int = params.get("limit", 10)
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise invalid_param(
            "ending_before",
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
        )
    ids = [obj["id"] for obj in objects]
    if after is not None:
        if after not in ids:
            raise resource_missing(kind, after, "starting_after")
        start = ids.index(after) + 1
        window = objects[start : start + limit]
        has_more = start + limit < len(objects)
    elif before is not None:
        if before not in ids:
            raise resource_missing(kind, before, "ending_before")
        end = ids.index(before)
        window = objects[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        window = objects[:limit]
        has_more = limit < len(objects)
    return {"object": "list", "data": [render(o) for o in window], "has_more": has_more, "url": url}

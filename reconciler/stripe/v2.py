"""Stripe's v2 API (``/v2/…``) as the client speaks it.

Read from stripe-python 16.1.0 (FACTS.md [S20]) and stripe-node, which agree on every point:

- **Which requests.** A path that starts with ``/v2`` (``stripe/_util.py`` ``get_api_mode``;
  stripe-node ``src/utils.ts`` ``getAPIMode``). Everything else stays v1.
- **Bodies are JSON.** A v2 POST sends ``json.dumps(params)`` with ``Content-Type:
  application/json`` (``stripe/_api_requestor.py``: ``_args_for_request_with_retries`` and
  ``request_headers``; stripe-node ``RequestSender.ts``: ``jsonStringifyRequestData``). Unlike a
  form, JSON carries ``null``: that is how a v2 update unsets a metadata key
  (``stripe/params/v2/core/_event_destination_update_params.py``: ``metadata`` is
  ``Dict[str, Optional[str]]``). GET and DELETE keep their parameters in the query string,
  bracket-encoded as in v1 (``include[0]=webhook_endpoint.url``: ``_api_encode`` in both
  modes; stripe-node ``stringifyRequestData``).
- **Connected accounts: ``Stripe-Context``.** The SDKs send ``Stripe-Context`` for a request's
  context (``request_headers``: ``stripe_context``); Stripe's docs say it supersedes
  ``Stripe-Account`` (docs.stripe.com/context). A v2 request carries the connected account
  there and no ``Stripe-Account``.
- **Pagination by URL.** A page is ``{"data": [...], "next_page_url": "/v2/…?page=…" | null}``;
  the next page is a GET of that URL as it is, until it is ``null``
  (``stripe/v2/_list_object.py``: ``_auto_paging_iter``). There is no ``has_more`` and no
  ``starting_after``, and no documented largest page size (``EventDestinationListParams.limit``:
  "The page size."), so the client leaves the size to Stripe unless a caller asks.
- **Errors** have v1's envelope, ``{"error": {"type", "code", "message"}}``; stripe-python maps
  a few v2 ``type`` values and otherwise falls back to the v1 mapping by HTTP status
  (``_api_requestor.specific_v2_api_error``), which :mod:`reconciler.stripe.response` does
  already.
- **Idempotency.** "With API v2, retries don't repeat successful operations. Stripe retries
  failed or partially failed work to completion when possible" (docs.stripe.com/api/
  idempotent_requests): a POST carries a key as in v1, and a retry with it is safe.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from reconciler.errors import MalformedResponseError

__all__ = ["TEMPLATES", "build_request", "is_v2", "pages"]

CONTEXT_HEADER = "Stripe-Context"
#: The v2 paths the tool calls with an id, as stripe-python 16.1.0's ``EventDestinationService``
#: writes them (``stripe/v2/core/_event_destination_service.py``). The packaged OpenAPI subset is
#: v1 only, and without a template every destination's update would be an operation of its own
#: for the per-operation rate limit (Stripe limits each endpoint, not each object).
TEMPLATES = (
    "/v2/core/event_destinations/{id}",
    "/v2/core/event_destinations/{id}/enable",
    "/v2/core/event_destinations/{id}/disable",
)
ACCOUNT_HEADER = "Stripe-Account"

Fetch = Callable[[str, str, Mapping[str, Any] | None], Awaitable[Mapping[str, Any]]]


def is_v2(path: str) -> bool:
    """Whether ``path`` is a v2 API path (``/v2`` or below)."""
    return path == "/v2" or path.startswith("/v2/")


def build_request(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    query: str,
    params: Mapping[str, Any] | None,
    headers: dict[str, str],
) -> httpx.Request:
    """One v2 request: a JSON body for POST, the query for GET and DELETE, and the connected
    account (the client's ``Stripe-Account`` default header) moved to ``Stripe-Context``."""
    if method == "POST":
        headers["Content-Type"] = "application/json"
        body = json.dumps(dict(params or {}), separators=(",", ":"), ensure_ascii=False)
        request = http.build_request(method, path, content=body.encode("utf-8"), headers=headers)
    else:
        request = http.build_request(method, f"{path}?{query}" if query else path, headers=headers)
    account = request.headers.get(ACCOUNT_HEADER)
    if account is not None:
        del request.headers[ACCOUNT_HEADER]
        request.headers[CONTEXT_HEADER] = account
    return request


async def pages(
    fetch: Fetch, path: str, params: Mapping[str, Any] | None
) -> AsyncIterator[dict[str, Any]]:
    """Every object of a v2 list, page after page by ``next_page_url``."""
    query: Mapping[str, Any] | None = params
    current = path
    seen: set[str] = set()
    while True:
        page = await fetch("GET", current, query)
        data = page.get("data")
        next_url = page.get("next_page_url")
        if not isinstance(data, list):
            raise _page_error(path, "has no data array")
        if next_url is not None and not isinstance(next_url, str):
            raise _page_error(path, "has a next_page_url that is not a string")
        for item in data:
            if not isinstance(item, dict):
                raise _page_error(path, "holds an item that is not an object")
            yield item
        if not next_url:
            return
        if next_url in seen:
            # the same page again would repeat forever
            raise _page_error(path, "points to a next page it already gave")
        seen.add(next_url)
        current, query = _split(path, next_url)


def _split(path: str, url: str) -> tuple[str, dict[str, str]]:
    """The path and query of a ``next_page_url``; only a path of the same list is followed,
    never another host (the request would carry the key there)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _page_error(path, "has a next_page_url that is not a URL") from None
    if parts.scheme or parts.netloc or parts.path != path or parts.fragment:
        raise _page_error(path, "has a next_page_url outside this list")
    return parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))


def _page_error(path: str, what: str) -> MalformedResponseError:
    return MalformedResponseError(f"The list page from GET {path} {what}")

"""Resource kinds: one handler per kind, a registry, and the concurrent live fetch.

Adding a kind means one module with a :class:`~reconciler.resources.base.ResourceHandler`
subclass, one entry in :data:`HANDLERS` and its test cases.
"""

from __future__ import annotations

import asyncio
import logging
import time

from reconciler.resources.base import ApiClient, LiveState, ResourceHandler
from reconciler.resources.shape import check_shapes
from reconciler.resources.tax_registration import TaxRegistrationHandler
from reconciler.resources.tax_settings import TaxSettingsHandler
from reconciler.resources.webhook_endpoint import WebhookEndpointHandler

logger = logging.getLogger(__name__)

#: kind → handler, in the order plans show kinds and apply handles them
HANDLERS: dict[str, ResourceHandler] = {
    handler.kind: handler
    for handler in (TaxSettingsHandler(), WebhookEndpointHandler(), TaxRegistrationHandler())
}


async def fetch_live(client: ApiClient) -> LiveState:
    """Read every kind concurrently: one list pass per kind (limit=100), one settings GET."""
    started = time.monotonic()
    kinds = list(HANDLERS)
    results = await asyncio.gather(*(HANDLERS[kind].fetch(client) for kind in kinds))
    for kind, objects in zip(kinds, results, strict=True):
        check_shapes(kind, objects)  # a malformed object is an error here, not a TypeError later
    state = LiveState(objects=dict(zip(kinds, results, strict=True)))
    logger.debug(
        "fetched live state in %.3fs: %s",
        time.monotonic() - started,
        ", ".join(f"{kind}={len(objs)}" for kind, objs in zip(kinds, results, strict=True)),
    )
    return state


__all__ = ["HANDLERS", "LiveState", "ResourceHandler", "fetch_live"]

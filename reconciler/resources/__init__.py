"""Resource kinds, described as data, one registry of them, and the concurrent live fetch.

A kind is a :class:`~reconciler.resources.kind.KindSpec`: its name and order, its manifest model,
its response schema, its API path, its identity (ownership tags and adoption, natural key and
window, or a singleton), what removing one does, its fields (:mod:`.fields`) and a few hooks for
what is truly special about it. One generic pipeline (:mod:`.engine`) and one differ
(:mod:`.differ`, on deepdiff) plan every kind; apply reaches kind-specific steps (secret
delivery, lookups before create) through the spec's ``secret`` and ``lookup``. The registry
(:mod:`.registry`) is the only list of kinds: plan order, response shapes, manifest sections,
plan file kinds, ``--target`` kinds, export kinds and apply phases all read it.

Adding a kind
-------------
How event destinations (``/v2/core/event_destinations``) were added:

1. **One new module**, ``reconciler/resources/event_destination.py`` (abridged)::

       FIELDS = (
           Field("name"),
           Field("type", on_change=OnChange.REPLACE),           # create-only → replace
           Field("enabled_events", set_valued=True),
           Field("events_from", set_valued=True, on_change=OnChange.REPLACE,
                 absence=Absence.UNMANAGED),                    # omitted: Stripe's default
           Field("webhook_endpoint.url"),
           Field("amazon_eventbridge.aws_region", on_change=OnChange.REPLACE,
                 shadow=("metadata", AWS_REGION_KEY), shadow_read=str),  # never returned
           Field("disabled", absence=Absence.DEFAULT, default=False,
                 live=lambda obj: obj.get("status") == "disabled",
                 on_create=False, request=_toggle),             # POST …/{id}/enable|disable
           Field("metadata", map_valued=True, clear=None, reserved=frozenset(RESERVED_KEYS)),
       )
       SPEC = KindSpec(
           name="event_destinations", order=25, noun="event destination",
           model=EventDestination, schema="v2.core.event_destination",
           path="/v2/core/event_destinations", list_params={"include": [URL_INCLUDE]},
           identity=Tagged(adopt_by="name", named_by="name", ...),  # name defaults to the key
           fields=FIELDS,
           limit=MAX_WEBHOOK_ENDPOINTS, limit_pool=WEBHOOK_ENDPOINTS_POOL,  # shared 16
           secret=SecretDelivery(response_field="webhook_endpoint.signing_secret",
                                 variable_prefix=DESTINATION_SECRET_PREFIX, ...),
           refine=_refine,                      # secret pending → replace; replace warnings
           create_requests=_create_requests,    # ask for the secret; then …/{new_id}/disable
           missing=_missing,                    # why drift finds no twin for a declared name
       )

   Hooks are optional: write one only for what the fields cannot say. The v2 API itself (JSON
   bodies, ``Stripe-Context``, ``next_page_url`` pages) is the client's business
   (:mod:`reconciler.stripe.v2`), chosen by the path.
2. **Its registration**, one line below: ``register(event_destination.SPEC)``.
3. **Outside this package**, still per kind: the manifest model (``EventDestination`` and the
   ``event_destinations`` section of :class:`reconciler.manifest.model.Manifest`) and its checks
   (:mod:`reconciler.manifest.event_destination_checks`), export's section
   (:mod:`reconciler.export.event_destinations`), the emulator's routes
   (:mod:`reconciler.emulator.resources.event_destinations`) and the README.

Everything else follows from the registry: plans list it in ``order``, the plan file accepts its
name, ``--target event_destinations.<name>`` works, apply runs its enable/disable requests and
delivers its secrets, the limit check counts it with webhook endpoints, and drift reports it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from reconciler.resources import event_destination, tax_registration, tax_settings, webhook_endpoint
from reconciler.resources.base import ApiClient, LiveState
from reconciler.resources.kind import KindSpec
from reconciler.resources.registry import KINDS, register, spec_of, specs
from reconciler.resources.shape import check_shapes

logger = logging.getLogger(__name__)

register(tax_settings.SPEC)
register(webhook_endpoint.SPEC)
register(event_destination.SPEC)
register(tax_registration.SPEC)

#: kind → its spec, in the order plans show kinds and apply handles them (the registry's view)
HANDLERS = KINDS


async def fetch_live(client: ApiClient) -> LiveState:
    """Read every kind concurrently: one list pass per kind (limit=100), one settings GET."""
    started = time.monotonic()
    kinds = specs()
    results = await asyncio.gather(*(spec.fetch(client) for spec in kinds))
    fetched = list(zip(kinds, results, strict=True))  # pragma: no mutate (gather: one per kind)
    for spec, objects in fetched:
        check_shapes(spec.name, objects)  # a malformed object is an error here, not a TypeError
    state = LiveState(objects={spec.name: objs for spec, objs in fetched})
    logger.debug(
        "fetched live state in %.3fs: %s",
        time.monotonic() - started,
        ", ".join(f"{spec.name}={len(objs)}" for spec, objs in fetched),
    )
    return state


__all__ = ["HANDLERS", "KINDS", "KindSpec", "LiveState", "fetch_live", "register", "spec_of"]

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
Event destinations (``/v2/core/event_destinations``) as the example:

1. **Declare it in the manifest**: an ``EventDestination`` model and an ``event_destinations``
   section in :class:`reconciler.manifest.model.Manifest` (the loader reads its sections from
   that model). Desired state stays in :mod:`reconciler.manifest`.
2. **One new module**, ``reconciler/resources/event_destination.py``::

       FIELDS = (
           Field("name"),
           Field("enabled_events", set_valued=True),
           Field("event_payload", on_change=OnChange.REPLACE),
           Field("webhook_endpoint.url"),
           Field("description", absence=Absence.DEFAULT, default=""),
           Field("disabled", absence=Absence.DEFAULT, default=False,
                 live=lambda obj: obj.get("status") == "disabled", on_create=False),
           Field("metadata", map_valued=True, clear=None, reserved=frozenset(RESERVED_KEYS)),
       )
       SPEC = KindSpec(
           name="event_destinations", order=25, noun="event destination",
           model=EventDestination, schema="v2.core.event_destination",
           path="/v2/core/event_destinations",
           identity=Tagged(adopt_by="name", create_reason=..., adopt_reason=..., ...),
           fields=FIELDS, secret=SecretDelivery(pending_key=..., protect_hint=...),
           refine=_refine,                      # secret pending → replace, as for endpoints
           create_requests=_create_requests,    # create, then POST …/{new_id}/disable
           fetch_live=_fetch,                   # v2 pagination
       )

   Hooks are optional: write one only for what the fields cannot say (the v2 enable/disable
   sub-requests, reading the signing secret, which v2 returns only when asked for).
3. **Its registration**, one line below: ``register(event_destination.SPEC)``.

Everything else follows from the registry: plans list it in ``order``, the plan file accepts its
name, ``--target event_destinations.<name>`` works, apply delivers its secrets and drift reports
it. What stays per kind outside this package is what is not planning: the emulator's routes, the
manifest model and its checks, export's section writer, and the README.
"""

from __future__ import annotations

import asyncio
import logging
import time

from reconciler.resources import tax_registration, tax_settings, webhook_endpoint
from reconciler.resources.base import ApiClient, LiveState
from reconciler.resources.kind import KindSpec
from reconciler.resources.registry import KINDS, register, spec_of, specs
from reconciler.resources.shape import check_shapes

logger = logging.getLogger(__name__)

register(tax_settings.SPEC)
register(webhook_endpoint.SPEC)
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

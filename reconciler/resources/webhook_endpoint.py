"""Webhook endpoints (``/v1/webhook_endpoints``): ownership tags, adoption by URL, set semantics.

Stripe never returns ``connect`` and returns the signing secret only on create, so identity and
the create-only ``connect`` flag live in metadata tags the tool writes itself (PRODUCT.md §4.1).
``api_version`` and ``connect`` are create-only: a change replaces the endpoint (new id and
secret). So does the marker of a signing secret an interrupted apply never delivered
(``SECRET_PENDING_KEY``): Stripe returns a secret only on create, so a replace is the only way to
get one, and the plan shows it as the replace apply will run. Stripe has no ``disabled`` on
create: a disabled endpoint is created, then disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.manifest.checks import MAX_WEBHOOK_ENDPOINTS
from reconciler.manifest.model import WebhookEndpoint
from reconciler.resources.base import Decision, LiveObject, Pair
from reconciler.resources.changes import NEW_ID, Action, ActionType, Request
from reconciler.resources.differ import Diff, create_params
from reconciler.resources.fields import Absence, Field, OnChange
from reconciler.resources.kind import KindSpec
from reconciler.resources.tagged import (
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    NAME_KEY,
    PROTECT_KEY,
    TAG_KEYS,
    SecretDelivery,
    Tagged,
    recorded_protect,
    tagged_name,
)

__all__ = [
    "CONNECT_KEY",
    "MANAGED_BY_KEY",
    "MANAGED_BY_VALUE",
    "NAME_KEY",
    "PATH",
    "PROTECT_KEY",
    "RESERVED_KEYS",
    "SECRET_PENDING_KEY",
    "SPEC",
    "WEBHOOK_ENDPOINTS_POOL",
    "WebhookEndpointHandler",
    "recorded_protect",
    "replaces_pending_secret",
    "secret_pending",
    "tagged_name",
]

CONNECT_KEY = "reconciler_connect"
#: set by apply on a new endpoint until its signing secret is in every sink (apply/steps/secrets.py)
SECRET_PENDING_KEY = "reconciler_secret_pending"
#: metadata keys the tool owns; manifests may not set them
RESERVED_KEYS = (MANAGED_BY_KEY, NAME_KEY, CONNECT_KEY, SECRET_PENDING_KEY, PROTECT_KEY)
assert set(TAG_KEYS) <= set(RESERVED_KEYS)

PATH = "/v1/webhook_endpoints"
#: the limit pool of Stripe's 16 endpoints, which event destinations share
WEBHOOK_ENDPOINTS_POOL = "endpoints"
NEW_SECRET_WARNING = (
    "{address}: replacing creates a new endpoint with a new signing secret; "
    "consumers must switch to the new secret"
)
PENDING_SECRET_REASON = (
    "its signing secret was never delivered (an earlier apply stopped after creating it): "
    "a new endpoint gets a new secret, and consumers must switch to it"
)
PENDING_SECRET_WARNING = (
    "{address}: the signing secret of {live_id} was never delivered to any sink, so it is lost; "
    "apply replaces the endpoint to get a new secret, and consumers must switch to it"
)
PENDING_SECRET_PROTECT_HINT = (
    "{addresses}: the signing secret was never delivered, and only a replace gets a new one. "
    "Either roll the secret in the Dashboard, hand it to the consumers and remove the metadata "
    f"key {SECRET_PENDING_KEY} from the endpoint yourself, or remove lifecycle.protect so apply "
    "can replace it"
)
PROTECTED_LEFTOVER_REASON = (
    "tagged as managed by stripe-reconciler but no longer declared; it is protected "
    f"({PROTECT_KEY}=true)"
)
PROTECTED_LEFTOVER_HINT = (
    "{addresses}: no longer declared, but lifecycle.protect is recorded on the endpoint. To "
    "delete it, declare it again without lifecycle.protect and apply that (a reviewed change "
    "that lifts the protection), then remove it"
)

SECRETS = SecretDelivery(
    pending_key=SECRET_PENDING_KEY,
    protect_hint=PENDING_SECRET_PROTECT_HINT,
    pending_reason=PENDING_SECRET_REASON,
    pending_warning=PENDING_SECRET_WARNING,
    new_secret_warning=NEW_SECRET_WARNING,
)

FIELDS = (
    Field("url"),
    Field("enabled_events", set_valued=True),
    Field("description", absence=Absence.DEFAULT, default=""),
    # omitted means "not managed": an absent api_version must never force a replace
    Field("api_version", on_change=OnChange.REPLACE, absence=Absence.UNMANAGED),
    # never returned by Stripe: recorded in our tag; an adopted endpoint's value is unknowable
    Field("connect", on_change=OnChange.REPLACE, shadow=("metadata", CONNECT_KEY)),
    # Stripe has no `disabled` on create (see _create_requests)
    Field(
        "disabled",
        absence=Absence.DEFAULT,
        default=False,
        live=lambda obj: obj.get("status") == "disabled",
        on_create=False,
    ),
    # an empty value is how Stripe unsets one metadata key
    Field("metadata", map_valued=True, clear="", reserved=frozenset(RESERVED_KEYS)),
)


def secret_pending(obj: LiveObject) -> bool:
    """True when an endpoint still carries the marker of an undelivered signing secret."""
    return SECRETS.pending(obj)


def replaces_pending_secret(action: Action) -> bool:
    """True for a planned replace of an endpoint whose signing secret was never delivered."""
    return action.kind == SPEC.name and SECRETS.replaces_pending(action)


def _refine(pair: Pair, proposal: Decision, diff: Diff, now: int) -> Decision:
    """Secret-pending → replace (checked first: whatever else differs, the replace creates it
    as declared); the new-secret warning of a replace; the notes of an adoption."""
    address = SPEC.address(pair.name)
    refined = SECRETS.refine(address, pair, proposal, diff)
    if refined is not proposal:
        return refined
    if proposal.action is ActionType.ADOPT:
        assert pair.live is not None
        notes = [
            f"{address}: adopting {pair.live['id']}; its signing secret stays unknown to "
            "stripe-reconciler (roll it in the Dashboard to get one)"
        ]
        if pair.desired.connect:
            notes.append(
                f"{address}: Stripe never returns `connect`; recording the declared "
                "value true without being able to check it"
            )
        return replace(proposal, warnings=tuple(notes))
    return proposal


def _create_requests(name: str, want: Mapping[str, Any]) -> tuple[Request, ...]:
    create = Request("create", "POST", PATH, create_params(FIELDS, want))
    if not want["disabled"]:
        return (create,)
    # Stripe has no `disabled` on create: create, then disable the new endpoint
    return (create, Request("disable", "POST", f"{PATH}/{NEW_ID}", {"disabled": True}))


def _describe(obj: LiveObject) -> str:
    return f"{obj.get('url')} ({obj.get('status', 'enabled')})"


def _missing(name: str, desired: WebhookEndpoint | None, live: tuple[LiveObject, ...]) -> str:
    """Why a declared endpoint has no twin: nothing has its URL, or what has it is not it."""
    same_url = [o for o in live if desired is not None and o.get("url") == desired.url]
    if not same_url:
        return (
            "declared, but no endpoint is tagged with this name or uses its URL "
            "(deleted in the Dashboard?)"
        )
    ids = ", ".join(str(o.get("id")) for o in same_url)
    others = sorted({tag for o in same_url if (tag := tagged_name(o)) is not None})
    if others:
        names = ", ".join(repr(tag) for tag in others)
        return (
            f"declared, but the endpoint with its URL ({ids}) is tagged with another name "
            f"({names}); apply would create one for this name"
        )
    return (
        f"declared, but {len(same_url)} untagged endpoints use its URL ({ids}), so none is "
        "adopted; apply would create one for this name"
    )


SPEC = KindSpec(
    name="webhook_endpoints",
    order=20,
    noun="webhook endpoint",
    model=WebhookEndpoint,
    schema="webhook_endpoint",
    path=PATH,
    identity=Tagged(
        adopt_by="url",
        adopt_label="URL",
        create_reason="no endpoint is tagged with this name",
        adopt_reason="exactly one untagged endpoint has the declared URL",
        protected_reason=PROTECTED_LEFTOVER_REASON,
        protected_hint=PROTECTED_LEFTOVER_HINT,
    ),
    fields=FIELDS,
    # shared with event destinations (see reconciler.resources.event_destination)
    limit=MAX_WEBHOOK_ENDPOINTS,
    limit_pool=WEBHOOK_ENDPOINTS_POOL,
    secret=SECRETS,
    refine=_refine,
    create_requests=_create_requests,
    describe_live=_describe,
    missing=_missing,
)


def WebhookEndpointHandler() -> KindSpec:
    """The kind's spec, under the name of the handler class it replaced."""
    return SPEC

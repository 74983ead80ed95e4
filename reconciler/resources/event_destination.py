"""Event destinations (``/v2/core/event_destinations``): Stripe's v2 successor of webhook endpoints.

A destination sends thin or snapshot events to a webhook endpoint, an Amazon EventBridge partner
event source or an Azure Event Grid partner topic. What the tool relies on, from stripe-python
16.1.0 (FACTS.md [S20]; ``stripe/v2/core/_event_destination.py`` for the object,
``stripe/params/v2/core/_event_destination_*_params.py`` for the requests):

- **Updatable**: only ``description``, ``enabled_events``, ``metadata``, ``name`` and
  ``webhook_endpoint.url`` (``EventDestinationUpdateParams``). Everything else a create takes
  is create-only and a change replaces the destination: ``type``, ``event_payload``,
  ``events_from``, ``snapshot_api_version`` ("You can't change this value after you create the
  event destination") and the EventBridge and Event Grid targets.
- **Enabled or not** is no parameter at all: ``POST …/{id}/enable`` and ``POST …/{id}/disable``
  (``EventDestinationService.enable``/``disable``), and the object says ``status``. So
  ``disabled`` is a field set by a request of its own, after the create for a new one.
- **Write-only**: EventBridge's ``aws_region`` is a create parameter the object never returns
  (``EventDestination.AmazonEventbridge`` has only the account id, the source's ARN and
  status), so it is recorded in metadata as webhook endpoints record ``connect``.
- **Redacted unless asked for**: ``webhook_endpoint.url`` comes back only with
  ``include: ["webhook_endpoint.url"]`` (lists and retrieves ask for it), and the signing secret
  only in the create's answer with ``include: ["webhook_endpoint.signing_secret"]`` ("public API
  clients cannot retrieve it later"), so secrets are delivered as for webhook endpoints
  (:class:`~reconciler.resources.tagged.SecretDelivery`), under
  ``STRIPE_EVENT_DESTINATION_SECRET_<NAME>``. EventBridge and Event Grid destinations have no
  secret.
- **Metadata**: a v2 update unsets a key with ``null`` (``metadata: Dict[str, Optional[str]]``).
- ``name`` defaults to the logical name, and an untagged destination of that name is adopted.

Stripe documents its 16-endpoint limit for webhook endpoints only and says nothing about event
destinations. The Dashboard lists both in one table, and users report one cap for both
("16 webhook endpoints (event destinations)"), so the tool takes the safer reading: every event
destination and every webhook endpoint count against one limit of 16 (``limit_pool``), and plan
refuses what would not fit rather than let apply stop half-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.manifest.checks import MAX_WEBHOOK_ENDPOINTS
from reconciler.manifest.event_destination_checks import (
    AWS_REGION_KEY,
    DESTINATION_RESERVED_KEYS,
    DESTINATION_SECRET_PREFIX,
)
from reconciler.manifest.model import EventDestination
from reconciler.resources.base import Decision, LiveObject, Pair
from reconciler.resources.changes import ActionType, Request
from reconciler.resources.differ import Diff, create_follow_ups, create_params
from reconciler.resources.fields import Absence, Field, OnChange
from reconciler.resources.kind import KindSpec
from reconciler.resources.tagged import (
    PROTECT_KEY,
    TAG_KEYS,
    SecretDelivery,
    Tagged,
    tagged_name,
)
from reconciler.resources.webhook_endpoint import SECRET_PENDING_KEY, WEBHOOK_ENDPOINTS_POOL

__all__ = ["PATH", "RESERVED_KEYS", "SPEC"]

PATH = "/v2/core/event_destinations"
WEBHOOK = "webhook_endpoint"
#: what a list or retrieve must ask for to see the URL; a create, to get the signing secret too
URL_INCLUDE = "webhook_endpoint.url"
SECRET_INCLUDE = "webhook_endpoint.signing_secret"
#: metadata keys the tool owns on a destination; manifests may not set them
RESERVED_KEYS = DESTINATION_RESERVED_KEYS
assert {*TAG_KEYS, SECRET_PENDING_KEY, AWS_REGION_KEY} == set(RESERVED_KEYS)

NEW_SECRET_WARNING = (
    "{address}: replacing creates a new destination with a new signing secret; "
    "consumers must switch to the new secret"
)
PENDING_SECRET_REASON = (
    "its signing secret was never delivered (an earlier apply stopped after creating it): "
    "a new destination gets a new secret, and consumers must switch to it"
)
PENDING_SECRET_WARNING = (
    "{address}: the signing secret of {live_id} was never delivered to any sink, so it is lost; "
    "apply replaces the destination to get a new secret, and consumers must switch to it"
)
PENDING_SECRET_PROTECT_HINT = (
    "{addresses}: the signing secret was never delivered, and only a replace gets a new one. "
    "Either roll the secret in the Dashboard, hand it to the consumers and remove the metadata "
    f"key {SECRET_PENDING_KEY} from the destination yourself, or remove lifecycle.protect so "
    "apply can replace it"
)
NEW_TARGET_WARNING = {
    "amazon_eventbridge": (
        "{address}: replacing creates a new destination, and Stripe a new partner event source "
        "that must be associated with an event bus in AWS before events arrive"
    ),
    "azure_event_grid": (
        "{address}: replacing creates a new destination, and Stripe a new partner topic that "
        "must be activated in Azure before events arrive"
    ),
}
PROTECTED_LEFTOVER_REASON = (
    "tagged as managed by stripe-reconciler but no longer declared; it is protected "
    f"({PROTECT_KEY}=true)"
)
PROTECTED_LEFTOVER_HINT = (
    "{addresses}: no longer declared, but lifecycle.protect is recorded on the destination. To "
    "delete it, declare it again without lifecycle.protect and apply that (a reviewed change "
    "that lifts the protection), then remove it"
)


def _has_secret(params: Mapping[str, Any]) -> bool:
    """Only a webhook destination has a signing secret (EventBridge and Event Grid have none)."""
    return params.get("type") == WEBHOOK


SECRETS = SecretDelivery(
    pending_key=SECRET_PENDING_KEY,
    protect_hint=PENDING_SECRET_PROTECT_HINT,
    pending_reason=PENDING_SECRET_REASON,
    pending_warning=PENDING_SECRET_WARNING,
    new_secret_warning=NEW_SECRET_WARNING,
    response_field=SECRET_INCLUDE,
    url_field=URL_INCLUDE,
    cleared=None,  # v2 JSON unsets a metadata key with null
    variable_prefix=DESTINATION_SECRET_PREFIX,
    expects=_has_secret,
)


def _toggle(disabled: Any) -> tuple[str, str]:
    """``POST …/{id}/disable`` or ``…/enable``: the only way to change the status."""
    return ("disable", "/disable") if disabled else ("enable", "/enable")


FIELDS = (
    Field("name"),
    Field("type", on_change=OnChange.REPLACE),
    Field("event_payload", on_change=OnChange.REPLACE),
    Field("enabled_events", set_valued=True),
    # omitted means "not managed": Stripe picks them, and an omission must never force a replace
    Field("events_from", set_valued=True, on_change=OnChange.REPLACE, absence=Absence.UNMANAGED),
    Field("snapshot_api_version", on_change=OnChange.REPLACE, absence=Absence.UNMANAGED),
    Field("webhook_endpoint.url"),
    Field("amazon_eventbridge.aws_account_id", on_change=OnChange.REPLACE),
    # never returned by Stripe: recorded in our tag; an adopted destination's value is unknowable
    Field(
        "amazon_eventbridge.aws_region",
        on_change=OnChange.REPLACE,
        shadow=("metadata", AWS_REGION_KEY),
        shadow_read=str,
    ),
    Field("azure_event_grid.azure_subscription_id", on_change=OnChange.REPLACE),
    Field("azure_event_grid.azure_resource_group_name", on_change=OnChange.REPLACE),
    Field("azure_event_grid.azure_region", on_change=OnChange.REPLACE),
    Field("description", absence=Absence.DEFAULT, default=""),
    Field(
        "disabled",
        absence=Absence.DEFAULT,
        default=False,
        live=lambda obj: obj.get("status") == "disabled",
        on_create=False,
        request=_toggle,
    ),
    Field("metadata", map_valued=True, clear=None, reserved=frozenset(RESERVED_KEYS)),
)


def _refine(pair: Pair, proposal: Decision, diff: Diff, now: int) -> Decision:
    """Secret-pending → replace, and the warning a replace needs (a new secret, or a new
    partner source to associate); the notes of an adoption."""
    address = SPEC.address(pair.name)
    desired: EventDestination = pair.desired
    if desired.type == WEBHOOK or (pair.live is not None and SECRETS.pending(pair.live)):
        refined = SECRETS.refine(address, pair, proposal, diff)
        if refined is not proposal:
            return refined
    if proposal.action is ActionType.REPLACE and desired.type in NEW_TARGET_WARNING:
        warning = NEW_TARGET_WARNING[desired.type].format(address=address)
        return replace(proposal, warnings=(warning,))
    if proposal.action is ActionType.ADOPT:
        assert pair.live is not None
        notes = []
        if desired.type == WEBHOOK:
            notes.append(
                f"{address}: adopting {pair.live['id']}; its signing secret stays unknown to "
                "stripe-reconciler (roll it in the Dashboard to get one)"
            )
        if desired.amazon_eventbridge is not None:
            notes.append(
                f"{address}: Stripe never returns amazon_eventbridge.aws_region; recording "
                "the declared value without being able to check it"
            )
        return replace(proposal, warnings=tuple(notes))
    return proposal


def _create_requests(name: str, want: Mapping[str, Any]) -> tuple[Request, ...]:
    """The create (asking for the signing secret and URL of a webhook destination, which v2
    returns only when asked), then ``…/{new_id}/disable`` for a disabled one."""
    params = create_params(FIELDS, want)
    if _has_secret(params):
        params["include"] = [SECRET_INCLUDE, URL_INCLUDE]
    return (Request("create", "POST", PATH, params), *create_follow_ups(FIELDS, want, PATH))


def _describe(obj: LiveObject) -> str:
    # v2 always returns status (required in the SDK's EventDestination), so no default
    return f"{obj.get('name')} ({obj.get('type')}, {obj.get('status')})"


def _missing(
    name: str, desired: EventDestination | None, live: tuple[LiveObject, ...]
) -> str | None:
    """Why a declared destination has no twin, when what has its name (the declared ``name``,
    or the logical name it defaults to) says more."""
    if desired is None:
        return None
    label = desired.name or name
    same = [o for o in live if o.get("name") == label]
    if not same:
        return None
    ids = ", ".join(str(o.get("id")) for o in same)
    others = sorted({tag for o in same if (tag := tagged_name(o)) is not None})
    if others:
        names = ", ".join(repr(tag) for tag in others)
        return (
            f"declared, but the destination named {label!r} ({ids}) is tagged with "
            f"another name ({names}); apply would create one for this name"
        )
    return (
        f"declared, but {len(same)} untagged destinations are named {label!r} ({ids}), "
        "so none is adopted; apply would create one for this name"
    )


SPEC = KindSpec(
    name="event_destinations",
    order=25,
    noun="event destination",
    model=EventDestination,
    schema="v2.core.event_destination",
    path=PATH,
    list_params={"include": [URL_INCLUDE]},
    identity=Tagged(
        adopt_by="name",
        adopt_label="name",
        named_by="name",
        create_reason="no destination is tagged with this name",
        adopt_reason="exactly one untagged destination has the declared name",
        protected_reason=PROTECTED_LEFTOVER_REASON,
        protected_hint=PROTECTED_LEFTOVER_HINT,
    ),
    fields=FIELDS,
    limit=MAX_WEBHOOK_ENDPOINTS,
    limit_pool=WEBHOOK_ENDPOINTS_POOL,
    secret=SECRETS,
    refine=_refine,
    create_requests=_create_requests,
    describe_live=_describe,
    missing=_missing,
)

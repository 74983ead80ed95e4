"""Pydantic models of the manifest: the desired state, with Stripe's own field names.

The tool adds only ``version``, ``account``, ``policy``, the logical names (mapping keys) and
``lifecycle``; every other field mirrors the Stripe API so Stripe's docs describe it.
Models are frozen and forbid unknown keys. Timestamps are normalised to unix seconds (``int``)
or the literal ``"now"``.

Booleans and integers are strict: ``disabled: yes``, ``"true"``, ``1`` or ``max_destroy: "3"``
are errors, as README and the JSON Schema say, because pydantic's lax coercion would silently
read ``"no"`` as false and ``"0"`` as a number someone quoted for a reason. The one string that
is typed is a plain (unquoted) scalar that is exactly one ``${VAR}`` reference
(:class:`~reconciler.manifest.expand.EnvScalar`): after expansion it is read by YAML's own rules
(``true``/``false``, decimal integers), so ``disabled: ${DISABLE_HOOK:-false}`` works as if the
value had been written there.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from reconciler.manifest.expand import REFERENCE_PATTERN, EnvScalar
from reconciler.timestamps import MAX_TIMESTAMP, iso_utc

#: The manifest format version this tool reads.
MANIFEST_VERSION = 1


class StrictModel(BaseModel):
    """Base of every manifest model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _to_timestamp(value: Any) -> Any:
    """Accept ``now``, unix seconds, a YAML date-time or an ISO-8601 string; return int or "now".

    A time after 9999-12-31T23:59:59Z is refused here: no date can show it, so every plan,
    drift report and export would have to print it as a bare number, or fail.
    """
    seconds = _seconds(value)
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > MAX_TIMESTAMP:
        raise PydanticCustomError(
            "timestamp_too_late",
            "{seconds} is after {last}, the last second a date can show; use an earlier time",
            {"seconds": seconds, "last": iso_utc(MAX_TIMESTAMP)},
        )
    return seconds


def _seconds(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # let pydantic reject it with its own message
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(value.timestamp())
    if isinstance(value, dt.date):
        return int(
            dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc).timestamp()
        )
    if isinstance(value, str) and value != "now":
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return value  # rejected below with a located message
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return int(parsed.timestamp())
    return value


Timestamp = Annotated[
    Literal["now"] | Annotated[StrictInt, Field(ge=0, le=MAX_TIMESTAMP)],
    BeforeValidator(_to_timestamp),
]

_YAML_TRUE = frozenset({"true", "True", "TRUE"})
_YAML_FALSE = frozenset({"false", "False", "FALSE"})
_YAML_INT = re.compile(r"[-+]?[0-9]+")


def _env_bool(value: Any) -> Any:
    """``${VAR}`` written as the whole plain scalar: typed as YAML would type the text."""
    if isinstance(value, EnvScalar):
        if value in _YAML_TRUE:
            return True
        if value in _YAML_FALSE:
            return False
    return value


def _env_int(value: Any) -> Any:
    if isinstance(value, EnvScalar) and _YAML_INT.fullmatch(value):
        return int(value)
    return value


def _env_schema(schema: dict[str, Any]) -> WithJsonSchema:
    """The value's own schema, or a string that is one ``${VAR}`` reference (see above)."""
    return WithJsonSchema({"anyOf": [schema, {"type": "string", "pattern": REFERENCE_PATTERN}]})


#: ``true``/``false`` only (or a whole ``${VAR}`` expanding to one of them)
Bool = Annotated[StrictBool, BeforeValidator(_env_bool), _env_schema({"type": "boolean"})]
#: a whole number ≥ 0, never a string, float or boolean (or a whole ``${VAR}`` expanding to one)
Count = Annotated[
    StrictInt,
    Field(ge=0),
    BeforeValidator(_env_int),
    _env_schema({"type": "integer", "minimum": 0}),
]


class Account(StrictModel):
    """Which Stripe account and mode the manifests describe."""

    mode: Literal["test", "live"] = Field(
        "test",
        description="Must match the API key's mode (sk_test_/rk_test_ vs sk_live_/rk_live_).",
    )
    id: str | None = Field(
        None,
        pattern=r"^acct_[A-Za-z0-9]+$",
        description="Refuse to run if the key reaches another account.",
    )
    stripe_account: str | None = Field(
        None,
        pattern=r"^acct_[A-Za-z0-9]+$",
        description="Act on this connected account (Stripe-Account header).",
    )
    api_version: str | None = Field(
        None, description="Stripe-Version sent with every call; default: the tool's pinned version."
    )


class Policy(StrictModel):
    """What to do with live objects the manifests do not declare, and how much may be destroyed."""

    unmanaged: Literal["report", "ignore", "delete"] = Field(
        "report",
        description="report | ignore | delete (delete means expire for tax registrations).",
    )
    max_destroy: Count | None = Field(
        None,
        description="Refuse plans with more delete/replace/expire actions unless --force.",
    )


class Lifecycle(StrictModel):
    """Per-resource safety and ownership settings (not sent to Stripe)."""

    protect: Bool = Field(False, description="Never delete, replace or expire this resource.")
    ignore_changes: tuple[str, ...] = Field(
        (), description="Field paths (e.g. description, metadata.owner) whose drift is ignored."
    )


class WebhookEndpoint(StrictModel):
    """A webhook endpoint (``/v1/webhook_endpoints``)."""

    url: str = Field(..., description="Absolute https URL receiving the events.")
    enabled_events: tuple[str, ...] = Field(..., min_length=1, description="Event types; a set.")
    description: str | None = Field(None, max_length=5000)
    api_version: str | None = Field(
        None, description="Create-only: a change plans a replace (new endpoint, new secret)."
    )
    connect: Bool = Field(
        False, description="Create-only and never returned by Stripe; recorded in metadata."
    )
    disabled: Bool = Field(False, description="Compared against the live status.")
    metadata: dict[str, str] = Field(default_factory=dict)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)


class DestinationWebhook(StrictModel):
    """Where a ``webhook_endpoint`` event destination sends events."""

    url: str = Field(..., description="Absolute URL receiving the events (https in live mode).")


class AmazonEventBridge(StrictModel):
    """Where Stripe creates the EventBridge partner event source. Create-only: a change
    replaces the destination."""

    aws_account_id: str = Field(
        ..., pattern=r"^[0-9]{12}$", description="The 12-digit AWS account id."
    )
    aws_region: str = Field(
        ...,
        min_length=1,
        description="The AWS region (e.g. us-east-1). Never returned by Stripe; recorded in "
        "metadata.",
    )


class AzureEventGrid(StrictModel):
    """Where Stripe creates the Event Grid partner topic. Create-only: a change replaces the
    destination."""

    azure_subscription_id: str = Field(..., min_length=1)
    azure_resource_group_name: str = Field(..., min_length=1)
    azure_region: str = Field(..., min_length=1)


class EventDestination(StrictModel):
    """An event destination (``/v2/core/event_destinations``): a webhook endpoint, Amazon
    EventBridge or Azure Event Grid target, for thin or snapshot events."""

    name: str | None = Field(
        None, min_length=1, description="Stripe's name of the destination; default: the key."
    )
    type: Literal["webhook_endpoint", "amazon_eventbridge", "azure_event_grid"] = Field(
        ..., description="Create-only: a change replaces the destination."
    )
    event_payload: Literal["thin", "snapshot"] = Field(
        ..., description="Create-only: a change replaces the destination."
    )
    enabled_events: tuple[str, ...] = Field(
        ..., min_length=1, description="Event types of the payload (thin or snapshot); a set."
    )
    events_from: tuple[str, ...] | None = Field(
        None, description="Create-only; a set (@self, @accounts, …). Omitted: not managed."
    )
    snapshot_api_version: str | None = Field(
        None, description="Snapshot payloads only. Create-only. Omitted: not managed."
    )
    webhook_endpoint: DestinationWebhook | None = Field(
        None, description="Required when type is webhook_endpoint."
    )
    amazon_eventbridge: AmazonEventBridge | None = Field(
        None, description="Required when type is amazon_eventbridge."
    )
    azure_event_grid: AzureEventGrid | None = Field(
        None, description="Required when type is azure_event_grid."
    )
    description: str | None = None
    disabled: Bool = Field(False, description="Compared against the live status.")
    metadata: dict[str, str] = Field(default_factory=dict)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)


#: A value of a field Stripe cannot unset: an empty string would be sent on every apply and
#: never read back as set (or refused outright), so a plan would never converge.
NonEmpty = Annotated[str, Field(min_length=1)]


class Address(StrictModel):
    """A postal address as Stripe takes it; ``state`` is the ISO 3166-2 code without country.
    Leave a part out rather than empty: Stripe cannot unset it."""

    city: NonEmpty | None = None
    country: NonEmpty | None = None
    line1: NonEmpty | None = None
    line2: NonEmpty | None = None
    postal_code: NonEmpty | None = None
    state: NonEmpty | None = None


class HeadOffice(StrictModel):
    address: Address


class TaxDefaults(StrictModel):
    tax_behavior: Literal["exclusive", "inclusive", "inferred_by_currency"] | None = None
    tax_code: NonEmpty | None = None


class TaxSettings(StrictModel):
    """The tax settings singleton. Only fields present here are managed; none can be unset."""

    defaults: TaxDefaults | None = None
    head_office: HeadOffice | None = None


class TaxRegistration(StrictModel):
    """A tax registration, identified by country + type + jurisdiction (it has no metadata)."""

    country: str = Field(..., description="ISO 3166-1 alpha-2 country code, upper case.")
    country_options: dict[str, dict[str, Any]] = Field(
        ..., description="Exactly one key: the lowercase country code, with Stripe's shape."
    )
    active_from: Timestamp = Field("now", description="now | ISO-8601 date-time | unix seconds.")
    expires_at: Timestamp | None = Field(
        None, description="Optional end: ISO-8601 date-time | unix seconds | now."
    )
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)


class Manifest(StrictModel):
    """One manifest file, or the merge of a whole manifest set (the desired state)."""

    version: Literal[1] = Field(..., description="Manifest format version.")
    account: Account = Field(default_factory=Account)
    policy: Policy = Field(default_factory=Policy)
    webhook_endpoints: dict[str, WebhookEndpoint] = Field(default_factory=dict)
    event_destinations: dict[str, EventDestination] = Field(default_factory=dict)
    tax_settings: TaxSettings | None = None
    tax_registrations: dict[str, TaxRegistration] = Field(default_factory=dict)

"""Derive ``reconciler/data/v2-event-destinations.json`` from the installed stripe-python.

There is no OpenAPI description of the v2 API in the packaged subset, so the v2 facts the tool
needs come from stripe-python 16.1.0 itself (FACTS.md [S20]):

- the response object's shape from the resource class ``stripe/v2/core/_event_destination.py``
  (``EventDestination``), every annotated attribute required (the class declares each one;
  ``Optional[...]`` ones are nullable);
- the request parameters of create, update, list and retrieve from the ``TypedDict`` classes in
  ``stripe/params/v2/core/_event_destination_*_params.py`` (``NotRequired`` keys optional);
- the thin event types from ``stripe/events/_event_classes.py`` (``_V2_EVENT_CLASS_LOOKUP``:
  one class per event type stripe-python can parse as a thin event).

``tests/test_data_v2.py`` re-derives the file with :func:`derive` and compares; to refresh it
after an SDK upgrade run ``python tests/v2_derive.py > reconciler/data/v2-event-destinations.json``.
"""

from __future__ import annotations

import json
import sys
import typing
from typing import Any, Literal, Union, get_args, get_origin

import stripe
from stripe._api_version import _ApiVersion
from stripe._stripe_object import UntypedStripeObject
from stripe.events._event_classes import _V2_EVENT_CLASS_LOOKUP
from stripe.params.v2.core import (
    _event_destination_create_params,
    _event_destination_list_params,
    _event_destination_retrieve_params,
    _event_destination_update_params,
)
from stripe.v2.core import _event_destination

SOURCE = {
    "package": f"stripe (PyPI) {stripe.VERSION}",
    "api_version": f"stripe/_api_version.py: _ApiVersion.CURRENT = '{_ApiVersion.CURRENT}'",
    "response": "stripe/v2/core/_event_destination.py: EventDestination (every annotated "
    "attribute required; Optional[...] nullable; Union[Literal[...], str] an open enum)",
    "requests": [
        "stripe/params/v2/core/_event_destination_create_params.py: EventDestinationCreateParams",
        "stripe/params/v2/core/_event_destination_update_params.py: EventDestinationUpdateParams",
        "stripe/params/v2/core/_event_destination_list_params.py: EventDestinationListParams",
        "stripe/params/v2/core/_event_destination_retrieve_params.py: "
        "EventDestinationRetrieveParams",
    ],
    "thin_events": "stripe/events/_event_classes.py: the keys of _V2_EVENT_CLASS_LOOKUP",
    "method": "tests/v2_derive.py derives this file; tests/test_data_v2.py re-derives and compares",
}


def _hints(cls: type) -> dict[str, Any]:
    namespace = {**vars(typing), **vars(sys.modules[cls.__module__])}
    for base in cls.__mro__:
        namespace.update(vars(sys.modules[base.__module__]))
    return typing.get_type_hints(cls, globalns=namespace, include_extras=True)


def schema_of(annotation: Any) -> dict[str, Any]:
    """An OpenAPI 3.0 style schema of one SDK annotation."""
    origin = get_origin(annotation)
    if origin in (typing.NotRequired, typing.Required):
        return schema_of(get_args(annotation)[0])
    if origin is Union:
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        literals = [value for arg in args if get_origin(arg) is Literal for value in get_args(arg)]
        others = [arg for arg in args if get_origin(arg) is not Literal]
        if literals and others == [str]:  # Stripe may add values: an open enum
            schema: dict[str, Any] = {"type": "string", "x-known-values": sorted(literals)}
        elif len(args) == 1:
            schema = schema_of(args[0])
        else:  # Dict[...] | UntypedStripeObject[...]: one map either way
            schema = schema_of(args[0])
        return {**schema, "nullable": True} if nullable else schema
    if origin is Literal:
        return {"type": "string", "enum": sorted(get_args(annotation))}
    if origin in (list, typing.List):  # noqa: UP006 - the SDK spells it typing.List
        return {"type": "array", "items": schema_of(get_args(annotation)[0])}
    if origin in (dict, typing.Dict) or origin is UntypedStripeObject:  # noqa: UP006
        return {"type": "object", "additionalProperties": schema_of(get_args(annotation)[-1])}
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if isinstance(annotation, type) and issubclass(annotation, stripe.StripeObject):
        hints = {k: v for k, v in _hints(annotation).items() if not k.startswith("_")}
        hints.pop("OBJECT_NAME", None)
        return {
            "type": "object",
            "properties": {key: schema_of(value) for key, value in sorted(hints.items())},
            "required": sorted(hints),
        }
    if isinstance(annotation, type) and hasattr(annotation, "__required_keys__"):
        hints = _hints(annotation)
        required = sorted(
            key for key, value in hints.items() if get_origin(value) is not typing.NotRequired
        )
        return {
            "type": "object",
            "properties": {key: schema_of(value) for key, value in sorted(hints.items())},
            "required": required,
            "additionalProperties": False,
        }
    if isinstance(annotation, str):  # a forward reference the namespace could not resolve
        raise TypeError(f"unresolved annotation {annotation!r}")
    raise TypeError(f"no schema for {annotation!r}")


def derive() -> dict[str, Any]:
    """The file's content (without ``x-source``)."""
    requests = {
        "create": _event_destination_create_params.EventDestinationCreateParams,
        "update": _event_destination_update_params.EventDestinationUpdateParams,
        "list": _event_destination_list_params.EventDestinationListParams,
        "retrieve": _event_destination_retrieve_params.EventDestinationRetrieveParams,
    }
    return {
        "api_version": _ApiVersion.CURRENT,
        "components": {
            "schemas": {
                "v2.core.event_destination": schema_of(_event_destination.EventDestination),
            }
        },
        "requests": {name: schema_of(params) for name, params in requests.items()},
        "thin_events": sorted(_V2_EVENT_CLASS_LOOKUP),
    }


if __name__ == "__main__":
    document = {"x-source": SOURCE, **derive()}
    sys.stdout.write(json.dumps(document, indent=1) + "\n")

"""The packaged newest API version (``api-2026-10-28.endive.json``) re-derived from its source.

The patches were derived from stripe-python 16.1.0 (in the test extras). These tests compare
the patched spec, parameter by parameter, with the SDK's own request types and resource
classes for the operations the tool uses, so a patch that invents or forgets something fails
here, and so does an SDK upgrade that brings a newer version (refresh the file then).
"""

from __future__ import annotations

import sys
import typing
from typing import Any, Literal, Union, get_args, get_origin

import pytest
import stripe
from stripe._api_version import _ApiVersion
from stripe.params import _webhook_endpoint_create_params, _webhook_endpoint_update_params
from stripe.params.tax import _registration_create_params, _settings_update_params
from stripe.tax import _registration

from reconciler import data

#: RequestOptions keys every SDK params class carries; they are not API parameters.
_CLIENT_OPTIONS = frozenset(
    {"api_key", "content_type", "headers", "idempotency_key", "max_network_retries"}
    | {"stripe_account", "stripe_context", "stripe_version"}
)


def _hints(cls: type) -> dict[str, Any]:
    namespace = {**vars(typing), **vars(sys.modules[cls.__module__]), "StripeContext": object}
    for base in cls.__mro__:
        namespace.update(vars(sys.modules[base.__module__]))
    return typing.get_type_hints(cls, globalns=namespace, include_extras=True)


def _sdk(annotation: Any) -> Any:
    """A comparable shape of an SDK type: literals as a set, typed dicts as keys → shapes."""
    origin = get_origin(annotation)
    if origin in (typing.NotRequired, typing.Required, typing.Optional):
        return _sdk(get_args(annotation)[0])
    if origin is Literal:
        return frozenset(get_args(annotation)) - {""}
    if origin is Union:
        shapes = [_sdk(arg) for arg in get_args(annotation) if arg is not type(None)]
        literals = frozenset().union(*(s for s in shapes if isinstance(s, frozenset)))
        objects = [s for s in shapes if isinstance(s, dict)]
        return objects[0] if objects else literals
    if origin in (list, typing.List):  # noqa: UP006 - the SDK spells it typing.List
        return _sdk(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, stripe.StripeObject):
        # resource classes spell Python keywords with a trailing underscore (`in_`, `is_`)
        return {
            k.removesuffix("_"): _sdk(v)
            for k, v in _hints(annotation).items()
            if not k.startswith("_")
        }
    if isinstance(annotation, type) and hasattr(annotation, "__required_keys__"):
        return {k: _sdk(v) for k, v in _hints(annotation).items() if k not in _CLIENT_OPTIONS}
    return frozenset()


def _spec(schema: dict[str, Any]) -> Any:
    schema = data.resolve_ref(schema)
    if "anyOf" in schema:
        shapes = [_spec(option) for option in schema["anyOf"]]
        objects = [s for s in shapes if isinstance(s, dict)]
        literals = frozenset().union(*(s for s in shapes if isinstance(s, frozenset)))
        return objects[0] if objects else literals
    if schema.get("type") == "array":
        return _spec(schema.get("items", {}))
    if schema.get("type") == "object" and "properties" in schema:
        return {k: _spec(v) for k, v in schema["properties"].items()}
    return frozenset(schema.get("enum", ())) - {""}


def _body(template: str) -> dict[str, Any]:
    operation = data.spec()["paths"][template]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]["schema"]
    return schema


def test_the_pinned_version_is_the_sdks() -> None:
    assert data.pinned_api_version() == _ApiVersion.CURRENT == "2026-10-28.endive"
    assert data.base_api_version() == data.newer_version()["extends"] == "2026-09-30.endive"
    assert data.spec()["info"]["version"] == data.pinned_api_version()
    assert data.openapi()["info"]["version"] == data.base_api_version()


@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("/v1/tax/registrations", _registration_create_params.RegistrationCreateParams),
        ("/v1/tax/settings", _settings_update_params.SettingsUpdateParams),
        ("/v1/webhook_endpoints", _webhook_endpoint_create_params.WebhookEndpointCreateParams),
        (
            "/v1/webhook_endpoints/{webhook_endpoint}",
            _webhook_endpoint_update_params.WebhookEndpointUpdateParams,
        ),
    ],
)
def test_request_parameters_match_the_sdk(template: str, params: type) -> None:
    sdk = _sdk(params)
    spec = _spec(_body(template))
    if template == "/v1/webhook_endpoints":
        # the SDK lists every API version it knows: the spec's enum plus its own
        assert sdk.pop("api_version") == spec.pop("api_version")
    assert sdk == spec


def test_registration_responses_match_the_sdk() -> None:
    registration = data.spec()["components"]["schemas"]["tax.registration"]
    sdk = _sdk(_registration.Registration.CountryOptions)
    assert sdk == _spec(registration["properties"]["country_options"])


def test_the_additions_agree_with_the_subsets_own_list() -> None:
    """``x-newer-version-additions`` in the verbatim subset names what the patches add."""
    listed = data.openapi()["x-newer-version-additions"]
    body = _body("/v1/tax/registrations")["properties"]["country_options"]["properties"]
    base = data.openapi()["paths"]["/v1/tax/registrations"]["post"]["requestBody"]["content"]
    old = base["application/x-www-form-urlencoded"]["schema"]["properties"]["country_options"]
    added = {
        code: schema["properties"]["type"]["enum"][0]
        for code, schema in body.items()
        if code not in old["properties"]
    }
    assert added == listed["tax.registrations.country_options"]
    us_types = set(body["us"]["properties"]["type"]["enum"])
    old_types = set(old["properties"]["us"]["properties"]["type"]["enum"])
    assert sorted(us_types - old_types) == listed["tax.registrations.country_options.us.type"]
    new_props = set(body["us"]["properties"]) - set(old["properties"]["us"]["properties"])
    assert sorted(new_props) == listed["tax.registrations.country_options.us.properties"]
    assert sorted(data.newer_events()) == listed["webhook_endpoints.enabled_events"]

"""Every response of every operation validates against its schema in the packaged spec.

The spec is :func:`reconciler.data.spec`: ``openapi-subset.json`` brought to the pinned
(newest) API version, whose registrations the emulator also serves.

A scenario drives all 11 operations (successes and errors) and each response is checked with
``OAS30Validator`` against the operation's ``200`` or ``default`` schema. Stripe marks some enums
``nullable`` without listing ``null`` (FACTS.md, last section), so those enums get ``None`` added;
likewise a ``nullable`` ``anyOf`` (``tax.settings.head_office``) gets a ``null`` alternative,
because the validator applies ``nullable`` only to a schema's own ``type``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import EVENT
from openapi_schema_validator import OAS30Validator

from reconciler.data import spec as newest_spec
from reconciler.emulator.api import _match

pytestmark = pytest.mark.filterwarnings("error")


def _allow_null_in_nullable_enums(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") and "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        if node.get("nullable") and "anyOf" in node and {"enum": [None]} not in node["anyOf"]:
            node["anyOf"] = [*node["anyOf"], {"enum": [None]}]
        for value in node.values():
            _allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_in_nullable_enums(value)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document = copy.deepcopy(newest_spec())
    _allow_null_in_nullable_enums(document)
    return document


def _schema_for(spec: dict[str, Any], method: str, template: str, status: int) -> dict[str, Any]:
    responses = spec["paths"][template][method]["responses"]
    entry = responses.get(str(status), responses["default"])
    schema: dict[str, Any] = entry["content"]["application/json"]["schema"]
    return schema


def _scenario(client: httpx.Client) -> Iterator[httpx.Response]:
    created = client.post(
        "/v1/webhook_endpoints",
        data={
            "url": "https://example.com/h",
            "enabled_events[]": EVENT,
            "description": "d",
            "metadata[k]": "v",
            "api_version": "2026-09-30.endive",
        },
    )
    yield created
    endpoint = created.json()["id"]
    yield client.post("/v1/webhook_endpoints", data={"url": "https://e.com"})
    yield client.get("/v1/webhook_endpoints", params={"limit": 1})
    yield client.get("/v1/webhook_endpoints", params={"limit": 0})
    yield client.get(f"/v1/webhook_endpoints/{endpoint}")
    yield client.post(
        f"/v1/webhook_endpoints/{endpoint}", data={"disabled": "true", "description": ""}
    )
    yield client.post(f"/v1/webhook_endpoints/{endpoint}", data={"connect": "true"})
    yield client.delete(f"/v1/webhook_endpoints/{endpoint}")
    yield client.delete(f"/v1/webhook_endpoints/{endpoint}")
    yield client.get(f"/v1/webhook_endpoints/{endpoint}")
    yield client.get("/v1/tax/settings")
    yield client.get("/v1/tax/settings", params={"expand[]": "x", "extra": "1"})
    yield client.post("/v1/tax/settings", data={"defaults[tax_behavior]": "inclusive"})
    yield client.post(
        "/v1/tax/settings",
        data={"head_office[address][country]": "DE", "head_office[address][city]": "Berlin"},
    )
    yield client.post("/v1/tax/settings", data={"defaults[tax_behavior]": "never"})
    shapes = [
        {
            "country": "US",
            "country_options[us][type]": "state_sales_tax",
            "country_options[us][state]": "CA",
            "country_options[us][state_sales_tax][elections][0][type]": "local_use_tax",
        },
        {
            "country": "US",
            "country_options[us][type]": "resort_tax",
            "country_options[us][state]": "FL",
            "country_options[us][resort_tax][jurisdiction]": "FL-1",
        },
        {
            "country": "CA",
            "country_options[ca][type]": "province_standard",
            "country_options[ca][province_standard][province]": "ON",
        },
        {"country": "FR", "country_options[fr][type]": "oss_union"},
        {
            "country": "ES",
            "country_options[es][type]": "standard",
            "country_options[es][standard][place_of_supply_scheme]": "standard",
        },
        {
            "country": "GB",
            "country_options[gb][type]": "standard",
            "country_options[gb][standard][place_of_supply_scheme]": "inbound_goods",
        },
        {"country": "AL", "country_options[al][type]": "standard"},
        {"country": "TH", "country_options[th][type]": "simplified"},
        {"country": "MX", "country_options[mx][type]": "simplified", "expires_at": "4102444800"},
        {"country": "GH", "country_options[gh][type]": "simplified"},
        {
            "country": "US",
            "country_options[us][type]": "utility_users_tax",
            "country_options[us][state]": "CA",
            "country_options[us][utility_users_tax][jurisdiction]": "LOSANGELES",
        },
    ]
    ids = []
    for shape in shapes:
        response = client.post("/v1/tax/registrations", data={"active_from": "now", **shape})
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
        yield response
    yield client.post("/v1/tax/registrations", data={"active_from": "now", **shapes[0]})
    yield client.post("/v1/tax/registrations", data={"country": "US"})
    yield client.get("/v1/tax/registrations", params={"status": "all", "limit": 100})
    yield client.get("/v1/tax/registrations", params={"status": "expired"})
    yield client.get("/v1/tax/registrations", params={"status": "bogus"})
    yield client.get(f"/v1/tax/registrations/{ids[0]}")
    yield client.get("/v1/tax/registrations/taxreg_missing")
    yield client.post(f"/v1/tax/registrations/{ids[1]}", data={"expires_at": "4102444800"})
    yield client.post(f"/v1/tax/registrations/{ids[1]}", data={"expires_at": ""})
    yield client.post(f"/v1/tax/registrations/{ids[1]}", data={"country": "DE"})
    yield client.post("/v1/webhook_endpoints", json={"url": "x"})
    yield client.get("/v1/webhook_endpoints", headers={"Authorization": "Bearer pk_test_1"})


def test_every_response_matches_its_schema(client: httpx.Client, spec: dict[str, Any]) -> None:
    seen: set[tuple[str, str, bool]] = set()
    for response in _scenario(client):
        method = response.request.method.lower()
        route, _ = _match(method, response.request.url.path)
        schema = _schema_for(spec, method, route.template, response.status_code)
        validator = OAS30Validator({**schema, "components": spec["components"]})
        errors = [error.message for error in validator.iter_errors(response.json())]
        assert errors == [], (method, response.request.url.path, response.status_code, errors)
        seen.add((method, route.template, response.status_code == 200))
    operations = {(method, template) for template, item in spec["paths"].items() for method in item}
    assert {(m, t) for m, t, ok in seen if ok} == operations
    assert {(m, t) for m, t, ok in seen if not ok} == operations


def test_a_wrong_shape_would_fail(spec: dict[str, Any]) -> None:
    schema = _schema_for(spec, "get", "/v1/webhook_endpoints/{webhook_endpoint}", 200)
    validator = OAS30Validator({**schema, "components": spec["components"]})
    assert not validator.is_valid({"id": "we_1", "object": "webhook_endpoint"})

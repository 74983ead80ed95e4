"""``resolve_ref``: following ``$ref`` in the packaged OpenAPI subset (emulator and manifests)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.data import openapi, resolve_ref

SCHEMAS = "#/components/schemas/"


@pytest.mark.parametrize(
    "name", ["tax_product_registrations_resource_country_options", "tax.registration"]
)
def test_a_ref_resolves_to_the_named_component(name: str) -> None:
    assert resolve_ref({"$ref": SCHEMAS + name}) is openapi()["components"]["schemas"][name]


def test_a_schema_without_ref_is_returned_as_is() -> None:
    schema: dict[str, Any] = {"type": "string", "enum": ["a"]}
    assert resolve_ref(schema) is schema


def test_country_options_of_a_registration_resolve_to_per_country_properties() -> None:
    registration = openapi()["components"]["schemas"]["tax.registration"]
    options = resolve_ref(registration["properties"]["country_options"])
    assert "$ref" not in options
    assert {"us", "de", "ca"} <= set(options["properties"])

"""``resolve_ref``: following ``$ref`` in the packaged spec (emulator and manifests).

It resolves within :func:`reconciler.data.spec`, the subset brought to the pinned API version,
so refs to components only that version has resolve too.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.data import openapi, resolve_ref, spec

SCHEMAS = "#/components/schemas/"


@pytest.mark.parametrize(
    "name", ["tax_product_registrations_resource_country_options", "tax.registration"]
)
def test_a_ref_resolves_to_the_named_component(name: str) -> None:
    assert resolve_ref({"$ref": SCHEMAS + name}) is spec()["components"]["schemas"][name]


def test_a_component_only_the_pinned_version_has_resolves() -> None:
    name = "tax_product_registrations_resource_country_options_us_utility_users_tax"
    assert name not in openapi()["components"]["schemas"]
    assert resolve_ref({"$ref": SCHEMAS + name})["required"] == ["jurisdiction"]


def test_a_schema_without_ref_is_returned_as_is() -> None:
    schema: dict[str, Any] = {"type": "string", "enum": ["a"]}
    assert resolve_ref(schema) is schema


def test_country_options_of_a_registration_resolve_to_per_country_properties() -> None:
    registration = openapi()["components"]["schemas"]["tax.registration"]
    options = resolve_ref(registration["properties"]["country_options"])
    assert "$ref" not in options
    assert {"us", "de", "ca", "bw"} <= set(options["properties"])

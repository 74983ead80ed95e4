"""``response_view``: the part of declared country_options a registration response can carry."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.manifest.country_options import country_option_schemas, response_view

#: FACTS.md §3: the "default" group whose response schema has no `standard`
DEFAULT_GROUP = (
    "al",
    "ao",
    "aw",
    "ba",
    "bb",
    "bd",
    "bf",
    "bh",
    "bs",
    "cd",
    "et",
    "gn",
    "is",
    "me",
    "mk",
    "mr",
    "om",
    "rs",
    "sr",
    "uy",
    "za",
    "zw",
)


@pytest.mark.parametrize("code", DEFAULT_GROUP)
def test_default_group_drops_standard(code: str) -> None:
    options = {code: {"type": "standard", "standard": {"place_of_supply_scheme": "standard"}}}
    assert response_view(code.upper(), options) == {code: {"type": "standard"}}


@pytest.mark.parametrize(
    ("country", "options"),
    [
        ("AE", {"ae": {"type": "standard", "standard": {"place_of_supply_scheme": "standard"}}}),
        (
            "DE",
            {"de": {"type": "standard", "standard": {"place_of_supply_scheme": "small_seller"}}},
        ),
        ("DE", {"de": {"type": "oss_union"}}),
        (
            "US",
            {
                "us": {
                    "type": "state_sales_tax",
                    "state": "CA",
                    "state_sales_tax": {
                        "elections": [{"type": "local_use_tax", "jurisdiction": "123"}]
                    },
                }
            },
        ),
        ("CA", {"ca": {"type": "province_standard", "province_standard": {"province": "BC"}}}),
        ("XX", {"xx": {"type": "anything", "extra": 1}}),  # unknown to the spec: left whole
    ],
)
def test_options_the_response_carries_are_kept(country: str, options: dict[str, Any]) -> None:
    assert response_view(country, options) == options


def test_every_country_keeps_its_type() -> None:
    # a regression in the $ref walk would drop everything and hide every real change
    for code, schema in country_option_schemas().items():
        kind = schema["properties"]["type"]["enum"][0]
        assert response_view(code.upper(), {code: {"type": kind}}) == {code: {"type": kind}}

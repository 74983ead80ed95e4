"""Live normalisation and identity helpers, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.resources.tax_registration import TaxRegistrationHandler, drop_none, natural_key
from reconciler.resources.tax_settings import TaxSettingsHandler
from reconciler.resources.webhook_endpoint import WebhookEndpointHandler, tagged_name


@pytest.mark.parametrize(
    ("country", "options", "key"),
    [
        ("US", {"us": {"type": "state_sales_tax", "state": "CA"}}, "US/state_sales_tax/CA"),
        (
            "US",
            {
                "us": {
                    "type": "local_amusement_tax",
                    "state": "IL",
                    "local_amusement_tax": {"jurisdiction": "14000"},
                }
            },
            "US/local_amusement_tax/IL/14000",
        ),
        (
            "CA",
            {"ca": {"type": "province_standard", "province_standard": {"province": "QC"}}},
            "CA/province_standard/QC",
        ),
        ("de", {"de": {"type": "oss_union"}}, "DE/oss_union"),
        ("GB", {"gb": {"type": "standard", "standard": None}}, "GB/standard"),
    ],
)
def test_natural_key(country: str, options: dict[str, Any], key: str) -> None:
    assert natural_key(country, options) == key


@pytest.mark.parametrize(
    ("metadata", "name"),
    [
        ({"managed_by": "stripe-reconciler", "reconciler_name": "orders"}, "orders"),
        ({"managed_by": "someone-else", "reconciler_name": "orders"}, None),
        ({"reconciler_name": "orders"}, None),
        ({"managed_by": "stripe-reconciler"}, None),
        ({}, None),
    ],
)
def test_tagged_name(metadata: dict[str, str], name: str | None) -> None:
    assert tagged_name({"id": "we_1", "metadata": metadata}) == name


def test_webhook_normalisation_ignores_order_null_description_and_secret() -> None:
    handler = WebhookEndpointHandler()
    a = handler.normalize_live(
        {
            "id": "we_1",
            "url": "https://x.io",
            "enabled_events": ["b", "a", "a"],
            "description": None,
            "status": "enabled",
            "secret": "whsec_" + "z" * 10,
            "metadata": {"reconciler_connect": "true"},
        }
    )
    assert a == {
        "id": "we_1",
        "url": "https://x.io",
        "enabled_events": ["a", "b"],
        "description": "",
        "disabled": False,
        "api_version": None,
        "connect": True,
        "metadata": {"reconciler_connect": "true"},
    }


def test_registration_normalisation_keeps_only_its_country_and_drops_nulls() -> None:
    now = TaxRegistrationHandler().normalize_live(
        {
            "id": "taxreg_1",
            "country": "US",
            "country_options": {"us": {"state": "CA", "type": "state_sales_tax", "x": None}},
            "active_from": 1,
            "expires_at": None,
            "status": "active",
        }
    )
    assert now["country_options"] == {"us": {"state": "CA", "type": "state_sales_tax"}}
    assert drop_none({"a": None, "b": [{"c": None, "d": 1}]}) == {"b": [{"d": 1}]}


def test_settings_normalisation_reads_pending_fields() -> None:
    now = TaxSettingsHandler().normalize_live(
        {
            "defaults": {"tax_behavior": None, "tax_code": None},
            "head_office": None,
            "status": "pending",
            "status_details": {"pending": {"missing_fields": ["head_office"]}},
        }
    )
    assert now["status"] == "pending"
    assert now["missing_fields"] == ["head_office"]
    assert now["fields"]["head_office.address.country"] is None


def test_one_natural_key_for_validation_and_planning() -> None:
    from reconciler.manifest import country_options
    from reconciler.resources import tax_registration

    assert tax_registration.natural_key is country_options.natural_key


def test_validation_reserves_exactly_the_keys_the_handler_writes() -> None:
    from reconciler.manifest.checks import RESERVED_METADATA_KEYS
    from reconciler.resources.webhook_endpoint import RESERVED_KEYS

    assert sorted(RESERVED_METADATA_KEYS) == sorted(RESERVED_KEYS)

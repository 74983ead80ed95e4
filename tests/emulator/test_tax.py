"""Tax settings (FACTS.md §2), in-process. Registrations: test_tax_registrations.py."""

from __future__ import annotations

import httpx
import pytest
from emulator_helpers import LIVE_KEY


def test_settings_pending_until_head_office(client: httpx.Client) -> None:
    initial = client.get("/v1/tax/settings").json()
    assert initial == {
        "object": "tax.settings",
        "defaults": {"provider": "stripe", "tax_behavior": None, "tax_code": None},
        "head_office": None,
        "livemode": False,
        "status": "pending",
        "status_details": {"pending": {"missing_fields": ["head_office"]}},
    }
    defaults_only = client.post(
        "/v1/tax/settings",
        data={"defaults[tax_behavior]": "exclusive", "defaults[tax_code]": "txcd_10000000"},
    ).json()
    assert defaults_only["status"] == "pending"
    assert defaults_only["defaults"]["tax_behavior"] == "exclusive"
    active = client.post(
        "/v1/tax/settings",
        data={"head_office[address][country]": "US", "head_office[address][state]": "CA"},
    ).json()
    assert active["status"] == "active"
    assert active["status_details"] == {"active": {}}
    assert active["defaults"]["tax_code"] == "txcd_10000000"
    assert active["head_office"]["address"] == {
        "city": None,
        "country": "US",
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": "CA",
    }
    assert client.get("/v1/tax/settings", auth=(LIVE_KEY, "")).json()["status"] == "pending"


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"defaults[tax_code]": ""}, "defaults[tax_code]"),
        ({"defaults[tax_behavior]": ""}, "defaults[tax_behavior]"),
        ({"head_office[address][line2]": ""}, "head_office[address][line2]"),
        ({"head_office[address][country]": ""}, "head_office[address][country]"),
        ({"defaults[tax_behavior]": "sometimes"}, "defaults[tax_behavior]"),
        ({"defaults[color]": "red"}, "defaults[color]"),
    ],
)
def test_settings_fields_cannot_be_unset_or_invalid(
    client: httpx.Client, data: dict[str, str], param: str
) -> None:
    client.post(
        "/v1/tax/settings",
        data={"defaults[tax_code]": "txcd_10000000", "head_office[address][country]": "US"},
    )
    response = client.post("/v1/tax/settings", data=data)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_head_office_without_a_country_is_accepted(client: httpx.Client) -> None:
    """No part of the address param is required in the spec (FACTS.md §2, issue 14 item 10)."""
    response = client.post("/v1/tax/settings", data={"head_office[address][city]": "Paris"})
    assert response.status_code == 200, response.text
    assert response.json()["head_office"]["address"]["city"] == "Paris"
    assert response.json()["status"] == "active"


def test_head_office_replaces_the_whole_address(client: httpx.Client) -> None:
    """``head_office`` is one param: the parts a request leaves out do not survive (the
    emulator's assumption where Stripe's docs are silent; issue 14 item 2)."""
    client.post(
        "/v1/tax/settings",
        data={
            "head_office[address][country]": "US",
            "head_office[address][state]": "CA",
            "head_office[address][city]": "San Francisco",
            "head_office[address][line1]": "510 Townsend St",
            "head_office[address][postal_code]": "94103",
        },
    )
    moved = client.post(
        "/v1/tax/settings",
        data={
            "head_office[address][country]": "DE",
            "head_office[address][city]": "Berlin",
            "head_office[address][postal_code]": "10117",
            "head_office[address][line1]": "Unter den Linden 1",
        },
    )
    assert moved.json()["head_office"]["address"] == {
        "city": "Berlin",
        "country": "DE",
        "line1": "Unter den Linden 1",
        "line2": None,
        "postal_code": "10117",
        "state": None,
    }


def test_empty_string_message_matches_stripe(client: httpx.Client) -> None:
    response = client.post("/v1/tax/settings", data={"defaults[tax_code]": ""})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "You passed an empty string for 'defaults[tax_code]'. We assume empty values are an "
        "attempt to unset a parameter; however 'defaults[tax_code]' cannot be unset. You should "
        "remove 'defaults[tax_code]' from your request or supply a non-empty value."
    )

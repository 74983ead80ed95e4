"""Tax settings (FACTS.md §2) and tax registrations (FACTS.md §3), in-process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_helpers import LIVE_KEY

from reconciler.emulator.app import Runtime

US_CA = {
    "country": "US",
    "country_options[us][type]": "state_sales_tax",
    "country_options[us][state]": "CA",
    "active_from": "now",
}


def register(client: httpx.Client, data: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/tax/registrations", data=data)


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


def test_head_office_needs_a_country(client: httpx.Client) -> None:
    response = client.post("/v1/tax/settings", data={"head_office[address][city]": "Paris"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "head_office[address][country]"


def test_registration_created_active_and_listed(client: httpx.Client, runtime: Runtime) -> None:
    created = register(client, US_CA)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["id"].startswith("taxreg_")
    assert body["status"] == "active"
    assert body["country_options"] == {"us": {"state": "CA", "type": "state_sales_tax"}}
    assert abs(body["active_from"] - runtime.store.now()) < 5
    assert body["expires_at"] is None
    listed = client.get("/v1/tax/registrations", params={"status": "active"}).json()
    assert [r["id"] for r in listed["data"]] == [body["id"]]
    assert listed["url"] == "/v1/tax/registrations"


def test_status_follows_the_emulator_clock(client: httpx.Client, runtime: Runtime) -> None:
    now = int(runtime.store.now())
    scheduled = register(
        client, {**US_CA, "active_from": str(now + 3600), "expires_at": str(now + 7200)}
    ).json()
    assert scheduled["status"] == "scheduled"
    path = f"/v1/tax/registrations/{scheduled['id']}"
    runtime.store.advance(3600)
    assert client.get(path).json()["status"] == "active"
    assert client.get("/v1/tax/registrations", params={"status": "scheduled"}).json()["data"] == []
    runtime.store.advance(3600)
    assert client.get(path).json()["status"] == "expired"
    expired = client.get("/v1/tax/registrations", params={"status": "expired"}).json()["data"]
    assert [r["id"] for r in expired] == [scheduled["id"]]


def test_expires_at_timestamp_and_clear(client: httpx.Client) -> None:
    registration = register(client, US_CA).json()
    path = f"/v1/tax/registrations/{registration['id']}"
    later = registration["active_from"] + 86400
    assert client.post(path, data={"expires_at": str(later)}).json()["expires_at"] == later
    assert client.post(path, data={"expires_at": ""}).json()["expires_at"] is None
    too_early = client.post(path, data={"expires_at": str(registration["active_from"])})
    assert too_early.status_code == 400
    assert too_early.json()["error"]["param"] == "expires_at"


def test_expire_now_then_expiry_is_permanent(client: httpx.Client, runtime: Runtime) -> None:
    registration = register(client, US_CA).json()
    runtime.store.advance(60)
    path = f"/v1/tax/registrations/{registration['id']}"
    before = int(runtime.store.now())
    expired = client.post(path, data={"expires_at": "now"}).json()
    after = int(runtime.store.now())
    assert expired["status"] == "expired"
    assert before <= expired["expires_at"] <= after
    again = client.post(path, data={"expires_at": ""})
    assert again.status_code == 400
    assert again.json()["error"]["message"] == (
        "This registration has expired and can no longer be updated."
    )
    # The same jurisdiction can be registered again once the old one is expired.
    assert register(client, US_CA).status_code == 200


def test_duplicate_active_registration_rejected(client: httpx.Client) -> None:
    assert register(client, US_CA).status_code == 200
    duplicate = register(client, US_CA)
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["param"] == "country_options"
    other_state = register(client, {**US_CA, "country_options[us][state]": "NY"})
    assert other_state.status_code == 200


@pytest.mark.parametrize(
    ("current", "successor", "status"),
    [
        # [active_from, expires_at) windows, in days from now; None = open-ended
        ((0, 30), (30, None), 200),  # scheduled to start when the current one ends
        ((0, 30), (29, None), 400),  # one day of overlap
        ((0, None), (30, None), 400),  # the current one never ends
        ((10, 20), (0, 10), 200),  # a window that ends when the scheduled one starts
        ((10, 20), (0, 11), 400),
    ],
)
def test_same_jurisdiction_is_refused_only_for_overlapping_windows(
    client: httpx.Client,
    runtime: Runtime,
    current: tuple[int, int | None],
    successor: tuple[int, int | None],
    status: int,
) -> None:
    now = int(runtime.store.now())
    day = 86400

    def window(days: tuple[int, int | None]) -> dict[str, Any]:
        start, end = days
        data: dict[str, Any] = {**US_CA, "active_from": now + 60 + start * day}
        if end is not None:
            data["expires_at"] = now + 60 + end * day
        return data

    assert register(client, window(current)).status_code == 200
    response = register(client, window(successor))
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("data", "param"),
    [
        (
            {"country": "US", "country_options[us][type]": "state_sales_tax"},
            "country_options[us][state]",
        ),
        (
            {
                "country": "US",
                "country_options[us][state]": "WA",
                "country_options[us][type]": "luxury_tax",
            },
            "country_options[us][luxury_tax][jurisdiction]",
        ),
        (
            {"country": "CA", "country_options[ca][type]": "province_standard"},
            "country_options[ca][province_standard][province]",
        ),
        ({"country": "DE", "country_options[de][type]": "vat"}, "country_options[de][type]"),
        ({"country": "DE", "country_options[fr][type]": "standard"}, "country_options"),
        ({"country": "ZZ", "country_options[zz][type]": "standard"}, "country_options[zz]"),
        (
            {"country": "GB", "country_options[gb][type]": "standard", "expires_at": "now"},
            "expires_at",
        ),
        (
            {"country": "GB", "country_options[gb][type]": "standard", "active_from": "later"},
            "active_from",
        ),
        (
            {
                "country": "GB",
                "country_options[gb][type]": "standard",
                "active_from": "100",
                "expires_at": "50",
            },
            "expires_at",
        ),
    ],
)
def test_registration_shapes_rejected(
    client: httpx.Client, data: dict[str, str], param: str
) -> None:
    response = register(client, {"active_from": "now", **data})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("data", "options"),
    [
        (
            {
                "country": "US",
                "country_options[us][state]": "WA",
                "country_options[us][type]": "luxury_tax",
                "country_options[us][luxury_tax][jurisdiction]": "WA-1",
            },
            {"us": {"state": "WA", "type": "luxury_tax", "luxury_tax": {"jurisdiction": "WA-1"}}},
        ),
        (
            {
                "country": "CA",
                "country_options[ca][type]": "province_standard",
                "country_options[ca][province_standard][province]": "BC",
            },
            {"ca": {"type": "province_standard", "province_standard": {"province": "BC"}}},
        ),
        (
            {
                "country": "DE",
                "country_options[de][type]": "standard",
                "country_options[de][standard][place_of_supply_scheme]": "small_seller",
            },
            {"de": {"type": "standard", "standard": {"place_of_supply_scheme": "small_seller"}}},
        ),
        (
            {
                "country": "US",
                "country_options[us][state]": "TX",
                "country_options[us][type]": "state_sales_tax",
                "country_options[us][state_sales_tax][elections][0][type]": "local_use_tax",
            },
            {
                "us": {
                    "state": "TX",
                    "type": "state_sales_tax",
                    "state_sales_tax": {"elections": [{"type": "local_use_tax"}]},
                }
            },
        ),
        (
            {
                "country": "AL",
                "country_options[al][type]": "standard",
                "country_options[al][standard][place_of_supply_scheme]": "standard",
            },
            {"al": {"type": "standard"}},
        ),
        (
            {"country": "in", "country_options[in][type]": "simplified"},
            {"in": {"type": "simplified"}},
        ),
        # 2026-10-28.endive (stripe-python 16.1.0): four simplified countries, US utility users
        *(
            (
                {"country": code.upper(), f"country_options[{code}][type]": "simplified"},
                {code: {"type": "simplified"}},
            )
            for code in ("bw", "ci", "gh", "mu")
        ),
        (
            {
                "country": "US",
                "country_options[us][state]": "CA",
                "country_options[us][type]": "utility_users_tax",
                "country_options[us][utility_users_tax][jurisdiction]": "LOSANGELES",
            },
            {
                "us": {
                    "state": "CA",
                    "type": "utility_users_tax",
                    "utility_users_tax": {"jurisdiction": "LOSANGELES"},
                }
            },
        ),
    ],
)
def test_registration_shapes_accepted(
    client: httpx.Client, data: dict[str, str], options: dict[str, Any]
) -> None:
    response = register(client, {"active_from": "now", **data})
    assert response.status_code == 200, response.text
    assert response.json()["country_options"] == options
    assert response.json()["country"] == data["country"].upper()


@pytest.mark.parametrize("field", ["country", "country_options[us][state]"])
def test_create_only_registration_fields_rejected_on_update(
    client: httpx.Client, field: str
) -> None:
    registration = register(client, US_CA).json()
    response = client.post(f"/v1/tax/registrations/{registration['id']}", data={field: "NY"})
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"] == f"Received unknown parameter: {field.split('[')[0]}"
    )


def test_registrations_have_no_delete(client: httpx.Client) -> None:
    registration = register(client, US_CA).json()
    response = client.delete(f"/v1/tax/registrations/{registration['id']}")
    assert response.status_code == 404
    assert (
        "Unrecognized request URL (DELETE: /v1/tax/registrations/"
        in response.json()["error"]["message"]
    )
    assert client.get(f"/v1/tax/registrations/{registration['id']}").status_code == 200


def test_unknown_registration_is_resource_missing(client: httpx.Client) -> None:
    response = client.get("/v1/tax/registrations/taxreg_nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_list_without_status_shows_every_registration(
    client: httpx.Client, runtime: Runtime
) -> None:
    first = register(client, US_CA).json()
    runtime.store.advance(60)
    client.post(f"/v1/tax/registrations/{first['id']}", data={"expires_at": "now"})
    second = register(client, US_CA).json()
    listed = client.get("/v1/tax/registrations").json()["data"]
    assert [(r["id"], r["status"]) for r in listed] == [
        (second["id"], "active"),
        (first["id"], "expired"),
    ]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("digital_excise_tax", 200),  # a newer API version's value (x-newer-version-additions)
        ("made_up_tax", 400),  # bypass-validation enums are still closed to unknown values
    ],
)
def test_bypass_validation_enums_accept_newer_values_only(
    client: httpx.Client, value: str, status: int
) -> None:
    response = register(client, {**US_CA, "country_options[us][type]": value})
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]["param"] == "country_options[us][type]"


def test_empty_string_message_matches_stripe(client: httpx.Client) -> None:
    response = client.post("/v1/tax/settings", data={"defaults[tax_code]": ""})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "You passed an empty string for 'defaults[tax_code]'. We assume empty values are an "
        "attempt to unset a parameter; however 'defaults[tax_code]' cannot be unset. You should "
        "remove 'defaults[tax_code]' from your request or supply a non-empty value."
    )

"""Tax registrations (FACTS.md §3), in-process, on an account with a head office.

Each rule the emulator enforces has its source in ``reconciler/emulator/resources/
tax_registrations.py``; where Stripe's docs are silent the emulator accepts, and so do these
tests (a second overlapping registration, an update of an expired one, a US type without its
sub-object).
"""

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


def register(client: httpx.Client, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.post("/v1/tax/registrations", data=data, **kwargs)


@pytest.fixture(autouse=True)
def head_office(client: httpx.Client) -> None:
    """Stripe needs a head office before any registration (FACTS.md §3 [S19])."""
    response = client.post("/v1/tax/settings", data={"head_office[address][country]": "US"})
    assert response.status_code == 200, response.text


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
    too_early = client.post(path, data={"expires_at": str(registration["active_from"] - 1)})
    assert too_early.status_code == 400
    assert too_early.json()["error"]["param"] == "expires_at"


def test_expires_at_now_in_the_second_it_started(client: httpx.Client, runtime: Runtime) -> None:
    """Stripe's update docs: "either now … or a timestamp"; its example is -d expires_at=now.
    An end equal to the start is accepted: the registration ends at once (issue 14 item 3)."""
    registration = register(client, US_CA).json()
    path = f"/v1/tax/registrations/{registration['id']}"
    ended = client.post(path, data={"expires_at": "now"})
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert body["status"] == "expired"
    assert body["expires_at"] - body["active_from"] in (0, 1)  # the same second, or the next


def test_an_expired_registration_can_still_be_updated(
    client: httpx.Client, runtime: Runtime
) -> None:
    """Nothing documents that an expiry is final (FACTS.md §3), so the emulator accepts."""
    registration = register(client, US_CA).json()
    runtime.store.advance(60)
    path = f"/v1/tax/registrations/{registration['id']}"
    before = int(runtime.store.now())
    expired = client.post(path, data={"expires_at": "now"}).json()
    after = int(runtime.store.now())
    assert expired["status"] == "expired"
    assert before <= expired["expires_at"] <= after
    reopened = client.post(path, data={"expires_at": ""})
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["expires_at"]) == ("active", None)
    # The same jurisdiction can be registered again (whether or not another one runs).
    assert register(client, US_CA).status_code == 200


def test_a_second_registration_of_one_jurisdiction_is_accepted(client: httpx.Client) -> None:
    """Stripe's docs say nothing about duplicates (FACTS.md §3): preventing them is the
    reconciler's job, and a refusal here would hide a duplicate it creates (issue 14 item 5)."""
    first = register(client, US_CA)
    second = register(client, US_CA)
    assert (first.status_code, second.status_code) == (200, 200), second.text
    listed = client.get("/v1/tax/registrations", params={"status": "active"}).json()["data"]
    assert {r["id"] for r in listed} == {first.json()["id"], second.json()["id"]}


def test_duplicates_are_refused_only_with_the_option(
    client: httpx.Client, runtime: Runtime
) -> None:
    assert register(client, US_CA).status_code == 200
    runtime.configure({"refuse_duplicate_registrations": True})
    duplicate = register(client, US_CA)
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["param"] == "country_options"
    assert "refuse_duplicate_registrations" in duplicate.json()["error"]["message"]
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
def test_the_option_refuses_only_overlapping_windows(
    client: httpx.Client,
    runtime: Runtime,
    current: tuple[int, int | None],
    successor: tuple[int, int | None],
    status: int,
) -> None:
    runtime.configure({"refuse_duplicate_registrations": True})
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
                "country_options[us][luxury_tax]": "WA-1",
            },
            "country_options[us][luxury_tax]",
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
                "active_from": "4102444800",
                "expires_at": "4102444799",
            },
            "expires_at",
        ),
        # create: "now … or a future timestamp" (stripe-python 16.1.0 create params)
        (
            {"country": "GB", "country_options[gb][type]": "standard", "active_from": "100"},
            "active_from",
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
        # The spec marks type sub-objects optional, and no doc asks for them (issue 14 item 10)
        (
            {
                "country": "US",
                "country_options[us][state]": "WA",
                "country_options[us][type]": "luxury_tax",
            },
            {"us": {"state": "WA", "type": "luxury_tax"}},
        ),
        (
            {"country": "CA", "country_options[ca][type]": "province_standard"},
            {"ca": {"type": "province_standard"}},
        ),
        # an end equal to a future start: a registration that is never active
        (
            {
                "country": "GB",
                "country_options[gb][type]": "standard",
                "active_from": "4102444800",
                "expires_at": "4102444800",
            },
            {"gb": {"type": "standard"}},
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


def test_a_create_needs_a_head_office(client: httpx.Client) -> None:
    """FACTS.md §3 [S19]: "Without a defined head office address, an invalid_request_error
    gets triggered." Live mode is another namespace, with no head office set."""
    refused = register(client, US_CA, auth=(LIVE_KEY, ""))
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert "head office" in refused.json()["error"]["message"]
    assert client.get("/v1/tax/registrations", auth=(LIVE_KEY, "")).json()["data"] == []
    client.post(
        "/v1/tax/settings", data={"head_office[address][country]": "US"}, auth=(LIVE_KEY, "")
    )
    assert register(client, US_CA, auth=(LIVE_KEY, "")).status_code == 200


@pytest.mark.parametrize(("offset", "status"), [(-1, 400), (0, 200), (3600, 200)])
def test_a_create_starts_now_or_later(
    client: httpx.Client, runtime: Runtime, offset: int, status: int
) -> None:
    """Create docs: "now … or a future timestamp"; Stripe cannot backdate a registration."""
    start = int(runtime.store.now()) + offset
    response = register(client, {**US_CA, "active_from": str(start)})
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]["param"] == "active_from"


def test_an_update_takes_a_past_timestamp(client: httpx.Client, runtime: Runtime) -> None:
    """Update docs: "either now … or a timestamp" (no "future"): accepted."""
    registration = register(client, US_CA).json()
    earlier = registration["active_from"] - 86400
    moved = client.post(
        f"/v1/tax/registrations/{registration['id']}", data={"active_from": earlier}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["active_from"] == earlier

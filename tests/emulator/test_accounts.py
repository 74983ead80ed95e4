"""A platform's connected accounts: ``POST /v1/accounts``, ``GET /v1/accounts`` (paginated like
every Stripe list), who ``Stripe-Account`` reaches, and each connected account's own objects and
rate-limit budget (with an optional platform-wide one)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from emulator_helpers import EVENT, OTHER_KEY, TEST_KEY

from reconciler.emulator.config import ConfigError
from reconciler.emulator.server import EmulatorServer


def create_account(client: httpx.Client, **data: str) -> dict[str, Any]:
    response = client.post("/v1/accounts", data={"type": "custom", **data})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_created_account_has_its_metadata_and_is_listed(client: httpx.Client) -> None:
    account = create_account(
        client, **{"metadata[stripe_reconciler]": "on", "country": "DE", "email": "a@example.com"}
    )
    assert account["id"].startswith("acct_1")
    assert account["object"] == "account"
    assert (account["country"], account["email"], account["type"]) == (
        "DE",
        "a@example.com",
        "custom",
    )
    assert account["metadata"] == {"stripe_reconciler": "on"}
    listed = client.get("/v1/accounts").json()
    assert listed == {"object": "list", "data": [account], "has_more": False, "url": "/v1/accounts"}


def test_the_list_pages_newest_first(client: httpx.Client) -> None:
    made = [create_account(client)["id"] for _ in range(5)]
    first = client.get("/v1/accounts", params={"limit": 2}).json()
    assert [a["id"] for a in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    rest = client.get(
        "/v1/accounts", params={"limit": 100, "starting_after": first["data"][-1]["id"]}
    ).json()
    assert [a["id"] for a in rest["data"]] == made[::-1][2:]
    assert rest["has_more"] is False
    bad = client.get("/v1/accounts", params={"limit": 101})
    assert bad.status_code == 400


def test_accounts_belong_to_the_platform_that_made_them(client: httpx.Client) -> None:
    create_account(client)
    other = client.get("/v1/accounts", auth=(OTHER_KEY, "")).json()
    assert other["data"] == []
    # a connected account is not a platform: its list is empty
    mine = client.get("/v1/accounts").json()["data"][0]["id"]
    under = client.get("/v1/accounts", headers={"Stripe-Account": mine}).json()
    assert under["data"] == []


def test_stripe_account_reaches_the_created_account_and_its_own_objects(
    client: httpx.Client,
) -> None:
    first, second = create_account(client, **{"metadata[shop]": "a"}), create_account(client)
    looked_up = client.get("/v1/account", headers={"Stripe-Account": first["id"]}).json()
    assert looked_up == first
    response = client.post(
        "/v1/webhook_endpoints",
        data={"url": "https://a.example.com/hook", "enabled_events[]": EVENT},
        headers={"Stripe-Account": first["id"]},
    )
    assert response.status_code == 200
    listed = {
        account: client.get("/v1/webhook_endpoints", headers={"Stripe-Account": account}).json()[
            "data"
        ]
        for account in (first["id"], second["id"])
    }
    assert [e["url"] for e in listed[first["id"]]] == ["https://a.example.com/hook"]
    assert listed[second["id"]] == []
    assert client.get("/v1/webhook_endpoints").json()["data"] == []  # nor the platform's


def test_unknown_create_parameters_are_refused(client: httpx.Client) -> None:
    response = client.post("/v1/accounts", data={"type": "custom", "capabilities[x]": "y"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    wrong = client.post("/v1/accounts", data={"type": "other"})
    assert wrong.status_code == 400


def test_any_account_id_is_reachable_unless_the_knob_refuses_unknown_ones(
    client: httpx.Client, runtime: Any
) -> None:
    assert client.get("/v1/account", headers={"Stripe-Account": "acct_1Never"}).status_code == 200
    created = create_account(client)["id"]
    runtime.configure({"refuse_unknown_accounts": True})
    refused = client.get("/v1/account", headers={"Stripe-Account": "acct_1Never"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "account_invalid"
    assert "does not have access to account 'acct_1Never'" in refused.json()["error"]["message"]
    assert client.get("/v1/account", headers={"Stripe-Account": created}).status_code == 200
    assert client.get("/v1/account").status_code == 200  # the platform itself
    # another platform may not act on this platform's connected account
    other = client.get("/v1/account", headers={"Stripe-Account": created}, auth=(OTHER_KEY, ""))
    assert other.status_code == 403


def test_each_connected_account_has_its_own_budget(client: httpx.Client, runtime: Any) -> None:
    first, second = create_account(client)["id"], create_account(client)["id"]
    runtime.configure({"rate_limit": 2})

    def get(account: str) -> int:
        return client.get("/v1/tax/settings", headers={"Stripe-Account": account}).status_code

    assert [get(first), get(first), get(first), get(second), get(second)] == [
        200,
        200,
        429,
        200,
        200,
    ]


def test_a_platform_budget_counts_every_connected_account(
    client: httpx.Client, runtime: Any
) -> None:
    first, second = create_account(client)["id"], create_account(client)["id"]
    runtime.configure({"platform_rate_limit": 3})
    codes = [
        client.get("/v1/tax/settings", headers={"Stripe-Account": account}).status_code
        for account in (first, second, first, second)
    ]
    assert codes == [200, 200, 200, 429]
    other = client.get("/v1/tax/settings", auth=(OTHER_KEY, ""))
    assert other.status_code == 200  # another platform's budget


def test_a_platform_budget_per_operation(client: httpx.Client, runtime: Any) -> None:
    first, second = create_account(client)["id"], create_account(client)["id"]
    runtime.configure({"platform_operation_rate_limit": 1})
    settings = client.get("/v1/tax/settings", headers={"Stripe-Account": first})
    again = client.get("/v1/tax/settings", headers={"Stripe-Account": second})
    endpoints = client.get("/v1/webhook_endpoints", headers={"Stripe-Account": second})
    assert [settings.status_code, again.status_code, endpoints.status_code] == [200, 429, 200]
    assert again.headers["stripe-rate-limited-reason"] == "endpoint-rate"


@pytest.mark.parametrize("knob", ["platform_rate_limit", "platform_operation_rate_limit"])
def test_platform_knobs_are_checked(runtime: Any, knob: str) -> None:
    with pytest.raises(ConfigError, match=knob):
        runtime.configure({knob: 0})


def test_stripe_python_creates_and_lists_connected_accounts(emulator: EmulatorServer) -> None:
    client = stripe.StripeClient(
        TEST_KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0
    )
    created = client.v1.accounts.create(
        params={
            "controller": {"stripe_dashboard": {"type": "none"}, "fees": {"payer": "application"}},
            "country": "US",
            "email": "shop@example.com",
            "metadata": {"stripe_reconciler": "on"},
        }
    )
    assert created.metadata is not None and created.metadata.to_dict() == {
        "stripe_reconciler": "on"
    }
    listed = client.v1.accounts.list(params={"limit": 3})
    assert [account.id for account in listed.data] == [created.id]
    fetched = client.v1.accounts.list(params={"created": {"gte": created.created or 0}})
    assert [account.id for account in fetched.data] == [created.id]
    settings = client.v1.tax.settings.retrieve(options={"stripe_account": created.id})
    assert settings.status == "pending"

"""Auth, accounts, modes, headers, form bodies and parameter validation, in-process."""

from __future__ import annotations

import base64

import httpx
import pytest
from emulator_helpers import EVENT, LIVE_KEY, OTHER_KEY, TEST_KEY, create_endpoint

from reconciler.emulator.auth import account_for_key_body
from reconciler.emulator.forms import parse_pairs


def get_without_default_auth(
    client: httpx.Client, path: str, headers: dict[str, str]
) -> httpx.Response:
    request = client.build_request("GET", path, headers=headers)
    return client.send(request, auth=None)


@pytest.mark.parametrize(
    ("header", "message_start"),
    [
        ({}, "You did not provide an API key."),
        ({"Authorization": "Bearer"}, "Invalid Authorization header."),
        ({"Authorization": "Token sk_test_abc"}, "Invalid Authorization header."),
        ({"Authorization": "Bearer sk_test_"}, "Invalid API Key provided: sk_test_****"),
        ({"Authorization": "Bearer nonsense"}, "Invalid API Key provided: ****"),
        ({"Authorization": "Basic !!!"}, "Invalid API Key provided: the Basic credentials"),
        (
            {"Authorization": "Bearer pk_test_abc"},
            "This API call cannot be made with a publishable",
        ),
    ],
)
def test_missing_or_malformed_keys_are_401(
    client: httpx.Client, header: dict[str, str], message_start: str
) -> None:
    response = get_without_default_auth(client, "/v1/webhook_endpoints", header)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(message_start)
    assert "abc" not in error["message"]
    assert response.headers["request-id"].startswith("req_")


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_bearer_and_basic_auth_reach_the_same_account(client: httpx.Client, scheme: str) -> None:
    if scheme == "bearer":
        header = f"Bearer {TEST_KEY}"
    else:
        header = "Basic " + base64.b64encode(f"{TEST_KEY}:".encode()).decode()
    response = get_without_default_auth(client, "/v1/account", {"Authorization": header})
    assert response.status_code == 200
    assert response.json()["id"] == account_for_key_body("e" * 12)
    assert response.json()["object"] == "account"


def test_same_key_body_same_account_across_modes_and_key_types(client: httpx.Client) -> None:
    ids = {
        client.get("/v1/account", auth=(key, "")).json()["id"]
        for key in (TEST_KEY, LIVE_KEY, "rk_test_" + "e" * 12)
    }
    assert len(ids) == 1
    assert client.get("/v1/account", auth=(OTHER_KEY, "")).json()["id"] not in ids


def test_modes_and_accounts_never_share_objects(client: httpx.Client) -> None:
    endpoint = create_endpoint(client)
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    assert client.get(path).status_code == 200
    assert client.get(path, auth=(LIVE_KEY, "")).status_code == 404
    assert client.get(path, auth=(OTHER_KEY, "")).status_code == 404
    connected = {"Stripe-Account": "acct_1Connected"}
    assert client.get(path, headers=connected).status_code == 404
    assert client.get("/v1/webhook_endpoints", auth=(LIVE_KEY, "")).json()["data"] == []


def test_stripe_account_selects_its_own_namespace(client: httpx.Client) -> None:
    connected = {"Stripe-Account": "acct_1Connected"}
    assert client.get("/v1/account", headers=connected).json()["id"] == "acct_1Connected"
    endpoint = create_endpoint(client, url="https://c.example/h")
    assert endpoint["url"] == "https://c.example/h"
    mine = client.post(
        "/v1/webhook_endpoints",
        data={"url": "https://connected.example/h", "enabled_events[]": EVENT},
        headers=connected,
    ).json()
    listed = client.get("/v1/webhook_endpoints", headers=connected).json()["data"]
    assert [e["id"] for e in listed] == [mine["id"]]
    bad = client.get("/v1/account", headers={"Stripe-Account": "not-an-account"})
    assert bad.status_code == 403
    assert bad.json()["error"]["code"] == "account_invalid"


def test_every_response_has_request_id_and_accepts_stripe_version(client: httpx.Client) -> None:
    ok = client.get("/v1/tax/settings", headers={"Stripe-Version": "2026-09-30.endive"})
    assert ok.status_code == 200
    assert ok.headers["stripe-version"] == "2026-09-30.endive"
    newer = client.get("/v1/tax/settings", headers={"Stripe-Version": "2026-10-28.endive"})
    assert newer.status_code == 200
    bad = client.get("/v1/tax/settings", headers={"Stripe-Version": "1999-01-01"})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Invalid Stripe API version: 1999-01-01"
    missing = client.get("/v1/nothing")
    ids = {r.headers["request-id"] for r in (ok, newer, bad, missing)}
    assert len(ids) == 4 and all(i.startswith("req_") for i in ids)


def test_unknown_path_is_stripe_404(client: httpx.Client) -> None:
    response = client.get("/v1/customers")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "type": "invalid_request_error",
            "message": "Unrecognized request URL (GET: /v1/customers). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        }
    }


def test_json_bodies_are_rejected(client: httpx.Client) -> None:
    response = client.post(
        "/v1/webhook_endpoints", json={"url": "https://e.com", "enabled_events": [EVENT]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        "Invalid request (check that your POST content type is application/x-www-form-urlencoded)"
    )
    assert client.get("/v1/webhook_endpoints").json()["data"] == []


@pytest.mark.parametrize(
    ("data", "param", "message"),
    [
        ({"colour": "red"}, "colour", "Received unknown parameter: colour"),
        (
            {"metadata[a][b]": "x"},
            "metadata[a]",
            "Invalid string: metadata[a] must be a single value",
        ),
        ({"url": "https://e.com"}, "enabled_events", "Missing required param: enabled_events."),
        ({"enabled_events[]": EVENT}, "url", "Missing required param: url."),
        ({"connect": "yes"}, "connect", "Invalid boolean: yes"),
        (
            {"description": "d" * 5001},
            "description",
            "Invalid string: description must be at most 5000 characters",
        ),
        (
            {"url[x]": "y", "enabled_events[]": EVENT},
            "url",
            "Invalid string: url must be a single value",
        ),
        (
            {"url": "https://e.com", "enabled_events": "charge.succeeded"},
            "enabled_events",
            "Invalid array: enabled_events must be sent as enabled_events[]= or enabled_events[0]=",
        ),
        ({"api_version": "2010-01-01"}, "api_version", None),
    ],
)
def test_parameter_validation(
    client: httpx.Client, data: dict[str, str], param: str, message: str | None
) -> None:
    body = {"url": "https://e.com", "enabled_events[]": EVENT}
    if param in ("url", "enabled_events"):
        body = {}  # these cases send their own complete body
    body.update(data)
    response = client.post("/v1/webhook_endpoints", data=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if message is not None:
        assert error["message"] == message


def test_unknown_query_parameter_on_list(client: httpx.Client) -> None:
    response = client.get("/v1/webhook_endpoints", params={"status": "enabled"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Received unknown parameter: status"


def test_expand_is_accepted(client: httpx.Client) -> None:
    assert client.get("/v1/webhook_endpoints", params={"expand[]": "data"}).status_code == 200


@pytest.mark.parametrize(
    ("pairs", "parsed"),
    [
        ([("a[b][c]", "1")], {"a": {"b": {"c": "1"}}}),
        ([("a[]", "x"), ("a[]", "y")], {"a": ["x", "y"]}),
        ([("a[0]", "x"), ("a[1]", "y")], {"a": {"0": "x", "1": "y"}}),
        (
            [("e[0][type]", "t"), ("e[0][j]", "J"), ("e[1][type]", "u")],
            {"e": {"0": {"type": "t", "j": "J"}, "1": {"type": "u"}}},
        ),
        (
            [("e[][type]", "t"), ("e[][j]", "J"), ("e[][type]", "u")],
            {"e": [{"type": "t", "j": "J"}, {"type": "u"}]},
        ),
        ([("flag", "true"), ("metadata", "")], {"flag": "true", "metadata": ""}),
    ],
)
def test_bracket_notation(pairs: list[tuple[str, str]], parsed: dict[str, object]) -> None:
    assert parse_pairs(pairs) == parsed


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", "1"), ("a[b]", "2")],
        [("a[b]", "2"), ("a", "1")],
        [("a[]", "1"), ("a[0]", "2")],
        [("a]b", "1")],
    ],
)
def test_bracket_conflicts_are_400(pairs: list[tuple[str, str]]) -> None:
    from reconciler.emulator.errors import EmulatedError

    with pytest.raises(EmulatedError) as raised:
        parse_pairs(pairs)
    assert raised.value.status == 400


def test_indexed_and_appended_arrays_are_equivalent(client: httpx.Client) -> None:
    appended = create_endpoint(client, **{"enabled_events[]": ["invoice.paid", EVENT]})
    indexed = client.post(
        "/v1/webhook_endpoints",
        data={
            "url": "https://e.com",
            "enabled_events[1]": EVENT,
            "enabled_events[0]": "invoice.paid",
        },
    ).json()
    assert appended["enabled_events"] == indexed["enabled_events"] == ["invoice.paid", EVENT]


def test_numeric_metadata_keys_stay_keys(client: httpx.Client) -> None:
    endpoint = create_endpoint(client, **{"metadata[0]": "zero", "metadata[10]": "ten"})
    assert endpoint["metadata"] == {"0": "zero", "10": "ten"}

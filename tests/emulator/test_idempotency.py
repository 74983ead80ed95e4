"""Idempotency-Key semantics (FACTS.md §4), in-process."""

from __future__ import annotations

import httpx
import pytest
from emulator_helpers import EVENT, LIVE_KEY

from reconciler.emulator.app import Runtime
from reconciler.emulator.errors import ConnectionDropped

BODY = {"url": "https://example.com/h", "enabled_events[]": EVENT}


def post(
    client: httpx.Client, key: str, data: dict[str, str] | None = None, **kw: str
) -> httpx.Response:
    return client.post(
        "/v1/webhook_endpoints", data=data or BODY, headers={"Idempotency-Key": key, **kw}
    )


def count(client: httpx.Client, key: str = "") -> int:
    auth = (LIVE_KEY, "") if key == "live" else None
    response = client.get("/v1/webhook_endpoints", **({"auth": auth} if auth else {}))
    return len(response.json()["data"])


def test_replay_returns_the_stored_first_response(client: httpx.Client) -> None:
    first = post(client, "k1")
    second = post(client, "k1")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.json()["secret"] == first.json()["secret"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert first.headers["request-id"] != second.headers["request-id"]
    assert count(client) == 1


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/v1/webhook_endpoints", {**BODY, "description": "other"}),
        ("/v1/tax/settings", {"defaults[tax_behavior]": "exclusive"}),
    ],
)
def test_same_key_other_params_or_path_is_idempotency_error(
    client: httpx.Client, path: str, data: dict[str, str]
) -> None:
    post(client, "k2")
    response = client.post(path, data=data, headers={"Idempotency-Key": "k2"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "idempotency_error"
    assert "can only be used with the same parameters" in error["message"]


def test_keys_are_scoped_by_mode_and_account(client: httpx.Client) -> None:
    post(client, "shared")
    live = client.post(
        "/v1/webhook_endpoints",
        data=BODY,
        headers={"Idempotency-Key": "shared"},
        auth=(LIVE_KEY, ""),
    )
    assert live.status_code == 200 and "idempotent-replayed" not in live.headers
    connected = post(client, "shared", **{"Stripe-Account": "acct_1Other"})
    assert "idempotent-replayed" not in connected.headers
    assert count(client) == 1


def test_keys_expire_after_24_hours_of_emulator_clock(
    client: httpx.Client, runtime: Runtime
) -> None:
    post(client, "k3")
    runtime.store.advance(24 * 3600 - 60)
    assert post(client, "k3").headers.get("idempotent-replayed") == "true"
    runtime.store.advance(120)
    fresh = post(client, "k3")
    assert "idempotent-replayed" not in fresh.headers
    assert count(client) == 2


def test_validation_errors_are_not_stored(client: httpx.Client) -> None:
    bad = post(client, "k4", {"url": "https://e.com"})
    assert bad.status_code == 400
    good = post(client, "k4")
    assert good.status_code == 200 and "idempotent-replayed" not in good.headers


def test_business_errors_are_stored_and_replayed(client: httpx.Client) -> None:
    missing = client.post(
        "/v1/webhook_endpoints/we_missing",
        data={"description": "x"},
        headers={"Idempotency-Key": "k5"},
    )
    again = client.post(
        "/v1/webhook_endpoints/we_missing",
        data={"description": "x"},
        headers={"Idempotency-Key": "k5"},
    )
    assert missing.status_code == again.status_code == 404
    assert again.headers["idempotent-replayed"] == "true"


def test_429_is_not_stored(client: httpx.Client, runtime: Runtime) -> None:
    runtime.configure({"schedule": [{"request": 1, "fault": "429"}]})
    limited = post(client, "k6")
    assert limited.status_code == 429
    retried = post(client, "k6")
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers


def test_drop_after_commits_and_retry_replays(client: httpx.Client, runtime: Runtime) -> None:
    runtime.configure({"schedule": [{"request": 1, "fault": "drop_after"}]})
    with pytest.raises(ConnectionDropped) as raised:
        post(client, "k7")
    assert isinstance(raised.value, httpx.RemoteProtocolError)
    assert count(client) == 1
    retried = post(client, "k7")
    assert retried.status_code == 200
    assert retried.headers["idempotent-replayed"] == "true"
    assert count(client) == 1
    entries = runtime.log
    assert [(e["fault"], e["status"], e["replayed"]) for e in entries[:3]] == [
        ("drop_after", 200, False),
        (None, 200, False),
        (None, 200, True),
    ]


def test_keys_on_get_have_no_effect(client: httpx.Client) -> None:
    client.get("/v1/webhook_endpoints", headers={"Idempotency-Key": "g"})
    assert post(client, "g").status_code == 200


def test_overlong_key_rejected(client: httpx.Client) -> None:
    response = post(client, "k" * 256)
    assert response.status_code == 400
    assert count(client) == 0

"""Webhook endpoint behaviour (FACTS.md §1), in-process."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import LIVE_KEY
from httpx import Client

EVENT = "charge.succeeded"


def create(client: Client, **extra: Any) -> dict[str, Any]:
    data = {"url": "https://example.com/hook", "enabled_events[]": EVENT, **extra}
    response = client.post("/v1/webhook_endpoints", data=data)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_returns_secret_once_and_never_connect(client: Client) -> None:
    created = create(client, connect="true", description="Orders")
    assert created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_")
    assert "connect" not in created
    assert created["status"] == "enabled"
    assert created["description"] == "Orders"
    assert created["api_version"] is None
    fetched = client.get(f"/v1/webhook_endpoints/{created['id']}").json()
    assert "secret" not in fetched and "connect" not in fetched
    listed = client.get("/v1/webhook_endpoints").json()["data"][0]
    assert "secret" not in listed and listed["id"] == created["id"]
    updated = client.post(f"/v1/webhook_endpoints/{created['id']}", data={"url": "https://x.io/h"})
    assert "secret" not in updated.json()


def test_disabled_is_update_only_and_drives_status(client: Client) -> None:
    response = client.post(
        "/v1/webhook_endpoints",
        data={"url": "https://e.com", "enabled_events[]": EVENT, "disabled": "true"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "disabled"
    endpoint = create(client)
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    assert client.post(path, data={"disabled": "true"}).json()["status"] == "disabled"
    assert client.get(path).json()["status"] == "disabled"
    assert client.post(path, data={"disabled": "false"}).json()["status"] == "enabled"


@pytest.mark.parametrize(
    ("field", "value"), [("api_version", "2026-09-30.endive"), ("connect", "true")]
)
def test_create_only_fields_rejected_on_update(client: Client, field: str, value: str) -> None:
    endpoint = create(client)
    response = client.post(f"/v1/webhook_endpoints/{endpoint['id']}", data={field: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "message": f"Received unknown parameter: {field}",
        "param": field,
        "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
    }


def test_api_version_is_kept_on_create(client: Client) -> None:
    assert create(client, api_version="2024-06-20")["api_version"] == "2024-06-20"


def test_seventeenth_endpoint_per_account_and_mode_is_rejected(client: Client) -> None:
    for _ in range(16):
        create(client)
    response = client.post(
        "/v1/webhook_endpoints", data={"url": "https://e.com/17", "enabled_events[]": EVENT}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "maximum of 16 test webhook endpoints" in response.json()["error"]["message"]
    live = client.post(
        "/v1/webhook_endpoints",
        data={"url": "https://e.com/live", "enabled_events[]": EVENT},
        auth=(LIVE_KEY, ""),
    )
    assert live.status_code == 200
    assert live.json()["livemode"] is True


def test_delete_returns_stub_then_404(client: Client) -> None:
    endpoint = create(client)
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    first = client.delete(path)
    assert first.status_code == 200
    assert first.json() == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    second = client.delete(path)
    assert second.status_code == 404
    assert second.json()["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": f"No such webhook_endpoint: '{endpoint['id']}'",
        "param": "id",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
    }
    assert client.get(path).status_code == 404


def test_metadata_merges_unsets_and_clears(client: Client) -> None:
    endpoint = create(client, **{"metadata[a]": "1", "metadata[b]": "2"})
    assert endpoint["metadata"] == {"a": "1", "b": "2"}
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    merged = client.post(path, data={"metadata[c]": "3", "metadata[a]": ""}).json()
    assert merged["metadata"] == {"b": "2", "c": "3"}
    cleared = client.post(path, data={"metadata": ""}).json()
    assert cleared["metadata"] == {}


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"metadata[" + "k" * 41 + "]": "v"}, "metadata[" + "k" * 41 + "]"),
        ({"metadata[k]": "v" * 501}, "metadata[k]"),
        ({f"metadata[k{i}]": "v" for i in range(51)}, "metadata"),
    ],
)
def test_metadata_limits(client: Client, data: dict[str, str], param: str) -> None:
    response = client.post(
        "/v1/webhook_endpoints", data={"url": "https://e.com", "enabled_events[]": EVENT, **data}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_update_replaces_events_and_clears_description(client: Client) -> None:
    endpoint = create(client, description="old")
    response = client.post(
        f"/v1/webhook_endpoints/{endpoint['id']}",
        data={"enabled_events[0]": "invoice.paid", "enabled_events[1]": "*", "description": ""},
    )
    assert response.json()["enabled_events"] == ["invoice.paid", "*"]
    assert response.json()["description"] is None


def test_list_is_newest_first_and_paginates(client: Client) -> None:
    ids = [create(client)["id"] for _ in range(5)]
    newest_first = list(reversed(ids))
    page = client.get("/v1/webhook_endpoints", params={"limit": 2}).json()
    assert [e["id"] for e in page["data"]] == newest_first[:2]
    assert page["has_more"] is True and page["url"] == "/v1/webhook_endpoints"
    after = client.get(
        "/v1/webhook_endpoints", params={"limit": 2, "starting_after": newest_first[1]}
    ).json()
    assert [e["id"] for e in after["data"]] == newest_first[2:4]
    assert after["has_more"] is True
    last = client.get(
        "/v1/webhook_endpoints", params={"limit": 2, "starting_after": newest_first[3]}
    ).json()
    assert [e["id"] for e in last["data"]] == newest_first[4:]
    assert last["has_more"] is False
    before = client.get(
        "/v1/webhook_endpoints", params={"limit": 2, "ending_before": newest_first[4]}
    ).json()
    assert [e["id"] for e in before["data"]] == newest_first[2:4]
    assert before["has_more"] is True


@pytest.mark.parametrize(("limit", "status"), [("0", 400), ("101", 400), ("100", 200), ("1", 200)])
def test_list_limit_range(client: Client, limit: str, status: int) -> None:
    response = client.get("/v1/webhook_endpoints", params={"limit": limit})
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"]["param"] == "limit"


def test_unknown_event_rejected_but_newer_version_event_accepted(client: Client) -> None:
    bad = client.post(
        "/v1/webhook_endpoints", data={"url": "https://e.com", "enabled_events[]": "charge.nope"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "enabled_events[0]"
    newer = create(client, **{"enabled_events[]": "three_d_secure.authentication.succeeded"})
    assert newer["enabled_events"] == ["three_d_secure.authentication.succeeded"]


def test_cursor_rules(client: Client) -> None:
    endpoint = create(client)
    both = client.get(
        "/v1/webhook_endpoints",
        params={"starting_after": endpoint["id"], "ending_before": endpoint["id"]},
    )
    assert both.status_code == 400
    assert both.json()["error"]["param"] == "ending_before"
    unknown = client.get("/v1/webhook_endpoints", params={"starting_after": "we_unknown"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "resource_missing"
    assert unknown.json()["error"]["param"] == "starting_after"


@pytest.mark.parametrize("url", ["ftp://example.com/h", "example.com/h", "https://"])
def test_url_must_be_absolute_http(client: Client, url: str) -> None:
    response = client.post("/v1/webhook_endpoints", data={"url": url, "enabled_events[]": EVENT})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "url"

"""``/v2/core/event_destinations`` against stripe-python's own v2 client, over a real socket.

``stripe.StripeClient(...).v2.core.event_destinations`` drives create, retrieve, update, list
(with its own next_page_url paging), enable, disable and delete; every answer is held against
the object's shape as stripe-python 16.1.0 declares it (``data.component``), and the v2 rules
(JSON bodies, Stripe-Context, idempotency, faults) are checked from the outside.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
import stripe
from emulator_helpers import LIVE_KEY, TEST_KEY
from openapi_schema_validator import OAS30Validator

from reconciler.data import component
from reconciler.emulator.server import EmulatorServer

PATH = "/v2/core/event_destinations"
THIN = ["v1.billing.meter.error_report_triggered"]


def make_client(emulator: EmulatorServer, **options: Any) -> stripe.StripeClient:
    return stripe.StripeClient(
        TEST_KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0, **options
    )


def _shape() -> dict[str, Any]:
    schema = copy.deepcopy(component("v2.core.event_destination"))
    return schema


def assert_shape(obj: Any) -> None:
    """The answer is an EventDestination as stripe-python declares it."""
    data = obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj
    OAS30Validator(_shape()).validate(data)


def webhook_params(**extra: Any) -> dict[str, Any]:
    return {
        "name": "orders",
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": THIN,
        "webhook_endpoint": {"url": "https://example.com/hook"},
        "include": ["webhook_endpoint.signing_secret", "webhook_endpoint.url"],
        **extra,
    }


def test_stripe_pythons_v2_client_drives_the_whole_lifecycle(emulator: EmulatorServer) -> None:
    client = make_client(emulator)
    service = client.v2.core.event_destinations
    created = service.create(webhook_params(metadata={"team": "core", "gone": "x"}))
    assert_shape(created)
    assert created.id.startswith("ed_")
    assert created.webhook_endpoint is not None
    assert (created.webhook_endpoint.signing_secret or "").startswith("whsec_")
    assert created.webhook_endpoint.url == "https://example.com/hook"
    assert isinstance(created.created, str) and created.status == "enabled"

    fetched = service.retrieve(created.id)  # not asked: the URL stays redacted
    assert_shape(fetched)
    assert fetched.webhook_endpoint is not None
    assert (fetched.webhook_endpoint.url, fetched.webhook_endpoint.signing_secret) == (None, None)
    assert service.retrieve(created.id, {"include": ["webhook_endpoint.url"]}).webhook_endpoint

    updated = service.update(
        created.id,
        {
            "description": "orders",
            "metadata": {"gone": None},  # v2 unsets a key with null
            "webhook_endpoint": {"url": "https://example.com/new"},
            "include": ["webhook_endpoint.url"],
        },
    )
    assert_shape(updated)
    assert updated.metadata is not None and updated.metadata.to_dict() == {"team": "core"}
    assert updated.webhook_endpoint is not None
    assert updated.webhook_endpoint.url == "https://example.com/new"

    disabled = service.disable(created.id)
    assert_shape(disabled)
    assert disabled.status == "disabled"
    assert disabled.status_details is not None and disabled.status_details.disabled is not None
    assert disabled.status_details.disabled.reason == "user"
    enabled = service.enable(created.id)
    assert (enabled.status, enabled.status_details) == ("enabled", None)

    deleted = service.delete(created.id)
    assert deleted.id == created.id
    with pytest.raises(stripe.InvalidRequestError) as missing:
        service.delete(created.id)
    assert missing.value.http_status == 404
    requests = emulator.requests()
    assert {r["method"] for r in requests} == {"GET", "POST", "DELETE"}
    # stripe-python keys every v2 POST and DELETE; the emulator reads the key on both
    assert all(r["idempotency_key"] for r in requests if r["method"] != "GET")


def test_lists_page_by_next_page_url_with_what_was_asked(emulator: EmulatorServer) -> None:
    service = make_client(emulator).v2.core.event_destinations
    made = [service.create(webhook_params(name=f"d{i}")).id for i in range(5)]
    page = service.list({"limit": 2, "include": ["webhook_endpoint.url"]})
    assert [d.id for d in page.data] == made[::-1][:2]  # newest first
    assert page.next_page_url is not None
    every = list(page.auto_paging_iter())
    assert [d.id for d in every] == made[::-1]
    for destination in every:
        assert_shape(destination)
        assert destination.webhook_endpoint is not None
        assert destination.webhook_endpoint.url == "https://example.com/hook"


def test_eventbridge_and_event_grid_targets(emulator: EmulatorServer) -> None:
    service = make_client(emulator).v2.core.event_destinations
    bridge = service.create(
        {
            "name": "bus",
            "type": "amazon_eventbridge",
            "event_payload": "snapshot",
            "snapshot_api_version": "2026-10-28.endive",
            "enabled_events": ["invoice.paid"],
            "amazon_eventbridge": {"aws_account_id": "123456789012", "aws_region": "eu-west-1"},
        }
    )
    assert_shape(bridge)
    assert bridge.amazon_eventbridge is not None
    # the region is a create parameter the object never returns
    assert "aws_region" not in bridge.amazon_eventbridge.to_dict()
    assert bridge.amazon_eventbridge.aws_event_source_status == "pending"
    assert ":eu-west-1:" in bridge.amazon_eventbridge.aws_event_source_arn
    assert bridge.webhook_endpoint is None
    grid = service.create(
        {
            "name": "grid",
            "type": "azure_event_grid",
            "event_payload": "thin",
            "enabled_events": THIN,
            "azure_event_grid": {
                "azure_subscription_id": "sub",
                "azure_resource_group_name": "rg",
                "azure_region": "westeurope",
            },
        }
    )
    assert_shape(grid)
    assert grid.azure_event_grid is not None
    assert grid.azure_event_grid.azure_partner_topic_status == "never_activated"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "amazon_eventbridge"}, "amazon_eventbridge"),  # the type's section is needed
        ({"snapshot_api_version": "2026-10-28.endive"}, "snapshot_api_version"),  # thin
        ({"webhook_endpoint": {"url": "ftp://example.com"}}, "webhook_endpoint.url"),
        ({"colour": "red"}, "colour"),
        ({"enabled_events": "v1.x"}, "enabled_events"),
        ({"include": ["webhook_endpoint.nonsense"]}, "include[0]"),
    ],
)
def test_what_the_sdk_documents_is_refused(
    emulator: EmulatorServer, params: dict[str, Any], field: str
) -> None:
    service = make_client(emulator).v2.core.event_destinations
    with pytest.raises(stripe.InvalidRequestError) as refused:
        service.create(webhook_params(**params))
    assert refused.value.http_status == 400
    assert refused.value.code == "invalid_fields"
    assert field in str(refused.value.user_message or refused.value)


def test_live_mode_wants_https(emulator: EmulatorServer) -> None:
    client = stripe.StripeClient(
        LIVE_KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v2.core.event_destinations.create(
            webhook_params(webhook_endpoint={"url": "http://example.com/hook"})
        )


def test_stripe_context_is_the_connected_account(emulator: EmulatorServer) -> None:
    platform = make_client(emulator).v2.core.event_destinations
    connected = make_client(emulator, stripe_context="acct_1Connected").v2.core.event_destinations
    made = connected.create(webhook_params())
    assert [d.id for d in connected.list().data] == [made.id]
    assert platform.list().data == []
    assert emulator.requests()[0]["account"] == "acct_1Connected"


def _http(emulator: EmulatorServer) -> httpx.Client:
    return httpx.Client(base_url=emulator.base_url, headers={"Authorization": f"Bearer {TEST_KEY}"})


def test_a_form_body_is_refused(emulator: EmulatorServer) -> None:
    with _http(emulator) as http:
        answer = http.post(PATH, data={"name": "x"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_fields"
    assert set(answer.json()["error"]) == {"type", "code", "message"}


def test_a_key_replays_a_success_with_its_secret_and_runs_a_failure_again(
    emulator: EmulatorServer,
) -> None:
    body = json.dumps(webhook_params())
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k-create"}
    with _http(emulator) as http:
        first = http.post(PATH, content=body, headers=headers)
        again = http.post(PATH, content=body, headers=headers)
        other = http.post(PATH, content=json.dumps(webhook_params(name="x")), headers=headers)
        missing = f"{PATH}/ed_missing/disable"
        failed = [
            http.post(missing, content="{}", headers={**headers, "Idempotency-Key": "k-fail"})
            for _ in range(2)
        ]
    assert again.json() == first.json()  # the signing secret comes back with the replay
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
    assert [f.status_code for f in failed] == [404, 404]
    # v2 stores no failure: the retry ran again instead of being replayed
    assert [r["replayed"] for r in emulator.requests() if r["path"] == missing] == [False, False]
    listed = make_client(emulator).v2.core.event_destinations.list().data
    assert len(listed) == 1


def test_injected_faults_reach_v2_paths(emulator: EmulatorServer) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": "500"}])
    service = make_client(emulator).v2.core.event_destinations
    with pytest.raises(stripe.APIError):
        service.list()
    assert service.list().data == []
    assert [r["fault"] for r in emulator.requests()] == ["500", None]


def test_the_state_dump_masks_v2_signing_secrets(emulator: EmulatorServer) -> None:
    with _http(emulator) as http:
        http.post(
            PATH,
            content=json.dumps(webhook_params()),
            headers={"Content-Type": "application/json", "Idempotency-Key": "k"},
        )
    stored = json.dumps(emulator.state()["idempotency"])
    assert "whsec_[redacted]" in stored


@pytest.mark.parametrize(("action", "status"), [("disable", "disabled"), ("enable", "enabled")])
def test_enable_and_disable_take_faults_and_keys_as_every_write(
    emulator: EmulatorServer, action: str, status: str
) -> None:
    """``…/enable`` and ``…/disable`` run the same pipeline: an injected 500 is not stored for
    its key, so the retry with that key runs; a retry after a success replays it."""
    made = make_client(emulator).v2.core.event_destinations.create(webhook_params())
    if action == "enable":
        make_client(emulator).v2.core.event_destinations.disable(made.id)
    path = f"{PATH}/{made.id}/{action}"
    emulator.configure(schedule=[{"request": 1, "fault": "500"}])
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"k-{action}"}
    with _http(emulator) as http:
        answers = [http.post(path, content="{}", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [500, 200, 200]
    assert answers[1].json() == answers[2].json()
    assert answers[1].json()["status"] == status
    assert answers[2].headers["idempotent-replayed"] == "true"
    logged = [(r["fault"], r["replayed"]) for r in emulator.requests() if r["path"] == path]
    assert logged == [("500", False), (None, False), (None, True)]
    assert make_client(emulator).v2.core.event_destinations.retrieve(made.id).status == status

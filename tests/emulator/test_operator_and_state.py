"""Operator knobs and ``--state-file`` persistence, in-process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import BlockingPortal
from emulator_helpers import EVENT, TEST_KEY, SyncASGITransport, create_endpoint

from reconciler.emulator.app import Runtime, create_app
from reconciler.emulator.auth import account_for_key_body
from reconciler.emulator.config import ConfigError, EmulatorConfig


def client_for(state_file: Path, portal: BlockingPortal) -> httpx.Client:
    app = create_app(EmulatorConfig(state_file=str(state_file)))
    transport = SyncASGITransport(app, portal)
    return httpx.Client(transport=transport, base_url="http://emulator", auth=(TEST_KEY, ""))


def test_state_is_written_after_every_mutation_and_reloaded(
    tmp_path: Path, portal: BlockingPortal
) -> None:
    state = tmp_path / "nested" / "state.json"
    with client_for(state, portal) as first:
        first.get("/v1/webhook_endpoints")
        assert not state.exists()  # reads never write
        endpoint = create_endpoint(first)
        saved = json.loads(state.read_text())
        first.post(f"/v1/webhook_endpoints/{endpoint['id']}", data={"description": "changed"})
        first.post("/_emulator/clock", json={"advance": 7200})
    assert saved["format"] == 1
    assert "whsec_" not in state.read_text()
    with client_for(state, portal) as second:
        fetched = second.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
        now = second.get("/_emulator/clock").json()["now"]
    assert fetched["description"] == "changed"
    assert now - time.time() > 7100
    assert [p.name for p in state.parent.iterdir()] == ["state.json"]


def test_idempotency_survives_a_restart(tmp_path: Path, portal: BlockingPortal) -> None:
    state = tmp_path / "state.json"
    data = {"url": "https://example.com/h", "enabled_events[]": EVENT}
    headers = {"Idempotency-Key": "restart"}
    with client_for(state, portal) as first:
        created = first.post("/v1/webhook_endpoints", data=data, headers=headers).json()
    with client_for(state, portal) as second:
        replay = second.post("/v1/webhook_endpoints", data=data, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == created["id"]


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": 99}'])
def test_unreadable_state_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(ConfigError, match="cannot load the emulator state file"):
        create_app(EmulatorConfig(state_file=str(state)))


def test_reset_clears_the_state_file(tmp_path: Path, portal: BlockingPortal) -> None:
    state = tmp_path / "state.json"
    with client_for(state, portal) as client:
        create_endpoint(client)
        client.post("/_emulator/reset")
    assert json.loads(state.read_text())["namespaces"] == {}


def test_paths_filter_limits_faults(client: httpx.Client, runtime: Runtime) -> None:
    runtime.configure({"rates": {"503": 1.0}, "paths": ["/v1/tax/"]})
    assert client.get("/v1/webhook_endpoints").status_code == 200
    failed = client.get("/v1/tax/settings")
    assert failed.status_code == 503
    assert failed.json()["error"]["type"] == "api_error"
    assert failed.headers["stripe-should-retry"] == "true"


def test_schedule_counts_from_when_it_was_set(client: httpx.Client, runtime: Runtime) -> None:
    client.get("/v1/account")
    runtime.configure({"schedule": [{"request": 2, "fault": "500"}]})
    statuses = [client.get("/v1/account").status_code for _ in range(3)]
    assert statuses == [200, 500, 200]


def test_latency_is_added(client: httpx.Client, runtime: Runtime) -> None:
    runtime.configure({"latency_ms": 60, "jitter_ms": 20, "seed": 1})
    started = time.monotonic()
    client.get("/v1/account")
    assert 0.06 <= time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"colour": 1}, "unknown emulator setting(s): colour"),
        ({"rates": {"429": 0.7, "500": 0.7}}, "fault rates must add up to at most 1"),
        ({"schedule": [{"request": 0, "fault": "500"}]}, "schedule request numbers count from 1"),
        ({"latency_ms": -1}, "latency_ms must be a number >= 0"),
        ({"rate_limit": 0}, "rate_limit must be > 0"),
        ({"operation_rate_limit": 0}, "operation_rate_limit must be > 0"),
        ({"lock_timeout_ms": -5}, "lock_timeout_ms must be a number >= 0"),
        ({"seed": "x"}, "seed must be an integer"),
    ],
)
def test_operator_config_rejects_bad_knobs(
    client: httpx.Client, knobs: dict[str, object], message: str
) -> None:
    response = client.post("/_emulator/config", json=knobs)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_operator_requests_are_not_logged_and_need_no_auth(client: httpx.Client) -> None:
    client.get("/v1/account")
    bare = httpx.Client(transport=client._transport, base_url="http://emulator")
    log = bare.get("/_emulator/requests").json()
    assert [entry["path"] for entry in log["requests"]] == ["/v1/account"]
    assert log["counts"] == {"GET /v1/account": 1}
    entry = log["requests"][0]
    assert entry["time"] > 0
    del entry["time"]
    assert entry == {
        "seq": 1,
        "method": "GET",
        "path": "/v1/account",
        "query": "",
        "status": 200,
        "account": account_for_key_body("e" * 12),
        "livemode": False,
        "idempotency_key": None,
        "replayed": False,
        "fault": None,
    }
    client.post("/v1/tax/settings?x=1", data={}, headers={"Idempotency-Key": "q"})
    second = bare.get("/_emulator/requests").json()["requests"][1]
    assert (second["query"], second["idempotency_key"], second["status"]) == ("x=1", "q", 200)
    assert set(second) == {
        "seq",
        "time",
        "method",
        "path",
        "query",
        "status",
        "account",
        "livemode",
        "idempotency_key",
        "replayed",
        "fault",
    }


def test_state_dump_masks_secrets_but_the_file_keeps_them_private(
    tmp_path: Path, portal: BlockingPortal
) -> None:
    state = tmp_path / "state.json"
    data = {"url": "https://example.com/h", "enabled_events[]": EVENT}
    with client_for(state, portal) as client:
        created = client.post("/v1/webhook_endpoints", data=data, headers={"Idempotency-Key": "s"})
        dump = client.get("/_emulator/state").json()
    secret = created.json()["secret"]
    assert secret not in json.dumps(dump)
    (entry,) = dump["idempotency"].values()
    assert entry["body"]["secret"] == "whsec_[redacted]"
    assert secret in state.read_text()
    assert state.stat().st_mode & 0o777 == 0o600

"""The emulator over a real socket on 127.0.0.1: start/stop, the curl example, faults, the log."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from emulator_helpers import EVENT, TEST_KEY

from reconciler.emulator.server import EmulatorServer


def test_starts_fast_on_an_ephemeral_port_and_stops() -> None:
    started = time.monotonic()
    with EmulatorServer() as server:
        elapsed = time.monotonic() - started
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.port > 0
        assert httpx.get(f"{server.base_url}/v1/account", auth=(TEST_KEY, "")).status_code == 200
    assert elapsed < 1.0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/v1/account", auth=(TEST_KEY, ""), timeout=1)


def test_issue_curl_example(emulator: EmulatorServer) -> None:
    # curl -u sk_test_x: …/v1/webhook_endpoints -d url=… -d 'enabled_events[]=charge.succeeded'
    response = httpx.post(
        f"{emulator.base_url}/v1/webhook_endpoints",
        auth=("sk_test_x", ""),
        content=b"url=https://example.com/h&enabled_events[]=charge.succeeded",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "webhook_endpoint"
    assert body["url"] == "https://example.com/h"
    assert body["enabled_events"] == ["charge.succeeded"]
    assert body["secret"].startswith("whsec_")
    assert body["livemode"] is False
    assert response.headers["request-id"].startswith("req_")


@pytest.mark.parametrize("fault", ["drop_before", "drop_after"])
def test_dropped_connections_are_transport_errors(
    emulator: EmulatorServer, fault: str, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": fault}])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.post(
            f"{emulator.base_url}/v1/webhook_endpoints",
            auth=(TEST_KEY, ""),
            data={"url": "https://example.com/h", "enabled_events[]": EVENT},
        )
    listed = httpx.get(f"{emulator.base_url}/v1/webhook_endpoints", auth=(TEST_KEY, "")).json()
    # drop_after commits the write before cutting the connection; drop_before never runs it.
    assert len(listed["data"]) == (1 if fault == "drop_after" else 0)
    entry = emulator.requests()[0]
    assert entry["fault"] == fault
    assert entry["status"] == (200 if fault == "drop_after" else None)
    assert "Traceback" not in capfd.readouterr().err


def test_thirty_percent_429s_are_seen_and_counted(emulator: EmulatorServer) -> None:
    emulator.configure(seed=42, rates={"429": 0.3})
    statuses = []
    with httpx.Client(base_url=emulator.base_url, auth=(TEST_KEY, "")) as client:
        for _ in range(100):
            response = client.get("/v1/webhook_endpoints")
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["stripe-should-retry"] == "true"
                assert response.json()["error"]["code"] == "rate_limit"
    limited = statuses.count(429)
    assert 15 <= limited <= 45
    assert statuses.count(200) == 100 - limited
    log = emulator.requests()
    assert sum(1 for entry in log if entry["status"] == 429 and entry["fault"] == "429") == limited
    assert emulator.counts() == {"GET /v1/webhook_endpoints": 100}


def test_same_seed_reproduces_the_same_faults(emulator: EmulatorServer) -> None:
    def run() -> list[int]:
        emulator.reset()
        emulator.configure(seed=7, rates={"429": 0.2, "500": 0.1, "503": 0.1})
        with httpx.Client(base_url=emulator.base_url, auth=(TEST_KEY, "")) as client:
            return [client.get("/v1/account").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {429, 500, 503} <= set(first)


def test_rate_limit_per_account_and_mode(emulator: EmulatorServer) -> None:
    emulator.configure(rate_limit=5)
    with httpx.Client(base_url=emulator.base_url) as client:
        statuses = [client.get("/v1/account", auth=(TEST_KEY, "")).status_code for _ in range(8)]
        other = client.get("/v1/account", auth=("sk_test_" + "z" * 10, ""))
        limited = client.get("/v1/account", auth=(TEST_KEY, ""))
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    assert other.status_code == 200
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["stripe-should-retry"] == "true"
    assert emulator.requests()[5]["fault"] == "rate_limit"


def test_operator_clock_reset_and_state(emulator: EmulatorServer) -> None:
    before = emulator.state()["now"]
    after = emulator.advance_clock(3600)
    assert after - before >= 3600
    httpx.post(
        f"{emulator.base_url}/v1/webhook_endpoints",
        auth=(TEST_KEY, ""),
        data={"url": "https://example.com/h", "enabled_events[]": EVENT},
    )
    state = emulator.state()
    (namespace,) = state["namespaces"].values()
    assert len(namespace["webhook_endpoints"]) == 1
    assert "whsec_" not in str(state)
    emulator.reset()
    assert emulator.state()["namespaces"] == {}
    assert emulator.requests() == []
    assert emulator.state()["now"] < after


def test_bad_operator_config_is_a_400(emulator: EmulatorServer) -> None:
    with pytest.raises(httpx.HTTPStatusError) as raised:
        emulator.configure(rates={"418": 0.5})
    assert raised.value.response.status_code == 400
    assert "unknown fault '418'" in raised.value.response.json()["error"]["message"]


def test_same_key_in_flight_is_409_then_replays(emulator: EmulatorServer) -> None:
    emulator.configure(latency_ms=300)
    data = {"url": "https://example.com/h", "enabled_events[]": EVENT}

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=emulator.base_url, auth=(TEST_KEY, "")) as client:

            async def post(delay: float) -> httpx.Response:
                await asyncio.sleep(delay)
                return await client.post(
                    "/v1/webhook_endpoints", data=data, headers={"Idempotency-Key": "race"}
                )

            return list(await asyncio.gather(post(0), post(0.1)))

    first, second = asyncio.run(race())
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["type"] == "idempotency_error"
    assert second.json()["error"]["code"] == "idempotency_key_in_use"
    assert second.json()["error"]["doc_url"] == (
        "https://stripe.com/docs/error-codes/idempotency-key-in-use"
    )
    assert second.headers["stripe-should-retry"] == "true"
    retried = httpx.post(
        f"{emulator.base_url}/v1/webhook_endpoints",
        auth=(TEST_KEY, ""),
        data=data,
        headers={"Idempotency-Key": "race"},
    )
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["id"] == first.json()["id"]


def test_latency_overlaps_for_concurrent_requests(emulator: EmulatorServer) -> None:
    # Benchmarks compare plan wall time with the critical path, so latency must not serialize.
    emulator.configure(latency_ms=200)

    async def burst() -> float:
        async with httpx.AsyncClient(base_url=emulator.base_url, auth=(TEST_KEY, "")) as client:
            started = time.monotonic()
            responses = await asyncio.gather(*(client.get("/v1/account") for _ in range(10)))
            assert [r.status_code for r in responses] == [200] * 10
            return time.monotonic() - started

    elapsed = asyncio.run(burst())
    assert 0.2 <= elapsed < 1.0


def test_a_request_whose_body_never_arrives_is_not_run(emulator: EmulatorServer) -> None:
    """A client that gives up after sending the headers (its timeout) has not sent a request:
    the emulator used to run it with an empty body, which against a stored idempotent result
    answered idempotency_error to nobody and, without one, could act on nothing."""
    import base64
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(emulator.base_url)
    auth = base64.b64encode(f"{TEST_KEY}:".encode()).decode()
    head = (
        "POST /v1/webhook_endpoints HTTP/1.1\r\n"
        f"Host: {address.hostname}\r\n"
        f"Authorization: Basic {auth}\r\n"
        "Idempotency-Key: half-sent\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 60\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(head.encode())
    time.sleep(0.3)
    keys = [r["idempotency_key"] for r in emulator.requests()]
    assert "half-sent" not in keys
    with httpx.Client(base_url=emulator.base_url, auth=(TEST_KEY, "")) as api:
        created = api.post(
            "/v1/webhook_endpoints",
            data={"url": "https://example.com/h", "enabled_events[]": EVENT},
            headers={"Idempotency-Key": "half-sent"},
        )
    assert created.status_code == 200, created.text

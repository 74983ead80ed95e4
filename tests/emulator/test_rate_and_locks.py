"""Stripe's two rate limiters (global and per operation) and object locks, over a real socket.

FACTS.md §4: a global limit per account and mode, a default of 25 requests/s per API endpoint
(each named operation is its own endpoint, counted against the global limit too), and 429
``lock_timeout`` for concurrent writes to one object.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from emulator_helpers import EVENT, TEST_KEY

from reconciler.emulator.server import EmulatorServer


def _statuses(emulator: EmulatorServer, paths: list[str]) -> list[httpx.Response]:
    with httpx.Client(base_url=emulator.base_url, auth=(TEST_KEY, "")) as client:
        return [client.get(path) for path in paths]


def test_each_operation_has_its_own_budget(emulator: EmulatorServer) -> None:
    emulator.configure(operation_rate_limit=3)
    # two ids, one operation (GET /v1/webhook_endpoints/{webhook_endpoint}); 404s count too
    one_operation = ["/v1/webhook_endpoints/we_a", "/v1/webhook_endpoints/we_b"] * 2
    answers = _statuses(emulator, [*one_operation, "/v1/account", "/v1/webhook_endpoints"])
    assert [a.status_code for a in answers] == [404, 404, 404, 429, 200, 200]
    refused = answers[3]
    assert refused.json()["error"]["code"] == "rate_limit"
    assert refused.headers["stripe-rate-limited-reason"] == "endpoint-rate"
    assert refused.headers["stripe-should-retry"] == "true"
    assert [r["fault"] for r in emulator.requests()][3] == "rate_limit"


def test_every_operation_also_counts_against_the_global_budget(emulator: EmulatorServer) -> None:
    emulator.configure(rate_limit=4, operation_rate_limit=3)
    answers = _statuses(emulator, ["/v1/account"] * 3 + ["/v1/webhook_endpoints"] * 2)
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[4].headers["stripe-rate-limited-reason"] == "global-rate"


def test_operator_config_reports_the_knobs(emulator: EmulatorServer) -> None:
    config = emulator.configure(operation_rate_limit=25, lock_timeout_ms=0)
    assert (config["operation_rate_limit"], config["lock_timeout_ms"]) == (25.0, 0.0)
    assert emulator.configure(lock_timeout_ms=None)["lock_timeout_ms"] is None


async def _at_once(emulator: EmulatorServer, requests: list[tuple[str, dict[str, Any]]]) -> Any:
    async with httpx.AsyncClient(base_url=emulator.base_url, auth=(TEST_KEY, "")) as client:
        return await asyncio.gather(*(client.post(path, data=data) for path, data in requests))


def _two_endpoints(emulator: EmulatorServer) -> list[str]:
    created = asyncio.run(
        _at_once(
            emulator,
            [
                ("/v1/webhook_endpoints", {"url": f"https://e.com/{n}", "enabled_events[]": EVENT})
                for n in range(2)
            ],
        )
    )
    return [f"/v1/webhook_endpoints/{answer.json()['id']}" for answer in created]


def test_overlapping_writes_to_one_object_answer_lock_timeout(emulator: EmulatorServer) -> None:
    first, second = _two_endpoints(emulator)
    # each write holds its object for 1 s; a second write to it gives up after 20 ms
    emulator.configure(latency_ms=1000, lock_timeout_ms=20)
    answers = asyncio.run(
        _at_once(
            emulator,
            [
                (first, {"description": "a"}),
                (first, {"description": "b"}),
                (second, {"description": "c"}),  # another object: no contention
                ("/v1/tax/settings", {"defaults[tax_code]": "txcd_10000000"}),
            ],
        )
    )
    statuses = sorted(a.status_code for a in answers[:2])
    assert statuses == [200, 429]
    assert [a.status_code for a in answers[2:]] == [200, 200]
    refused = next(a for a in answers if a.status_code == 429)
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "lock_timeout")
    assert refused.headers["stripe-should-retry"] == "true"
    faults = [r["fault"] for r in emulator.requests() if r["fault"]]
    assert faults == ["lock_timeout"]


def test_overlapping_writes_run_when_locks_are_off(emulator: EmulatorServer) -> None:
    first, _ = _two_endpoints(emulator)
    emulator.configure(latency_ms=300)  # lock_timeout_ms stays null: Stripe's default is unknown
    answers = asyncio.run(
        _at_once(emulator, [(first, {"description": "a"}), (first, {"description": "b"})])
    )
    assert [a.status_code for a in answers] == [200, 200]


def test_a_write_waits_for_the_lock_within_its_timeout(emulator: EmulatorServer) -> None:
    first, _ = _two_endpoints(emulator)
    emulator.configure(latency_ms=50, lock_timeout_ms=5000)
    answers = asyncio.run(
        _at_once(emulator, [(first, {"description": "a"}), (first, {"description": "b"})])
    )
    assert [a.status_code for a in answers] == [200, 200]

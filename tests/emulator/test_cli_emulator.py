"""``stripe-reconciler emulator`` as a user runs it: a real process, a real port, a state file."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from emulator_helpers import EVENT, TEST_KEY

from reconciler.cli.main import cli

LISTENING = re.compile(r"Stripe emulator listening on (http://127\.0\.0\.1:\d+)")


@contextmanager
def running(*args: str) -> Iterator[tuple[str, float]]:
    started = time.monotonic()
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            found = LISTENING.search(line)
            assert found, line
            yield found.group(1), time.monotonic() - started
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_starts_quickly_and_serves_the_curl_example() -> None:
    with running() as (base_url, startup):
        response = httpx.post(
            f"{base_url}/v1/webhook_endpoints",
            auth=("sk_test_x", ""),
            data={"url": "https://example.com/h", "enabled_events[]": "charge.succeeded"},
        )
    assert startup < 2.0
    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "emulator.json"
    with running("--state-file", str(state)) as (base_url, _):
        created = httpx.post(
            f"{base_url}/v1/webhook_endpoints",
            auth=(TEST_KEY, ""),
            data={"url": "https://example.com/h", "enabled_events[]": EVENT},
        ).json()
    assert state.exists()
    assert "whsec_" not in state.read_text()
    with running("--state-file", str(state)) as (base_url, _):
        listed = httpx.get(f"{base_url}/v1/webhook_endpoints", auth=(TEST_KEY, "")).json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert list(tmp_path.iterdir()) == [state]


def test_fault_flags_reach_the_operator_config() -> None:
    flags = [
        "--seed",
        "3",
        "--fault",
        "429=0.25",
        "--schedule",
        "2=drop_after",
        "--latency-ms",
        "5",
        "--refuse-duplicate-registrations",
    ]
    limits = ["--rate-limit", "50", "--operation-rate-limit", "20", "--lock-timeout-ms", "250"]
    platform = ["--platform-rate-limit", "90", "--platform-operation-rate-limit", "25"]
    accounts = ["--refuse-unknown-accounts", "--path", "/v1/tax"]
    with running(*flags, *limits, *platform, *accounts) as (base_url, _):
        config = httpx.get(f"{base_url}/_emulator/config").json()
    assert config == {
        "seed": 3,
        "latency_ms": 5.0,
        "jitter_ms": 0.0,
        "rates": {"429": 0.25},
        "schedule": [{"request": 2, "fault": "drop_after"}],
        "paths": ["/v1/tax"],
        "rate_limit": 50.0,
        "operation_rate_limit": 20.0,
        "lock_timeout_ms": 250.0,
        "state_file": None,
        "refuse_duplicate_registrations": True,
        "platform_rate_limit": 90.0,
        "platform_operation_rate_limit": 25.0,
        "refuse_unknown_accounts": True,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "418=0.5"], "Error: unknown fault '418'"),
        (["--fault", "429"], "Error: --fault expects KIND=PROBABILITY"),
        (["--schedule", "x=500"], "Error: --schedule expects N=KIND"),
        (["--fault", "429=2"], "Error: rates[429] must be a probability between 0 and 1"),
        (["--port", "99999"], "Error: Invalid value for '--port': 99999 is not in the range"),
        (["--port", "-1"], "Error: Invalid value for '--port': -1 is not in the range"),
    ],
)
def test_bad_flags_are_clear_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["emulator", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_busy_port_is_a_clear_error() -> None:
    with running() as (base_url, _):
        port = base_url.rsplit(":", 1)[1]
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", "emulator", "--port", port],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    assert result.returncode == 1
    assert (
        f"Error: cannot listen on 127.0.0.1:{port}; is another process using it?" in result.stderr
    )
    assert "Traceback" not in result.stderr

"""Fixtures of the live acceptance suite (``-m live``; see README "Live acceptance suite").

``live_backend``: the bundled emulator on 127.0.0.1 (tests/conftest.py's ``emulator``, with
Stripe's sandbox rate limits), or the Stripe sandbox whose test-mode key is in
``STRIPE_RECONCILER_LIVE_TEST_KEY``; a live key or a malformed setting fails the test before any
request. ``live_run``: one prepared run whose objects are cleaned up at teardown, also when the
test failed; the signing secrets it reads are handed to the leak scan.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from leakscan import LeakScan
from live_backend import (
    SANDBOX_RATE_LIMIT,
    Backend,
    LiveSuiteRefusal,
    backend_from_env,
    emulator_backend,
)
from live_run import LiveRun

from reconciler.emulator.server import EmulatorServer


@pytest.fixture
def live_backend(request: pytest.FixtureRequest) -> Backend:
    refused = ""
    try:
        backend = backend_from_env(os.environ)
    except LiveSuiteRefusal as refusal:
        refused = str(refusal)
    if refused:  # outside the except block, so the report is the one message
        pytest.fail(refused, pytrace=False)
    if backend is not None:
        return backend
    emulator: EmulatorServer = request.getfixturevalue("emulator")
    emulator.configure(rate_limit=SANDBOX_RATE_LIMIT, operation_rate_limit=SANDBOX_RATE_LIMIT)
    return emulator_backend(emulator.base_url, "sk_test_" + secrets.token_hex(12))


@pytest.fixture
def live_run(live_backend: Backend, tmp_path: Path, leak_scan: LeakScan) -> Iterator[LiveRun]:
    refused = ""
    try:
        with LiveRun.started(live_backend, tmp_path, on_secret=leak_scan.secrets.add) as run:
            print(f"live suite run {run.run_id} against {live_backend.label}")
            yield run
    except LiveSuiteRefusal as refusal:  # raised while preparing, before anything is created
        refused = str(refusal)
    if refused:
        pytest.fail(refused, pytrace=False)

"""Fixtures shared by every test package.

``emulator``: a fresh :class:`~reconciler.emulator.server.EmulatorServer` on 127.0.0.1 with an
ephemeral port, stopped after the test. Use ``emulator.base_url`` as the API base, and
``emulator.requests() / counts() / configure(...) / advance_clock(s) / reset() / state()`` to
inspect it or inject faults.

``leak_scan`` (autouse, from ``leakscan.py``): fails a test whose output, logs or files carry an
API key or a webhook signing secret outside a secret sink.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from leakscan import leak_scan  # noqa: F401  (autouse: every test is leak-scanned)

from reconciler.emulator.server import EmulatorServer


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server

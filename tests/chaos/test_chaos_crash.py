"""SIGKILL an apply at seeded points (after the N-th write, or after a random delay), apply again:
converged, no duplicate, every live endpoint's secret delivered exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaos_runs import crash_run
from chaos_workloads import PROFILES, WORKLOADS

from reconciler.emulator.server import EmulatorServer

CASES = [("create", 3), ("create", 4), ("mix", 5), ("adopt", 6), ("mix", 1)]


@pytest.mark.parametrize(("workload", "seed"), CASES, ids=lambda v: str(v))
def test_sigkill_then_apply_again(
    emulator: EmulatorServer, tmp_path: Path, workload: str, seed: int
) -> None:
    stats = crash_run(emulator, tmp_path, WORKLOADS[workload], seed)
    assert stats.killed, stats.outcomes
    assert stats.verdict.problems == [], stats.describe()


def test_sigkill_under_dropped_connections(emulator: EmulatorServer, tmp_path: Path) -> None:
    # seed 9 kills after the 12th write (not on a timer, which a loaded machine can make land
    # before the first request), so the dropped connections are met before the kill
    stats = crash_run(emulator, tmp_path, WORKLOADS["create"], 9, profile=PROFILES["dropped"])
    assert stats.faults > 0
    assert stats.verdict.problems == [], stats.describe()

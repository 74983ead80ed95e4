"""Two to four applies at once: of one saved plan, of one manifest, of different saved plans.
Each succeeds or stops cleanly; right after them no name, URL or registration is duplicated, and
one more apply converges with every live endpoint's secret in the sink."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaos_runs import concurrent_run
from chaos_workloads import PROFILES, WORKLOADS

from reconciler.emulator.server import EmulatorServer

CASES = [
    ("same-plan", "create", 2, 21),
    ("same-plan", "mix", 4, 22),
    ("same-manifest", "create", 3, 23),
    ("different-plans", "create", 4, 24),
    ("different-plans", "adopt", 2, 25),
    ("different-plans", "mix", 3, 26),
]


@pytest.mark.parametrize(("kind", "workload", "count", "seed"), CASES, ids=lambda v: str(v))
def test_concurrent_applies_never_duplicate(
    emulator: EmulatorServer, tmp_path: Path, kind: str, workload: str, count: int, seed: int
) -> None:
    stats = concurrent_run(emulator, tmp_path, WORKLOADS[workload], seed, kind=kind, count=count)
    assert stats.verdict.problems == [], (stats.describe(), stats.outcomes)
    assert stats.outcomes[-1] == "converge:ok"
    if kind == "same-plan":
        # one plan, one set of keys: every apply succeeds, the later ones by replay
        assert stats.outcomes[:-1] == ["ok"] * count
        assert stats.replays > 0
    assert set(stats.outcomes[:-1]) <= {"ok", "stale", "partial"}


def test_concurrent_saved_plans_under_faults(emulator: EmulatorServer, tmp_path: Path) -> None:
    stats = concurrent_run(
        emulator,
        tmp_path,
        WORKLOADS["create"],
        27,
        kind="same-plan",
        count=3,
        profile=PROFILES["everything"],
    )
    assert stats.faults > 0
    assert stats.verdict.problems == [], (stats.describe(), stats.outcomes)

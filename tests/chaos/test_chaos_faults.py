"""Seeded fault schedules × workloads: every run ends converged, duplicate-free, secrets kept.

CI-sized; ``bench/chaos.py`` runs the same matrix over many seeds and prints the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chaos_runs import fault_run
from chaos_workloads import PROFILES, WORKLOADS

from reconciler.emulator.server import EmulatorServer

MATRIX = [
    *(("create", profile, 11) for profile in PROFILES),
    ("mix", "dropped", 12),
    ("mix", "slow", 13),
    ("mix", "everything", 14),
    ("adopt", "rate-limited", 15),
    ("adopt", "5xx-storm", 16),
    ("adopt", "everything", 17),
]


@pytest.mark.parametrize(("workload", "profile", "seed"), MATRIX, ids=lambda v: str(v))
def test_apply_under_faults_converges(
    emulator: EmulatorServer, tmp_path: Path, workload: str, profile: str, seed: int
) -> None:
    stats = fault_run(emulator, tmp_path, WORKLOADS[workload], PROFILES[profile], seed)
    assert stats.verdict.problems == [], stats.describe()
    assert stats.outcomes[-1] == "ok", stats.outcomes
    if PROFILES[profile].rates:
        assert stats.faults > 0
        assert stats.retries >= 1
    if PROFILES[profile].timeout < 0.5:  # answers slower than the client's timeout
        assert stats.timeouts >= 1


def test_a_dropped_create_is_replayed_not_repeated(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    # every POST answer is cut after the write commits, once: each retry must replay
    stats = fault_run(
        emulator,
        tmp_path,
        WORKLOADS["create"],
        PROFILES["dropped"].__class__("after-only", {"drop_after": 0.5}),
        seed=5,
    )
    assert stats.verdict.problems == []
    creates = [
        r
        for r in emulator.requests()
        if r["method"] == "POST" and r["path"] == "/v1/webhook_endpoints" and r["status"] == 200
    ]
    fresh = [r for r in creates if not r["replayed"]]
    assert len(fresh) == 6  # one real create per declared endpoint, however many drops
    assert len(creates) > len(fresh)  # and the drops were retried into replays

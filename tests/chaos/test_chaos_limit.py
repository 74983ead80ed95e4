"""Chaos where the promises could break (issue 13): at the 16-endpoint limit, with secret sinks
that fail mid-apply, with SIGKILLs, and one ``--target`` at a time (with duplicates left by an
interrupted replace). Each run must end converged within three re-runs, duplicate-free, every
live endpoint's secret delivered exactly once, nothing leaked."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaos_runs import crash_run, fault_run, protect_run, sink_run, target_run
from chaos_workloads import PROFILES, WORKLOADS, FaultProfile, protected_workload

from reconciler.emulator.server import EmulatorServer

#: the fault mix issue 13 reported fifteen non-converging reruns under
ISSUE_MIX = FaultProfile("issue-13", {"429": 0.3, "500": 0.1, "drop_after": 0.2})


@pytest.mark.parametrize("profile", ["dropped", "everything", "issue-13"])
def test_the_limit_under_faults(emulator: EmulatorServer, tmp_path: Path, profile: str) -> None:
    chosen = ISSUE_MIX if profile == ISSUE_MIX.name else PROFILES[profile]
    stats = fault_run(emulator, tmp_path, WORKLOADS["limit"], chosen, 31)
    assert stats.verdict.problems == [], stats.describe()
    assert stats.outcomes[-1] == "ok", stats.outcomes


@pytest.mark.parametrize("seed", [32, 33])
def test_the_limit_killed_then_applied_again(
    emulator: EmulatorServer, tmp_path: Path, seed: int
) -> None:
    stats = crash_run(emulator, tmp_path, WORKLOADS["limit"], seed)
    assert stats.verdict.problems == [], (stats.describe(), stats.outcomes)


@pytest.mark.parametrize(
    ("workload", "seed", "profile"),
    [("limit", 34, None), ("limit", 35, "dropped"), ("create", 36, "rate-limited")],
)
def test_a_sink_that_fails_mid_apply(
    emulator: EmulatorServer, tmp_path: Path, workload: str, seed: int, profile: str | None
) -> None:
    stats = sink_run(
        emulator,
        tmp_path,
        WORKLOADS[workload],
        seed,
        profile=PROFILES[profile] if profile else None,
    )
    assert stats.outcomes[0].endswith(("partial", "SecretSinkError")), stats.outcomes
    assert stats.verdict.problems == [], (stats.describe(), stats.outcomes)


@pytest.mark.parametrize(
    ("workload", "seed", "profile"),
    [("mix", 37, "dropped"), ("limit", 38, "rate-limited"), ("adopt", 39, "jitter")],
)
def test_one_target_at_a_time(
    emulator: EmulatorServer, tmp_path: Path, workload: str, seed: int, profile: str
) -> None:
    stats = target_run(emulator, tmp_path, WORKLOADS[workload], seed, profile=PROFILES[profile])
    assert stats.verdict.problems == [], (stats.describe(), stats.outcomes)


@pytest.mark.parametrize(
    ("variant", "profile", "seed"),
    [
        ("past-end", "everything", 39),
        ("future-end", "dropped", 40),
        ("expire-now", "rate-limited", 41),
        ("replace", "5xx-storm", 42),
        ("removed", "everything", 43),
    ],
)
def test_protected_resources_are_never_ended(
    emulator: EmulatorServer, tmp_path: Path, variant: str, profile: str, seed: int
) -> None:
    stats = protect_run(
        emulator, tmp_path, protected_workload(variant), seed, profile=PROFILES[profile]
    )
    assert stats.verdict.problems == [], (stats.describe(), stats.outcomes)

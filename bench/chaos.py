"""The long chaos run: many seeds of faults, SIGKILLs and concurrent applies, and their figures.

    .venv/bin/python -m bench.chaos [--seeds 20] [--first-seed 1000] [--kinds faults,crash]
                                    [--workloads limit,mix]

Per seed: every workload (create; a mix of update, replace, delete and expire; adoption; all 16
endpoints Stripe allows) under every fault profile (latency jitter, 429s, 500/503 storms,
connections dropped before and after the write, answers slower than the client timeout, all of
them at once); one SIGKILL run per workload (after a seeded write, or after a seeded delay);
concurrent applies of one saved plan, one manifest and different saved plans (2-4 at once); a
secrets sink that fails at a seeded delivery; and one ``--target`` at a time (with duplicates
an interrupted replace leaves behind), on every workload; and targets that would end a
protected endpoint or registration (every apply must refuse before any write). Each run ends with
the invariant check of ``tests/chaos/chaos_workloads.py`` (the same code the CI-sized suite
uses). The table gives runs, faults injected, retries, idempotent replays, duplicates, lost
changes (runs whose final plan was not ``No changes.``), answers slower than the client timeout
(abandoned and retried attempts), secret problems and leaks; the JSON
result (``bench/results/chaos.json``) lists every run. Exit 1 if any invariant broke.

The same seed gives the same fault draws and kill points; thread and process scheduling can still
reorder concurrent requests, so counts may differ slightly between repeats, verdicts may not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "chaos")]

from chaos_runs import (  # noqa: E402
    CONCURRENCY_KINDS,
    RunStats,
    concurrent_run,
    crash_run,
    fault_run,
    protect_run,
    sink_run,
    target_run,
)
from chaos_workloads import PROFILES, PROTECTED_TARGETS, WORKLOADS, protected_workload  # noqa: E402

from bench.harness import table, write_result  # noqa: E402
from reconciler.emulator.server import EmulatorServer  # noqa: E402

KINDS = ("faults", "crash", "concurrent", "sink", "target", "protect")


def runs_for_seed(
    emulator: EmulatorServer,
    directory: Path,
    seed: int,
    kinds: tuple[str, ...],
    workloads: tuple[str, ...] = tuple(WORKLOADS),
) -> list[RunStats]:
    results: list[RunStats] = []
    profiles = list(PROFILES.values())
    for index, workload in enumerate(WORKLOADS[name] for name in workloads):
        if "faults" in kinds:
            for profile in PROFILES.values():
                results.append(fault_run(emulator, directory, workload, profile, seed))
        if "crash" in kinds:
            dropped = PROFILES["dropped"] if seed % 3 == 0 else None
            results.append(crash_run(emulator, directory, workload, seed, profile=dropped))
        if "concurrent" in kinds:
            for offset, kind in enumerate(CONCURRENCY_KINDS):
                count = 2 + (seed + index + offset) % 3
                results.append(
                    concurrent_run(emulator, directory, workload, seed, kind=kind, count=count)
                )
        profile = profiles[(seed + index) % len(profiles)]
        if "sink" in kinds:
            results.append(sink_run(emulator, directory, workload, seed, profile=profile))
        if "target" in kinds:
            results.append(target_run(emulator, directory, workload, seed, profile=profile))
    if "protect" in kinds:
        for index, variant in enumerate(PROTECTED_TARGETS):
            profile = profiles[(seed + index) % len(profiles)]
            results.append(
                protect_run(emulator, directory, protected_workload(variant), seed, profile=profile)
            )
    return results


def group_of(stats: RunStats) -> str:
    if stats.kind == "faults":
        return f"faults: {stats.profile}"
    if stats.kind == "crash":
        return "crash + re-apply"
    if stats.kind == "sink":
        return "failing sink + re-apply"
    if stats.kind == "target":
        return "--target one at a time"
    if stats.kind == "protect":
        return "protected resources"
    return "concurrent: " + stats.kind.removeprefix("concurrent-").split("x")[0]


def summarise(rows: list[RunStats]) -> dict[str, Any]:
    return {
        "runs": len(rows),
        "killed": sum(r.killed for r in rows),
        "requests": sum(r.requests for r in rows),
        "faults": sum(r.faults for r in rows),
        "timeouts": sum(r.timeouts for r in rows),
        "retries": sum(r.retries for r in rows),
        "replays": sum(r.replays for r in rows),
        "duplicates": sum(len(r.verdict.duplicates) for r in rows),
        "lost_changes": sum(1 for r in rows if r.verdict.plan),
        "secret_problems": sum(len(r.verdict.secrets) for r in rows),
        "leaks": sum(len(r.verdict.leaks) for r in rows),
        "seconds": round(sum(r.seconds for r in rows), 1),
        # applies after the first one that a run needed before it converged
        "max_reruns": max((r.reruns for r in rows), default=0),
    }


COLUMNS = (
    "runs",
    "killed",
    "requests",
    "faults",
    "timeouts",
    "retries",
    "replays",
    "duplicates",
    "lost_changes",
    "secret_problems",
    "leaks",
    "max_reruns",
    "seconds",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--kinds", default=",".join(KINDS), help=",".join(KINDS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=",".join(WORKLOADS))
    options = parser.parse_args(argv)
    kinds = tuple(k for k in options.kinds.split(",") if k)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    workloads = tuple(w for w in options.workloads.split(",") if w)
    strange = set(workloads) - set(WORKLOADS)
    if strange:
        parser.error(f"unknown workloads: {', '.join(sorted(strange))}")
    started = time.monotonic()
    everything: list[RunStats] = []
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        for seed in range(options.first_seed, options.first_seed + options.seeds):
            done = runs_for_seed(emulator, Path(tmp) / "run", seed, kinds, workloads)
            everything.extend(done)
            bad = [r for r in done if r.verdict.problems]
            print(
                f"seed {seed}: {len(done)} runs, {sum(r.faults for r in done)} faults, "
                f"{len(bad)} with problems",
                flush=True,
            )
            for run in bad:
                print(f"  {run.describe()}: {run.verdict.problems}", flush=True)
    groups: dict[str, list[RunStats]] = {}
    for run in everything:
        groups.setdefault(group_of(run), []).append(run)
    summary = {name: summarise(rows) for name, rows in groups.items()}
    summary["total"] = summarise(everything)
    print(
        f"\nChaos: {options.seeds} seeds from {options.first_seed}, "
        f"{time.monotonic() - started:.0f} s wall"
    )
    print(
        table(
            ["group", *COLUMNS], [[name, *(s[c] for c in COLUMNS)] for name, s in summary.items()]
        )
    )
    path = write_result(
        "chaos",
        {
            "seeds": options.seeds,
            "first_seed": options.first_seed,
            "kinds": list(kinds),
            "workloads": list(workloads),
            "summary": summary,
            "runs": [
                {
                    "run": r.describe(),
                    "applies": r.applies,
                    "outcomes": r.outcomes,
                    "requests": r.requests,
                    "faults": r.faults,
                    "timeouts": r.timeouts,
                    "retries": r.retries,
                    "replays": r.replays,
                    "killed": r.killed,
                    "problems": r.verdict.problems,
                    "seconds": round(r.seconds, 2),
                }
                for r in everything
            ],
        },
    )
    print(f"results: {path.relative_to(ROOT)}")
    total = summary["total"]
    broken = total["duplicates"] + total["lost_changes"] + total["secret_problems"] + total["leaks"]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

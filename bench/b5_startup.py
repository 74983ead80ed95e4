"""B5: start-up, the wall time of whole processes: ``--help``, ``validate examples/basic`` and
``plan examples/basic`` against the emulator at 0 ms latency.

Each command runs several times as a fresh process of the venv's console script; the median
is reported (the first run also pays for cold file caches, so it is excluded as a warm-up).
``python -c pass`` is measured the same way, as the floor any Python CLI pays. ``plan`` minus
``validate`` is what talking to Stripe costs a process beyond reading the manifests: the HTTP
stack, the planner and three requests (issue 16: at most 0.15 s, since every CI job and every
shard of a fleet pays it).

    .venv/bin/python -m bench.b5_startup [--runs 9]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import harness, workload

TARGET_HELP_S = 0.5
TARGET_PLAN_OVER_VALIDATE_S = 0.15


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    process = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=harness.ROOT, env=env
    )
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.strip()}")
    return elapsed


def measure(command: list[str], runs: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    _timed(command, env)  # warm-up
    times = [_timed(command, env) for _ in range(runs)]
    return {
        "command": command,
        "median_s": harness.median(times),
        "min_s": min(times),
        "all_s": times,
    }


def run(runs: int) -> dict[str, Any]:
    from reconciler.emulator.server import EmulatorServer

    python = sys.executable
    script = str(Path(python).with_name("stripe-reconciler"))
    help_ = measure([script, "--help"], runs)
    validate = [script, "validate", "examples/basic"]
    plan = [script, "plan", "examples/basic"]
    with EmulatorServer() as emulator:  # 0 ms latency: what is left is the process's own cost
        env = workload.cli_env(emulator.base_url, harness.API_KEY)
        # interleaved, so both see the same load on a shared machine
        validate_times, plan_times = [], []
        _timed(validate, env)  # warm-up
        _timed(plan, env)
        for _ in range(runs):
            validate_times.append(_timed(validate, env))
            plan_times.append(_timed(plan, env))
    validate_basic = _summary(validate, validate_times)
    plan_basic = _summary(plan, plan_times)
    gap = plan_basic["median_s"] - validate_basic["median_s"]
    return {
        "runs": runs,
        "python_floor": measure([python, "-c", "pass"], runs),
        "help": help_,
        "validate_basic": validate_basic,
        "plan_basic": plan_basic,
        "plan_over_validate_s": gap,
        "target": f"--help median <= {TARGET_HELP_S} s; plan - validate <= "
        f"{TARGET_PLAN_OVER_VALIDATE_S} s",
        "met": help_["median_s"] <= TARGET_HELP_S and gap <= TARGET_PLAN_OVER_VALIDATE_S,
    }


def _summary(command: list[str], times: list[float]) -> dict[str, Any]:
    return {
        "command": command,
        "median_s": harness.median(times),
        "min_s": min(times),
        "all_s": times,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    result = run(parser.parse_args(argv).runs)
    path = harness.write_result("b5_startup", result)
    rows = [
        [
            "python -c pass (floor)",
            result["python_floor"]["median_s"],
            result["python_floor"]["min_s"],
        ],
        ["stripe-reconciler --help", result["help"]["median_s"], result["help"]["min_s"]],
        [
            "stripe-reconciler validate examples/basic",
            result["validate_basic"]["median_s"],
            result["validate_basic"]["min_s"],
        ],
        [
            "stripe-reconciler plan examples/basic (0 ms latency)",
            result["plan_basic"]["median_s"],
            result["plan_basic"]["min_s"],
        ],
        ["plan - validate", result["plan_over_validate_s"], "-"],
        [f"target: {result['target']}", harness.verdict(result["met"]), "-"],
    ]
    harness.report("B5 start-up (whole processes)", ["command", "median s", "min s"], rows, path)
    return result


if __name__ == "__main__":
    main()

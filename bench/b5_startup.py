"""B5: start-up, the wall time of whole processes: ``--help`` and ``validate examples/basic``.

Each command runs several times as a fresh process of the venv's console script; the median
is reported (the first run also pays for cold file caches, so it is excluded as a warm-up).
``python -c pass`` is measured the same way, as the floor any Python CLI pays.

    .venv/bin/python -m bench.b5_startup [--runs 9]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import harness

TARGET_HELP_S = 0.5


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True, check=False, cwd=harness.ROOT)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.strip()}")
    return elapsed


def measure(command: list[str], runs: int) -> dict[str, Any]:
    _timed(command)  # warm-up
    times = [_timed(command) for _ in range(runs)]
    return {
        "command": command,
        "median_s": harness.median(times),
        "min_s": min(times),
        "all_s": times,
    }


def run(runs: int) -> dict[str, Any]:
    python = sys.executable
    script = str(Path(python).with_name("stripe-reconciler"))
    help_ = measure([script, "--help"], runs)
    return {
        "runs": runs,
        "python_floor": measure([python, "-c", "pass"], runs),
        "help": help_,
        "validate_basic": measure([script, "validate", "examples/basic"], runs),
        "target": f"--help median <= {TARGET_HELP_S} s",
        "met": help_["median_s"] <= TARGET_HELP_S,
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
        [f"target: --help <= {TARGET_HELP_S} s", harness.verdict(result["met"]), "-"],
    ]
    harness.report("B5 start-up (whole processes)", ["command", "median s", "min s"], rows, path)
    return result


if __name__ == "__main__":
    main()

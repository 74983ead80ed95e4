"""B2: plan wall time under 50 ms of emulated latency, against the critical path.

W1 needs four reads; three kinds are read concurrently and the second registrations page can
only be asked for after the first, so the critical path is two sequential round trips
(2 x 50 ms = 100 ms). Measured in-process (the library: client + ``fetch_live`` + ``build_plan``,
manifests loaded beforehand) and as a whole CLI process (``stripe-reconciler plan``), the
latter also at 0 ms latency to show the fixed cost of start-up, loading and rendering.

    .venv/bin/python -m bench.b2_plan_latency [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness, workload
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest import load_manifests
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.resources import fetch_live
from reconciler.stripe import StripeClient, StripeConfig

LATENCY_MS = 50.0
SEQUENTIAL_ROUND_TRIPS = 2
TARGET_RATIO = 1.5


async def plan_in_process(base_url: str, manifest: Manifest) -> tuple[float, float, int]:
    """(wall seconds, of which fetching, actions planned) for one plan with a fresh client."""
    started = time.perf_counter()
    config = StripeConfig(api_key=harness.API_KEY, api_base=base_url)
    async with StripeClient(config) as client:
        live = await fetch_live(client)
    fetched = time.perf_counter()
    plan = build_plan(manifest, live)
    return time.perf_counter() - started, fetched - started, len(plan.actions)


def plan_cli(manifests: Path, base_url: str) -> float:
    started = time.perf_counter()
    process = subprocess.run(
        workload.plan_command(manifests),
        env=workload.cli_env(base_url, harness.API_KEY),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if process.returncode != 0 or not process.stdout.rstrip().endswith("No changes."):
        raise SystemExit(f"plan failed ({process.returncode}): {process.stderr.strip()}")
    return elapsed


def run(runs: int) -> dict[str, Any]:
    critical = SEQUENTIAL_ROUND_TRIPS * LATENCY_MS / 1000
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        manifests = workload.write_manifests(Path(tmp) / "w1")
        workload.seed(emulator.base_url, harness.API_KEY)
        manifest = load_manifests([str(manifests)]).manifest
        cli_no_latency = [plan_cli(manifests, emulator.base_url) for _ in range(runs)]
        emulator.configure(latency_ms=LATENCY_MS)
        asyncio.run(plan_in_process(emulator.base_url, manifest))  # warm imports and caches
        mark = len(emulator.requests())
        in_process = [
            asyncio.run(plan_in_process(emulator.base_url, manifest)) for _ in range(runs)
        ]
        requests_per_plan = (len(emulator.requests()) - mark) / runs
        cli = [plan_cli(manifests, emulator.base_url) for _ in range(runs)]
    wall = harness.median([r[0] for r in in_process])
    fetch = harness.median([r[1] for r in in_process])
    cli_wall = harness.median(cli)
    cli_fixed = harness.median(cli_no_latency)
    return {
        "latency_ms": LATENCY_MS,
        "runs": runs,
        "critical_path_s": critical,
        "requests_per_plan": requests_per_plan,
        "in_process": {
            "wall_s": wall,
            "fetch_s": fetch,
            "ratio": wall / critical,
            "all_s": [r[0] for r in in_process],
        },
        "cli": {
            "wall_s": cli_wall,
            "ratio": cli_wall / critical,
            "wall_at_0ms_s": cli_fixed,
            "latency_cost_s": cli_wall - cli_fixed,
            "latency_cost_ratio": (cli_wall - cli_fixed) / critical,
            "all_s": cli,
        },
        "target": f"in-process wall <= {TARGET_RATIO} x critical path",
        "met": wall / critical <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    result = run(parser.parse_args(argv).runs)
    path = harness.write_result("b2_plan_latency", result)
    inp, cli = result["in_process"], result["cli"]
    rows = [
        ["critical path (2 x 50 ms)", result["critical_path_s"], 1.0],
        ["in-process plan (median)", inp["wall_s"], inp["ratio"]],
        [
            "  of which fetching live state",
            inp["fetch_s"],
            inp["fetch_s"] / result["critical_path_s"],
        ],
        ["CLI process plan (median)", cli["wall_s"], cli["ratio"]],
        ["CLI process plan at 0 ms latency", cli["wall_at_0ms_s"], "-"],
        ["CLI: cost of the latency", cli["latency_cost_s"], cli["latency_cost_ratio"]],
        ["requests per plan", result["requests_per_plan"], "-"],
        [f"target: in-process <= {TARGET_RATIO}x", harness.verdict(result["met"]), "-"],
    ]
    harness.report(
        "B2 plan latency (W1 seeded, emulator latency 50 ms)",
        ["measure", "seconds", "x critical path"],
        rows,
        path,
    )
    return result


if __name__ == "__main__":
    main()

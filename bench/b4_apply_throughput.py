"""B4: apply W1 to an empty account while the emulator enforces Stripe's two rate limits.

Stripe limits requests per account (25/s in test mode, 100/s live) and, by default, to 25/s per
API endpoint, each named operation (``POST /v1/tax/registrations``) being its own endpoint and
counting against the global limit too (FACTS.md §4). So W1's writes cannot finish in less than

    bound = max(writes / global limit, max over operations of (its writes / per-operation limit))

seconds. Two scenarios: ``test`` (25/s global, 25/s per operation, the client's test-key defaults
24/s and 24/s) and ``live`` (100/s global, 25/s per operation, the client at its live-key default
of 80/s global and 24/s per operation; a test key with ``rate_limit=80`` stands for the live key,
since the emulator's limits are the same whatever the mode). There the 150 registration creates
bound the run, not the global limit.

The apply runs in-process (``apply_session``: account lookup, live read, plan, execution with the
default parallelism, secrets to a 0600 file) and is timed from start to end; writes and 429s are
counted from the emulator's request log.

    .venv/bin/python -m bench.b4_apply_throughput [--runs 3] [--scenario test|live|both]
        [--rate-limit R] [--operation-rate-limit R]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness, workload
from reconciler.apply.secrets import FileSink, SecretSinks
from reconciler.apply.session import apply_session
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest import load_manifests
from reconciler.stripe import StripeConfig
from reconciler.stripe.ratelimit import operation_key

TARGET_RATIO = 1.15


@dataclass(frozen=True)
class Scenario:
    """The emulator's limits (Stripe's) and the client's global rate (None: the key's default)."""

    server_limit: float
    server_operation_limit: float
    client_rate: float | None


SCENARIOS = {
    "test": Scenario(server_limit=25.0, server_operation_limit=25.0, client_rate=None),
    "live": Scenario(server_limit=100.0, server_operation_limit=25.0, client_rate=80.0),
}


def bound_seconds(log: list[dict[str, Any]], scenario: Scenario) -> tuple[float, int, str]:
    """The time Stripe's limits need for the successful writes of ``log``, and what binds."""
    writes = [r for r in log if r["method"] != "GET" and r["status"] == 200]
    per_operation = Counter(operation_key(r["method"], r["path"]) for r in writes)
    busiest, count = per_operation.most_common(1)[0]
    global_bound = len(writes) / scenario.server_limit
    operation_bound = count / scenario.server_operation_limit
    if operation_bound > global_bound:
        return operation_bound, len(writes), f"{count} x {busiest}"
    return global_bound, len(writes), "all writes"


def apply_once(
    scenario: Scenario, rate_limit: float | None, operation_rate_limit: float | None
) -> dict[str, Any]:
    limits = {
        "rate_limit": scenario.server_limit,
        "operation_rate_limit": scenario.server_operation_limit,
    }
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(**limits) as emulator:
        manifests = workload.write_manifests(Path(tmp) / "w1")
        manifest = load_manifests([str(manifests)]).manifest
        config = StripeConfig(
            api_key=harness.API_KEY,
            api_base=emulator.base_url,
            rate_limit=rate_limit if rate_limit is not None else scenario.client_rate,
            operation_rate_limit=operation_rate_limit,
            deadline=600.0,
        )
        sinks = SecretSinks([FileSink(Path(tmp) / "secrets.env")])
        started = time.perf_counter()
        outcome = asyncio.run(apply_session(config, manifest, sinks))
        wall = time.perf_counter() - started
        log = emulator.requests()
    if outcome.result is None or not outcome.result.ok:
        raise SystemExit("apply did not complete")
    bound, writes, binding = bound_seconds(log, scenario)
    return {
        "wall_s": wall,
        "requests": len(log),
        "reads": sum(1 for r in log if r["method"] == "GET"),
        "writes": writes,
        "responses_429": sum(1 for r in log if r["status"] == 429),
        "actions": len(outcome.result.results),
        "bound_s": bound,
        "bound_by": binding,
        "ratio": wall / bound,
        "client_rate_limit": config.effective_rate_limit,
        "client_operation_rate_limit": config.effective_operation_rate_limit,
    }


def run_scenario(
    name: str, runs: int, rate_limit: float | None, operation_rate_limit: float | None
) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    results = [apply_once(scenario, rate_limit, operation_rate_limit) for _ in range(runs)]
    ratios = [r["ratio"] for r in results]
    first = results[0]
    return {
        "server_limit_per_s": scenario.server_limit,
        "server_operation_limit_per_s": scenario.server_operation_limit,
        "client_rate_limit": first["client_rate_limit"],
        "client_operation_rate_limit": first["client_operation_rate_limit"],
        "runs": results,
        "writes": first["writes"],
        "bound_s": first["bound_s"],
        "bound_by": first["bound_by"],
        "median_wall_s": harness.median([r["wall_s"] for r in results]),
        "median_ratio": harness.median(ratios),
        "worst_ratio": max(ratios),
        "total_429": sum(r["responses_429"] for r in results),
        "met": max(ratios) <= TARGET_RATIO and all(r["responses_429"] == 0 for r in results),
    }


def run(
    runs: int,
    names: list[str],
    rate_limit: float | None = None,
    operation_rate_limit: float | None = None,
) -> dict[str, Any]:
    scenarios = {name: run_scenario(name, runs, rate_limit, operation_rate_limit) for name in names}
    every = list(scenarios.values())
    return {
        "scenarios": scenarios,
        "median_ratio": max(s["median_ratio"] for s in every),
        "worst_ratio": max(s["worst_ratio"] for s in every),
        "total_429": sum(s["total_429"] for s in every),
        "target": f"<= {TARGET_RATIO} x the bound of both limits, zero 429s, every scenario",
        "met": all(s["met"] for s in every),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="client global rate (default: scenario's)"
    )
    parser.add_argument(
        "--operation-rate-limit",
        type=float,
        default=None,
        help="client rate per operation (default: the client's own, 24/s)",
    )
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "both" else [args.scenario]
    result = run(args.runs, names, args.rate_limit, args.operation_rate_limit)
    path = harness.write_result("b4_apply_throughput", result)
    rows: list[list[Any]] = []
    for name, scenario in result["scenarios"].items():
        limits = (
            f"{name}: server {scenario['server_limit_per_s']:g}/s + "
            f"{scenario['server_operation_limit_per_s']:g}/s per operation, client "
            f"{scenario['client_rate_limit']:g}/s + {scenario['client_operation_rate_limit']:g}/s"
        )
        rows.append([limits, "-", "-", "-", "-", "-"])
        rows += [
            [
                f"  run {i + 1}",
                r["wall_s"],
                r["ratio"],
                r["requests"],
                r["writes"],
                r["responses_429"],
            ]
            for i, r in enumerate(scenario["runs"])
        ]
        rows += [
            [f"  bound ({scenario['bound_by']})", scenario["bound_s"], 1.0, "-", "-", "-"],
            [
                "  median",
                scenario["median_wall_s"],
                scenario["median_ratio"],
                "-",
                "-",
                scenario["total_429"],
            ],
        ]
    rows.append(
        [f"target: <= {TARGET_RATIO}x, no 429", harness.verdict(result["met"]), "-", "-", "-", "-"]
    )
    harness.report(
        "B4 apply throughput (W1 from empty, emulator enforcing Stripe's two rate limits)",
        ["run", "wall s", "x bound", "requests", "writes", "429s"],
        rows,
        path,
    )
    return result


if __name__ == "__main__":
    main()

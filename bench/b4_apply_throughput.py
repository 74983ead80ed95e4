"""B4: apply W1 to an empty account while the emulator enforces 25 requests/s.

Stripe's test-mode limit is 25 requests/s, so W1's writes cannot finish in less than
writes / 25 s. The apply runs in-process (``apply_session``: account lookup, live read, plan,
execution with the default parallelism and the client's default rate limit, secrets to a
0600 file) and is timed from start to end; writes and 429s are counted from the emulator's
request log. The client limiter's configured rate is reported with the result.

    .venv/bin/python -m bench.b4_apply_throughput [--runs 3] [--rate-limit R]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness, workload
from reconciler.apply.secrets import FileSink, SecretSinks
from reconciler.apply.session import apply_session
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest import load_manifests
from reconciler.stripe import StripeConfig

SERVER_LIMIT = 25.0
TARGET_RATIO = 1.15


def apply_once(rate_limit: float | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(rate_limit=SERVER_LIMIT) as emulator:
        manifests = workload.write_manifests(Path(tmp) / "w1")
        manifest = load_manifests([str(manifests)]).manifest
        config = StripeConfig(
            api_key=harness.API_KEY, api_base=emulator.base_url, rate_limit=rate_limit
        )
        sinks = SecretSinks([FileSink(Path(tmp) / "secrets.env")])
        started = time.perf_counter()
        outcome = asyncio.run(apply_session(config, manifest, sinks))
        wall = time.perf_counter() - started
        log = emulator.requests()
    if outcome.result is None or not outcome.result.ok:
        raise SystemExit("apply did not complete")
    writes = sum(1 for r in log if r["method"] != "GET" and r["status"] == 200)
    throttled = sum(1 for r in log if r["status"] == 429)
    bound = writes / SERVER_LIMIT
    return {
        "wall_s": wall,
        "requests": len(log),
        "reads": sum(1 for r in log if r["method"] == "GET"),
        "writes": writes,
        "responses_429": throttled,
        "actions": len(outcome.result.results),
        "bound_s": bound,
        "ratio": wall / bound,
        "client_rate_limit": config.effective_rate_limit,
    }


def run(runs: int, rate_limit: float | None) -> dict[str, Any]:
    results = [apply_once(rate_limit) for _ in range(runs)]
    ratios = [r["ratio"] for r in results]
    worst_429 = max(r["responses_429"] for r in results)
    first = results[0]
    return {
        "server_limit_per_s": SERVER_LIMIT,
        "runs": results,
        "client_rate_limit": first["client_rate_limit"],
        "writes": first["writes"],
        "bound_s": first["bound_s"],
        "median_wall_s": harness.median([r["wall_s"] for r in results]),
        "median_ratio": harness.median(ratios),
        "worst_ratio": max(ratios),
        "total_429": sum(r["responses_429"] for r in results),
        "target": f"<= {TARGET_RATIO} x writes/{SERVER_LIMIT:g} s with zero 429s",
        "met": max(ratios) <= TARGET_RATIO and worst_429 == 0,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="client rate (default: the key mode's)"
    )
    args = parser.parse_args(argv)
    result = run(args.runs, args.rate_limit)
    path = harness.write_result("b4_apply_throughput", result)
    rows = [
        [f"run {i + 1}", r["wall_s"], r["ratio"], r["requests"], r["writes"], r["responses_429"]]
        for i, r in enumerate(result["runs"])
    ]
    rows += [
        ["bound: writes / 25 per s", result["bound_s"], 1.0, "-", result["writes"], "-"],
        ["median", result["median_wall_s"], result["median_ratio"], "-", "-", result["total_429"]],
        [f"client limiter: {result['client_rate_limit']:g}/s", "-", "-", "-", "-", "-"],
        [f"target: <= {TARGET_RATIO}x, no 429", harness.verdict(result["met"]), "-", "-", "-", "-"],
    ]
    harness.report(
        "B4 apply throughput (W1 from empty, emulator limit 25 requests/s)",
        ["run", "wall s", "x bound", "requests", "writes", "429s"],
        rows,
        path,
    )
    return result


if __name__ == "__main__":
    main()

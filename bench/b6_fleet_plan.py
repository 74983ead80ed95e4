"""B6: plan a fleet of connected accounts, already in sync, at 50 ms emulated latency.

W2 (``bench/fleet_workload.py``): N connected accounts (default 1,000), each with tax settings,
2 webhook endpoints and 3 tax registrations, selected by metadata (``connected_accounts``). A
plan of an in-sync account needs exactly 4 reads (one page per kind: tax settings, webhook
endpoints, event destinations, tax registrations); finding the accounts
needs ceil(N / 100) pages of ``GET /v1/accounts``. The emulator enforces Stripe's limits for
each connected account and, as the fleet's conservative default assumes, for the platform as a
whole too, so the reads cannot finish in less than

    bound = max(reads / global limit, busiest operation's reads / per-operation limit)

seconds. Scenarios: ``live`` (100/s global, 25/s per operation; the fleet at the live-key
defaults, 80/s and 24/s, written in the fleet file since the emulator's limits are the same for
either mode: the 1,000 reads of each kind bind), ``test`` (25/s and 25/s; the fleet at the test-key
defaults, 24/s: the global limit binds) and ``accounts`` (the emulator limits each connected
account alone, 25/s, and the fleet says ``platform: false``; no bound across accounts, shown for
scale).

Each run is the real ``stripe-reconciler plan --fleet … --detailed-exitcode`` process (exit 0
expected), timed, with its peak RSS; requests per account, listing pages and 429s come from the
emulator's log. Then ``plan --stripe-account`` processes, one per account, for a sample of the
accounts, one after another: the per-account time of the one-process-per-account way.

    .venv/bin/python -m bench.b6_fleet_plan [--accounts 1000] [--scenario live|test|accounts|all]
        [--sample 10]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fleet_workload, harness, workload
from reconciler.emulator.auth import account_for_key_body
from reconciler.resources.registry import specs

LATENCY_MS = 50.0
TARGET_RATIO = 1.2
TARGET_SPEEDUP = 10.0
TARGET_RSS_MB = 500.0
#: one read per registered kind (a singleton's GET or one list page)
READS = tuple(f"GET {spec.path}" for spec in specs())


@dataclass(frozen=True)
class Scenario:
    """The emulator's limits (per connected account, and for the platform unless None) and the
    fleet file's ``rate_limits`` (None: the key's defaults)."""

    server_limit: float
    server_operation_limit: float
    platform: bool
    rate_limits: dict[str, Any] | None


SCENARIOS = {
    "live": Scenario(
        100.0,
        25.0,
        True,
        {"per_account": {"rate": 80.0}, "platform": {"rate": 80.0, "operation_rate": 24.0}},
    ),
    "test": Scenario(25.0, 25.0, True, None),
    "accounts": Scenario(25.0, 25.0, False, {"platform": False}),
}


def bound_seconds(log: list[dict[str, Any]], scenario: Scenario) -> tuple[float, str]:
    """What Stripe's platform-wide limits allow for the successful reads of ``log``."""
    return fleet_workload.rate_bound(
        log, scenario.server_limit, scenario.server_operation_limit, "reads"
    )


def run_scenario(
    name: str, emulator: Any, fleet_dir: Path, accounts: list[str], env: dict[str, str]
) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    fleet_file = fleet_workload.write_fleet(fleet_dir / name, scenario.rate_limits)
    platform = scenario.server_limit if scenario.platform else None
    platform_operation = scenario.server_operation_limit if scenario.platform else None
    emulator.configure(
        latency_ms=LATENCY_MS,
        rate_limit=scenario.server_limit,
        operation_rate_limit=scenario.server_operation_limit,
        platform_rate_limit=platform,
        platform_operation_rate_limit=platform_operation,
    )
    start = max((r["seq"] for r in emulator.requests()), default=0)
    run = fleet_workload.run_cli(["plan", "--fleet", str(fleet_file), "--detailed-exitcode"], env)
    if run.code != 0:
        raise SystemExit(f"{name}: plan --fleet exited {run.code}: {run.stderr[-2000:]}")
    log = [r for r in emulator.requests() if r["seq"] > start]
    platform_id = account_for_key_body(harness.API_KEY.removeprefix("sk_test_"))
    per_account = Counter(r["account"] for r in log if r["account"] != platform_id)
    per_kind = Counter(f"{r['method']} {r['path']}" for r in log)
    listing = per_kind.get("GET /v1/accounts", 0)
    exact = sorted(per_account) == sorted(accounts) and set(per_account.values()) == {len(READS)}
    reads_ok = all(per_kind[read] == len(accounts) for read in READS)
    bound, binding = bound_seconds(log, scenario)
    return {
        "wall_s": run.wall_s,
        "peak_rss_mb": run.peak_rss_mb,
        "cpu_s": run.cpu_s,
        "requests": len(log),
        "listing_pages": listing,
        "one_read_per_kind": exact and reads_ok,
        "responses_429": sum(1 for r in log if r["status"] == 429),
        "bound_s": bound,
        "bound_by": binding,
        "ratio": run.wall_s / bound if scenario.platform else None,
        "per_account_s": run.wall_s / len(accounts),
        "summary": run.stdout.strip().splitlines()[-1],
    }


def sample_processes(
    emulator: Any, fleet_dir: Path, accounts: list[str], env: dict[str, str], count: int
) -> dict[str, Any]:
    """``plan --stripe-account`` for ``count`` accounts, one process after another."""
    emulator.configure(
        latency_ms=LATENCY_MS,
        rate_limit=25.0,
        operation_rate_limit=25.0,
        platform_rate_limit=None,
        platform_operation_rate_limit=None,
    )
    base = fleet_dir / "live" / "base"
    step = max(1, len(accounts) // count)
    walls = []
    for account in accounts[::step][:count]:
        run = fleet_workload.run_cli(["--stripe-account", account, "plan", str(base)], env)
        if run.code != 0 or not run.stdout.rstrip().endswith("No changes."):
            raise SystemExit(f"plan of {account} failed: {run.stderr[-2000:]}")
        walls.append(run.wall_s)
    return {"processes": len(walls), "median_s": harness.median(walls), "all_s": walls}


def run(count: int, names: list[str], sample: int) -> dict[str, Any]:
    from reconciler.emulator.server import EmulatorServer

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        accounts = sorted(fleet_workload.seed(emulator.base_url, harness.API_KEY, count))
        env = workload.cli_env(emulator.base_url, harness.API_KEY)
        fleet_dir = Path(tmp)
        fleet_workload.write_fleet(fleet_dir / "live")  # the sample plans its base/
        scenarios = {name: run_scenario(name, emulator, fleet_dir, accounts, env) for name in names}
        processes = sample_processes(emulator, fleet_dir, accounts, env, sample)
    for result in scenarios.values():
        result["speedup_per_account"] = processes["median_s"] / result["per_account_s"]
    bounded = [s for s in scenarios.values() if s["ratio"] is not None]
    return {
        "accounts": count,
        "latency_ms": LATENCY_MS,
        "scenarios": scenarios,
        "one_process_per_account": processes,
        "target": (
            f"<= {TARGET_RATIO} x the bound, {len(READS)} requests per account, "
            f">= {TARGET_SPEEDUP} x faster per account than a process each, "
            f"peak RSS <= {TARGET_RSS_MB} MB"
        ),
        "met": all(
            s["ratio"] <= TARGET_RATIO
            and s["one_read_per_kind"]
            and s["peak_rss_mb"] <= TARGET_RSS_MB
            and s["responses_429"] == 0
            for s in bounded
        ),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--sample", type=int, default=10)
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    result = run(args.accounts, names, args.sample)
    path = harness.write_result("b6_fleet_plan", result)
    rows: list[list[Any]] = []
    for name, s in result["scenarios"].items():
        rows.append(
            [
                name,
                s["wall_s"],
                "-" if s["ratio"] is None else s["ratio"],
                s["bound_s"],
                s["requests"],
                s["listing_pages"],
                s["one_read_per_kind"],
                s["responses_429"],
                s["peak_rss_mb"],
                s["per_account_s"],
                s["speedup_per_account"],
            ]
        )
    processes = result["one_process_per_account"]
    rows.append(
        [
            "one plan process per account",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            processes["median_s"],
            1.0,
        ]
    )
    rows.append([f"target: {result['target']}", harness.verdict(result["met"])] + ["-"] * 9)
    harness.report(
        f"B6 fleet plan ({result['accounts']} accounts in sync, {LATENCY_MS:g} ms latency)",
        [
            "scenario",
            "wall s",
            "x bound",
            "bound s",
            "requests",
            "pages",
            f"{len(READS)}/account",
            "429s",
            "RSS MB",
            "s/account",
            "speedup",
        ],
        rows,
        path,
    )
    return result


if __name__ == "__main__":
    main()

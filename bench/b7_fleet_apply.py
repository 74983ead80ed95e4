"""B7: apply a fleet from empty: N connected accounts (default 200), each getting W2's tax
settings, 2 webhook endpoints and 3 tax registrations, at 50 ms emulated latency.

The emulator enforces Stripe's limits for each connected account and for the platform as a
whole (the fleet's conservative default), so the fleet's requests cannot finish in less than

    bound = max(requests / global limit, busiest operation's requests / per-operation limit)

seconds, counting every successful request the apply needs (the account lookups and reads of
each account's apply, its writes, and the listings after creates). Scenarios: ``test`` (25/s
global and per operation, the fleet at the test-key defaults, 24/s), ``live`` (100/s global,
25/s per operation, the fleet at the live-key defaults written in its file, 80/s and 24/s: by
design a fifth of the global limit is left to the platform's own traffic, so this one runs near
1.25x its bound) and ``live96`` (the same with the fleet allowed 96/s, to show the pace reaches
the bound when allowed to).

The apply is the real ``stripe-reconciler apply --fleet … --auto-approve --secrets-file …``
process, timed, with its peak RSS; requests, writes and 429s come from the emulator's log, and
a ``plan --fleet`` afterwards must say no account has changes.

    .venv/bin/python -m bench.b7_fleet_apply [--accounts 200] [--scenario test|live|live96|all]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fleet_workload, harness, workload
from reconciler.emulator.server import EmulatorServer

LATENCY_MS = 50.0
TARGET_RATIO = 1.15


@dataclass(frozen=True)
class Scenario:
    server_limit: float
    server_operation_limit: float
    rate_limits: dict[str, Any] | None
    #: the target applies (the live default leaves a fifth of the limit unused on purpose)
    judged: bool = True


def _budgets(rate: float) -> dict[str, Any]:
    return {"per_account": {"rate": rate}, "platform": {"rate": rate, "operation_rate": 24.0}}


SCENARIOS = {
    "test": Scenario(25.0, 25.0, None),
    "live": Scenario(100.0, 25.0, _budgets(80.0), judged=False),
    "live96": Scenario(100.0, 25.0, _budgets(96.0)),
}


def bound_seconds(log: list[dict[str, Any]], scenario: Scenario) -> tuple[float, str]:
    return fleet_workload.rate_bound(
        log, scenario.server_limit, scenario.server_operation_limit, "requests"
    )


def run_scenario(name: str, count: int) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        accounts = fleet_workload.seed(emulator.base_url, harness.API_KEY, count, objects=False)
        fleet_file = fleet_workload.write_fleet(Path(tmp), scenario.rate_limits)
        env = workload.cli_env(emulator.base_url, harness.API_KEY)
        emulator.configure(
            latency_ms=LATENCY_MS,
            rate_limit=scenario.server_limit,
            operation_rate_limit=scenario.server_operation_limit,
            platform_rate_limit=scenario.server_limit,
            platform_operation_rate_limit=scenario.server_operation_limit,
        )
        start = max(r["seq"] for r in emulator.requests())
        secrets = Path(tmp) / "fleet.secrets.env"
        args = ["apply", "--fleet", str(fleet_file), "--auto-approve", "--secrets-file"]
        run = fleet_workload.run_cli([*args, str(secrets)], env)
        if run.code != 0:
            raise SystemExit(f"{name}: apply --fleet exited {run.code}: {run.stderr[-2000:]}")
        log = [r for r in emulator.requests() if r["seq"] > start]
        emulator.configure(latency_ms=0.0)
        after = fleet_workload.run_cli(["plan", "--fleet", str(fleet_file)], env)
        stored = sum(1 for line in secrets.read_text().splitlines() if "=" in line)
    bound, binding = bound_seconds(log, scenario)
    writes = [r for r in log if r["method"] != "GET" and r["status"] == 200]
    summary = f"Fleet: {count} accounts, 0 with changes, 0 failed."
    return {
        "accounts": len(accounts),
        "wall_s": run.wall_s,
        "peak_rss_mb": run.peak_rss_mb,
        "cpu_s": run.cpu_s,
        "requests": len(log),
        "writes": len(writes),
        "responses_429": sum(1 for r in log if r["status"] == 429),
        "bound_s": bound,
        "bound_by": binding,
        "ratio": run.wall_s / bound,
        "secrets_stored": stored,
        "converged": after.code == 0 and after.stdout.strip().splitlines()[-1] == summary,
        "judged": scenario.judged,
        "server_limit_per_s": scenario.server_limit,
        "fleet_rate_limits": scenario.rate_limits,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    scenarios = {name: run_scenario(name, args.accounts) for name in names}
    judged = [s for s in scenarios.values() if s["judged"]]
    result = {
        "accounts": args.accounts,
        "latency_ms": LATENCY_MS,
        "scenarios": scenarios,
        "target": f"<= {TARGET_RATIO} x the bound, zero 429s (test and live96)",
        "met": all(
            s["ratio"] <= TARGET_RATIO and s["responses_429"] == 0 and s["converged"]
            for s in judged
        )
        and all(s["secrets_stored"] == 2 * args.accounts for s in scenarios.values()),
    }
    path = harness.write_result("b7_fleet_apply", result)
    rows = [
        [
            name,
            s["wall_s"],
            s["ratio"],
            s["bound_s"],
            s["bound_by"],
            s["requests"],
            s["writes"],
            s["responses_429"],
            s["peak_rss_mb"],
            s["converged"],
        ]
        for name, s in scenarios.items()
    ]
    rows.append([f"target: {result['target']}", harness.verdict(result["met"])] + ["-"] * 8)
    harness.report(
        f"B7 fleet apply from empty ({args.accounts} accounts, {LATENCY_MS:g} ms latency)",
        [
            "scenario",
            "wall s",
            "x bound",
            "bound s",
            "bound by",
            "requests",
            "writes",
            "429s",
            "RSS MB",
            "converged",
        ],
        rows,
        path,
    )
    return result


if __name__ == "__main__":
    main()

"""B1: how many requests ``plan`` issues on a seeded W1, against the lower bound.

Lower bound: one tax settings GET plus one list page per 100 objects per v1 kind, and one page of
event destinations (W1 has none; even 16, the limit they share with webhook endpoints, fit the
first page of a v2 list), 1 + ceil(16/100) + 1 + ceil(150/100) = 5. A Terraform-style refresh of
one resource per request would need 1 + 16 + 1 + 150 = 168 (the empty destination list still
takes its one read). Counted from the emulator's request log while the real CLI
process runs ``plan`` on the seeded account.

    .venv/bin/python -m bench.b1_plan_requests
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import harness, workload
from reconciler.emulator.server import EmulatorServer
from reconciler.stripe.client import PAGE_LIMIT


def lower_bound(endpoints: int, registrations: int) -> int:
    """One settings GET, per v1 list kind one page per 100 objects (an empty list is one page),
    and one page of event destinations (at most 16 of them: one v2 page)."""
    return 2 + sum(max(1, math.ceil(n / PAGE_LIMIT)) for n in (endpoints, registrations))


def run() -> dict[str, Any]:
    bound = lower_bound(workload.ENDPOINTS, workload.REGISTRATIONS)
    per_resource = 2 + workload.ENDPOINTS + workload.REGISTRATIONS
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        manifests = workload.write_manifests(Path(tmp) / "w1")
        workload.seed(emulator.base_url, harness.API_KEY)
        mark = len(emulator.requests())
        process = subprocess.run(
            workload.plan_command(manifests),
            env=workload.cli_env(emulator.base_url, harness.API_KEY),
            capture_output=True,
            text=True,
            check=False,
        )
        log = emulator.requests()[mark:]
    if process.returncode != 0:
        raise SystemExit(f"plan failed ({process.returncode}): {process.stderr.strip()}")
    requests = len(log)
    by_path = Counter(f"{r['method']} {r['path']}" for r in log)
    return {
        "workload": {
            "webhook_endpoints": workload.ENDPOINTS,
            "tax_registrations": workload.REGISTRATIONS,
        },
        "requests": requests,
        "by_path": dict(sorted(by_path.items())),
        "writes": sum(1 for r in log if r["method"] != "GET"),
        "lower_bound": bound,
        "one_request_per_resource": per_resource,
        "ratio_to_bound": requests / bound,
        "fraction_of_per_resource": requests / per_resource,
        "plan_said_no_changes": process.stdout.rstrip().endswith("No changes."),
        "target": "requests == lower bound",
        "met": requests == bound,
    }


def main() -> dict[str, Any]:
    result = run()
    path = harness.write_result("b1_plan_requests", result)
    rows = [
        ["requests issued by plan", result["requests"]],
        ["lower bound 1+ceil(16/100)+1+ceil(150/100)", result["lower_bound"]],
        ["one request per resource", result["one_request_per_resource"]],
        ["ratio to the lower bound", result["ratio_to_bound"]],
        ["writes during plan", result["writes"]],
        ["seeded W1 planned to No changes", result["plan_said_no_changes"]],
        *([f"  {k}", v] for k, v in result["by_path"].items()),
        ["target: exactly the lower bound", harness.verdict(result["met"])],
    ]
    harness.report(
        "B1 plan requests (W1 seeded, real CLI process)", ["measure", "value"], rows, path
    )
    return result


if __name__ == "__main__":
    main()

"""Run B1-B7 in order, print every table and a summary, and write ``bench/results/summary.json``.

    .venv/bin/python -m bench.run_all [--quick]

``--quick`` uses fewer repetitions (for a smoke run); the default is what the README reports.
Exit code 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench import (
    b1_plan_requests,
    b2_plan_latency,
    b3_planning_cpu,
    b4_apply_throughput,
    b5_startup,
    b6_fleet_plan,
    b7_fleet_apply,
    harness,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    quick = parser.parse_args(argv).quick
    results: dict[str, dict[str, Any]] = {
        "B1 plan requests": b1_plan_requests.main(),
        "B2 plan latency": b2_plan_latency.main(["--runs", "3" if quick else "7"]),
        "B3 planning CPU": b3_planning_cpu.main(["--runs", "2" if quick else "5"]),
        "B4 apply throughput": b4_apply_throughput.main(["--runs", "1" if quick else "3"]),
        "B5 start-up": b5_startup.main(["--runs", "3" if quick else "9"]),
        "B6 fleet plan": b6_fleet_plan.main(
            ["--accounts", "200", "--scenario", "live", "--sample", "3"] if quick else []
        ),
        "B7 fleet apply": b7_fleet_apply.main(
            ["--accounts", "50", "--scenario", "test"] if quick else []
        ),
    }
    b1, b2, b3, b4, b5, b6, b7 = results.values()
    headline = {
        "B1 plan requests": f"{b1['requests']} requests (bound {b1['lower_bound']}, "
        f"per-resource {b1['one_request_per_resource']})",
        "B2 plan latency": f"{b2['in_process']['ratio']:.2f}x critical path in-process, "
        f"{b2['cli']['ratio']:.2f}x as a CLI process",
        "B3 planning CPU": f"{b3['unchanged']['build_plan_cpu_s']:.3f} s CPU, "
        f"{b3['unchanged']['build_plan_peak_mb']:.1f} MB traced, "
        f"{b3['process_peak_rss_mb']:.0f} MB RSS",
        "B4 apply throughput": f"{b4['median_ratio']:.3f}x bound (worst {b4['worst_ratio']:.3f}x), "
        f"{b4['total_429']} x 429",
        "B5 start-up": f"--help {b5['help']['median_s']:.3f} s, "
        f"validate {b5['validate_basic']['median_s']:.3f} s, "
        f"plan {b5['plan_over_validate_s']:+.3f} s over validate",
        "B6 fleet plan": ", ".join(
            f"{name} {s['ratio']:.2f}x bound, {s['speedup_per_account']:.1f}x per account, "
            f"{s['peak_rss_mb']:.0f} MB"
            for name, s in b6["scenarios"].items()
            if s["ratio"] is not None
        ),
        "B7 fleet apply": ", ".join(
            f"{name} {s['ratio']:.2f}x bound, {s['responses_429']} x 429"
            for name, s in b7["scenarios"].items()
        ),
    }
    rows = [
        [name, headline[name], harness.verdict(result["met"])] for name, result in results.items()
    ]
    summary = {name: {"headline": headline[name], "met": r["met"]} for name, r in results.items()}
    path = harness.write_result("summary", {"benchmarks": summary})
    harness.report("Summary", ["benchmark", "measured", "target"], rows, path)
    return 0 if all(r["met"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

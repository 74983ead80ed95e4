"""B3: CPU and memory of planning 10,000 resources against identical live state, then 10% changed.

At the planner level (``build_plan``), because manifest checks cap webhook endpoints at 16: the
desired state is built directly as a ``Manifest`` (1 tax settings, 4,999 endpoints, 5,000
registrations) and the live state as Stripe-shaped objects cloned from real emulator responses.
CPU is ``time.process_time`` (median of several runs); peak memory is the ``tracemalloc`` peak
during one ``build_plan`` (a separate run, as tracing slows Python down) and the process's peak
RSS. The text rendering and the checksum that ``plan`` adds are reported alongside.

    .venv/bin/python -m bench.b3_planning_cpu [--resources 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import copy
import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import httpx

from bench import harness, workload
from reconciler.emulator.server import EmulatorServer
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import Plan
from reconciler.plan.render import build_view, render
from reconciler.resources.base import LiveState
from reconciler.stripe import encode_form

TARGET_CPU_S = 1.0
TARGET_MEMORY_MB = 300.0
#: local taxes carry a jurisdiction, so thousands of distinct US registrations exist
LOCAL_TYPE = "local_amusement_tax"


def _templates() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One live endpoint, registration and tax settings object exactly as the API returns them."""
    with (
        EmulatorServer() as emulator,
        httpx.Client(base_url=emulator.base_url, auth=(harness.API_KEY, "")) as http,
    ):

        def post(path: str, params: dict[str, Any]) -> dict[str, Any]:
            response = http.post(
                path,
                content=encode_form(params).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        settings = post("/v1/tax/settings", workload.TAX_SETTINGS)
        endpoint = post(
            "/v1/webhook_endpoints",
            {
                "url": "https://hooks.example.com/x",
                "enabled_events": ["invoice.paid", "charge.failed"],
                "description": "template",
                "metadata": {"team": "payments"},
            },
        )
        registration = post(
            "/v1/tax/registrations",
            {
                "country": "US",
                "country_options": {
                    "us": {"type": LOCAL_TYPE, "state": "IL", LOCAL_TYPE: {"jurisdiction": "00000"}}
                },
                "active_from": "now",
            },
        )
    endpoint.pop("secret", None)
    return endpoint, registration, settings


def build_states(resources: int, changed_fraction: float) -> tuple[Manifest, LiveState, int]:
    """(desired, live, resources changed) with ``resources`` declared resources in all."""
    endpoint_t, registration_t, settings = _templates()
    count_endpoints = (resources - 1) // 2
    count_registrations = resources - 1 - count_endpoints
    every = round(1 / changed_fraction) if changed_fraction else 0
    endpoints: dict[str, Any] = {}
    live_endpoints = []
    changed = 0
    for i in range(count_endpoints):
        name = f"service-{i:05d}"
        events = ["invoice.paid", "charge.failed", "checkout.session.completed"][: 1 + i % 3]
        endpoints[name] = {
            "url": f"https://hooks{i % 50}.example.com/stripe/{i}",
            "enabled_events": events,
            "description": f"Service {i}",
            "metadata": {"team": f"team-{i % 7}"},
        }
        live = copy.deepcopy(endpoint_t)
        live.update(
            id=f"we_{i:024d}",
            url=endpoints[name]["url"],
            enabled_events=list(reversed(events)),
            description=f"Service {i}",
            metadata={
                "team": f"team-{i % 7}",
                "managed_by": "stripe-reconciler",
                "reconciler_name": name,
                "reconciler_connect": "false",
            },
        )
        if every and i % every == 0:
            live["description"] = f"Service {i} (edited in the Dashboard)"
            changed += 1
        live_endpoints.append(live)
    registrations: dict[str, Any] = {}
    live_registrations = []
    states = workload.US_STATES
    for i in range(count_registrations):
        state, jurisdiction = states[i % len(states)], f"{i:05d}"
        options = {
            "us": {"type": LOCAL_TYPE, "state": state, LOCAL_TYPE: {"jurisdiction": jurisdiction}}
        }
        registrations[f"us-{state.lower()}-{jurisdiction}"] = {
            "country": "US",
            "country_options": options,
            "active_from": "now",
        }
        live = copy.deepcopy(registration_t)
        live["id"] = f"taxreg_{i:024d}"
        live["country_options"]["us"]["state"] = state
        live["country_options"]["us"][LOCAL_TYPE] = {"jurisdiction": jurisdiction}
        if every and i % every == 0:
            live["expires_at"] = int(live["active_from"]) + 86_400 * 365
            changed += 1
        live_registrations.append(live)
    manifest = Manifest.model_validate(
        {
            "version": 1,
            "webhook_endpoints": endpoints,
            "tax_settings": workload.TAX_SETTINGS,
            "tax_registrations": registrations,
        }
    )
    live_state = LiveState(
        objects={
            "tax_settings": (settings,),
            "webhook_endpoints": tuple(live_endpoints),
            "tax_registrations": tuple(live_registrations),
        }
    )
    return manifest, live_state, changed


def _cpu(step: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        gc.collect()
        started = time.process_time()
        result = step()
        times.append(time.process_time() - started)
    return harness.median(times), result


def _peak_mb(step: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(resources: int, changed_fraction: float, runs: int) -> dict[str, Any]:
    manifest, live, changed = build_states(resources, changed_fraction)
    cpu, plan = _cpu(lambda: build_plan(manifest, live), runs)
    assert isinstance(plan, Plan)
    if len(plan.actions) != changed or plan.unchanged != resources - changed:
        raise SystemExit(f"unexpected plan: {plan.summary.line()} ({plan.unchanged} unchanged)")
    render_cpu, _ = _cpu(lambda: render(build_view(plan, secrets=()), "text", color=False), runs)
    checksum_cpu, _ = _cpu(lambda: plan.checksum, runs)
    return {
        "resources": resources,
        "changed": changed,
        "plan_summary": plan.summary.line(),
        "build_plan_cpu_s": cpu,
        "build_plan_peak_mb": _peak_mb(lambda: build_plan(manifest, live)),
        "render_text_cpu_s": render_cpu,
        "checksum_cpu_s": checksum_cpu,
    }


def run(resources: int, runs: int) -> dict[str, Any]:
    unchanged = measure(resources, 0.0, runs)
    changed = measure(resources, 0.10, runs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    met = (
        unchanged["build_plan_cpu_s"] <= TARGET_CPU_S
        and unchanged["build_plan_peak_mb"] <= TARGET_MEMORY_MB
        and rss_mb <= TARGET_MEMORY_MB
    )
    return {
        "runs": runs,
        "unchanged": unchanged,
        "ten_percent_changed": changed,
        "process_peak_rss_mb": rss_mb,
        "target": f"<= {TARGET_CPU_S} s CPU and <= {TARGET_MEMORY_MB:.0f} MB for 10,000 unchanged",
        "met": met,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.resources, args.runs)
    path = harness.write_result("b3_planning_cpu", result)
    same, diff = result["unchanged"], result["ten_percent_changed"]
    rows = [
        ["build_plan CPU (s)", same["build_plan_cpu_s"], diff["build_plan_cpu_s"]],
        [
            "build_plan peak traced memory (MB)",
            same["build_plan_peak_mb"],
            diff["build_plan_peak_mb"],
        ],
        ["render text CPU (s)", same["render_text_cpu_s"], diff["render_text_cpu_s"]],
        ["checksum CPU (s)", same["checksum_cpu_s"], diff["checksum_cpu_s"]],
        ["actions planned", diff["changed"] * 0, diff["changed"]],
        ["process peak RSS, all runs (MB)", result["process_peak_rss_mb"], "-"],
        ["target: <= 1 s CPU, <= 300 MB", harness.verdict(result["met"]), "-"],
    ]
    harness.report(
        f"B3 planning CPU ({args.resources:,} resources at the planner level)",
        ["measure", "unchanged", "10% changed"],
        rows,
        path,
    )
    return result


if __name__ == "__main__":
    main()

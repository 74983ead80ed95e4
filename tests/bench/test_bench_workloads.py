"""The benchmarks' workloads and counts stay right (no wall-clock assertion anywhere here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import b1_plan_requests, b3_planning_cpu, harness, workload
from reconciler.manifest import load_manifests
from reconciler.plan.builder import build_plan


def test_w1_manifests_validate_to_16_endpoints_and_150_distinct_registrations(
    tmp_path: Path,
) -> None:
    state = load_manifests([str(workload.write_manifests(tmp_path / "w1"))])
    manifest = state.manifest
    assert state.warnings == ()
    assert len(manifest.webhook_endpoints) == 16
    assert len(manifest.tax_registrations) == 150
    assert manifest.tax_settings is not None
    countries = [r.country for r in manifest.tax_registrations.values()]
    assert countries.count("US") == 50
    assert len(set(countries)) == 101


@pytest.mark.parametrize(
    ("endpoints", "registrations", "bound"),
    [(16, 150, 5), (0, 0, 4), (100, 100, 4), (101, 0, 5), (16, 1000, 13)],
)
def test_lower_bound_counts_pages_per_kind(endpoints: int, registrations: int, bound: int) -> None:
    assert b1_plan_requests.lower_bound(endpoints, registrations) == bound


def test_seeded_w1_plans_to_no_changes_with_exactly_the_lower_bound() -> None:
    result = b1_plan_requests.run()
    assert result["plan_said_no_changes"] is True
    assert result["by_path"] == {
        "GET /v1/tax/registrations": 2,
        "GET /v1/tax/settings": 1,
        "GET /v1/webhook_endpoints": 1,
        "GET /v2/core/event_destinations": 1,
    }
    assert (result["requests"], result["writes"], result["met"]) == (5, 0, True)


@pytest.mark.parametrize(("fraction", "changed"), [(0.0, 0), (0.1, 20)])
def test_planner_states_plan_exactly_the_changed_resources(fraction: float, changed: int) -> None:
    manifest, live, count = b3_planning_cpu.build_states(201, fraction)
    assert (len(manifest.webhook_endpoints), len(manifest.tax_registrations)) == (100, 100)
    plan = build_plan(manifest, live)
    assert count == changed
    assert len(plan.actions) == changed
    assert {a.action.value for a in plan.actions} <= {"update"}
    assert plan.unchanged == 201 - changed


def test_table_aligns_columns_and_spells_booleans() -> None:
    text = harness.table(["measure", "value"], [["requests", 4], ["ratio", 1.23456], ["ok", True]])
    assert text.splitlines() == [
        "measure   value",
        "--------  -----",
        "requests      4",
        "ratio     1.235",
        "ok          yes",
    ]


def test_a_seeded_w2_fleet_plans_to_no_changes_in_three_reads_per_account(
    tmp_path: Path,
) -> None:
    from collections import Counter

    from bench import b6_fleet_plan, fleet_workload
    from reconciler.emulator.server import EmulatorServer

    with EmulatorServer() as emulator:
        accounts = fleet_workload.seed(emulator.base_url, harness.API_KEY, 4)
        fleet_file = fleet_workload.write_fleet(tmp_path)
        start = emulator.requests()[-1]["seq"]
        env = workload.cli_env(emulator.base_url, harness.API_KEY)
        run = fleet_workload.run_cli(
            ["plan", "--fleet", str(fleet_file), "--detailed-exitcode"], env
        )
        log = [r for r in emulator.requests() if r["seq"] > start]
    assert run.code == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "Fleet: 4 accounts, 0 with changes, 0 failed."
    assert run.peak_rss_mb > 10  # wait4 gave the child's own figure
    per_account = Counter(r["account"] for r in log if r["path"] != "/v1/accounts")
    assert per_account == dict.fromkeys(accounts, 4)
    scenario = b6_fleet_plan.SCENARIOS["test"]
    bound, binding = b6_fleet_plan.bound_seconds(log, scenario)
    assert (bound, binding) == (17 / 25, "17 reads")

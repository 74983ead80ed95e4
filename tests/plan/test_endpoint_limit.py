"""Stripe's 16-endpoint limit, checked when the plan is built (review finding 9).

Apply creates and replaces before it deletes, and a replace creates the new endpoint before it
deletes the old one, so every live endpoint (ours or not) still exists when the new ones arrive.
"""

from __future__ import annotations

from typing import Any

import pytest
from plan_helpers import live_state

from reconciler.errors import EndpointLimitError, PlanError
from reconciler.manifest.model import Manifest
from reconciler.plan import builder
from reconciler.plan.builder import _and, build_plan
from reconciler.resources.changes import DUPLICATE_STEP
from reconciler.resources.registry import spec_of

NEW_VERSION = "2026-09-30.endive"


def endpoint(name: str, *, tagged: bool = True, api_version: str = "2024-06-20") -> dict[str, Any]:
    tags = {
        "managed_by": "stripe-reconciler",
        "reconciler_name": name,
        "reconciler_connect": "false",
    }
    return {
        "id": f"we_{name}",
        "url": f"https://example.com/{name}",
        "enabled_events": ["invoice.paid"],
        "status": "enabled",
        "api_version": api_version,
        "metadata": tags if tagged else {},
    }


def scenario(
    *, kept: int, untagged: int, creates: int, replaces: int, deletes: int, unmanaged: str
) -> tuple[Manifest, dict[str, Any]]:
    live = [endpoint(f"k{i}") for i in range(kept)]
    live += [endpoint(f"r{i}") for i in range(replaces)]
    live += [endpoint(f"d{i}") for i in range(deletes)]
    live += [endpoint(f"u{i}", tagged=False) for i in range(untagged)]
    declared: dict[str, Any] = {}
    for i in range(kept):
        declared[f"k{i}"] = {"url": f"https://example.com/k{i}", "enabled_events": ["invoice.paid"]}
    for i in range(replaces):
        declared[f"r{i}"] = {
            "url": f"https://example.com/r{i}",
            "enabled_events": ["invoice.paid"],
            "api_version": NEW_VERSION,
        }
    for i in range(creates):
        declared[f"c{i}"] = {"url": f"https://example.com/c{i}", "enabled_events": ["invoice.paid"]}
    manifest = Manifest.model_validate(
        {"version": 1, "policy": {"unmanaged": unmanaged}, "webhook_endpoints": declared}
    )
    return manifest, {"webhook_endpoints": live}


ADVICE = (
    "Stripe allows at most 16 per account and mode. Delete endpoints you no longer need first "
    "(in the Dashboard, or apply only their deletion with --target webhook_endpoints.<name> or "
    "webhook_endpoints[<id>]), or create fewer at a time with --target"
)
#: the advice when the pool holds event destinations too
POOL_ADVICE = (
    "Stripe allows at most 16 per account and mode (together: Stripe documents the limit for "
    "webhook endpoints, and stripe-reconciler counts event destinations against it too). "
    "Delete endpoints or destinations you no longer need first (in the Dashboard, or apply "
    "only their deletion with --target webhook_endpoints.<name>, webhook_endpoints[<id>], "
    "event_destinations.<name> or event_destinations[<id>]), or create fewer at a time with "
    "--target"
)
REPLACING = (
    " (a replace creates the new endpoint before it deletes the old one, one at a time at the "
    "limit)"
)


@pytest.mark.parametrize(
    ("kept", "untagged", "creates", "replaces", "deletes", "unmanaged", "message"),
    [
        (16, 0, 0, 0, 0, "report", None),  # full, nothing new: fine
        (15, 0, 1, 0, 0, "report", None),  # exactly 16
        (13, 1, 0, 1, 0, "report", None),  # 15 live + 1 replacement = 16
        # replaces run one at a time at the limit: one free place is enough for all of them
        (9, 0, 0, 6, 0, "report", None),
        (0, 0, 0, 15, 0, "report", None),
        (
            15,
            0,
            0,
            1,
            0,
            "report",
            "16 webhook endpoints exist (all managed by stripe-reconciler) and this plan "
            f"creates 0 and replaces 1{REPLACING} before it deletes any, so 17 would exist at "
            f"once; {ADVICE}",
        ),
        (
            10,
            0,
            0,
            6,
            0,
            "report",
            "16 webhook endpoints exist (all managed by stripe-reconciler) and this plan "
            f"creates 0 and replaces 6{REPLACING} before it deletes any, so 17 would exist at "
            f"once; {ADVICE}",
        ),
        (
            13,
            2,
            2,
            0,
            0,
            "report",
            "15 webhook endpoints exist (2 not managed by stripe-reconciler) and this plan "
            f"creates 2 before it deletes any, so 17 would exist at once; {ADVICE}",
        ),
        (
            # a create and a replace: the creates first, then one free place for the replace
            14,
            0,
            1,
            1,
            0,
            "report",
            "15 webhook endpoints exist (all managed by stripe-reconciler) and this plan "
            f"creates 1 and replaces 1{REPLACING} before it deletes any, so 17 would exist at "
            f"once; {ADVICE}",
        ),
        (
            # deletes of undeclared ones run last, so they free no room for the creates
            12,
            2,
            3,
            0,
            1,
            "delete",
            "15 webhook endpoints exist (2 not managed by stripe-reconciler) and this plan "
            f"creates 3 before it deletes any, so 18 would exist at once; {ADVICE}",
        ),
    ],
)
def test_endpoint_limit(
    kept: int,
    untagged: int,
    creates: int,
    replaces: int,
    deletes: int,
    unmanaged: str,
    message: str | None,
) -> None:
    manifest, live = scenario(
        kept=kept,
        untagged=untagged,
        creates=creates,
        replaces=replaces,
        deletes=deletes,
        unmanaged=unmanaged,
    )
    if message is None:
        plan = build_plan(manifest, live_state(live))
        assert plan.summary.create == creates
        assert plan.summary.replace == replaces
        return
    with pytest.raises(EndpointLimitError) as caught:
        build_plan(manifest, live_state(live))
    assert str(caught.value) == message
    assert isinstance(caught.value, PlanError)


def test_a_targeted_plan_counts_only_what_it_runs() -> None:
    manifest, live = scenario(
        kept=13, untagged=2, creates=2, replaces=0, deletes=0, unmanaged="report"
    )
    plan = build_plan(manifest, live_state(live), targets=("webhook_endpoints.c0",))
    assert [a.address for a in plan.actions] == ["webhook_endpoints.c0"]


def test_limits_can_be_left_to_the_caller() -> None:
    # drift reports what differs even when apply could not fix it in one go
    manifest, live = scenario(
        kept=15, untagged=0, creates=0, replaces=1, deletes=0, unmanaged="report"
    )
    plan = build_plan(manifest, live_state(live), check_limits=False)
    assert plan.summary.replace == 1


PENDING = {"reconciler_secret_pending": "true"}


@pytest.mark.parametrize(("pending", "creates"), [(16, 0), (4, 12), (1, 15)])
def test_replacing_undelivered_secrets_needs_no_free_place(pending: int, creates: int) -> None:
    """What an interrupted apply at the limit leaves behind is always plannable (issue 13.1):
    an endpoint whose secret was never delivered is deleted before its successor when there
    is no room, so its replace adds nothing to the peak."""
    manifest, live = scenario(
        kept=pending, untagged=0, creates=creates, replaces=0, deletes=0, unmanaged="report"
    )
    for obj in live["webhook_endpoints"]:
        obj["metadata"] = {**obj["metadata"], **PENDING}
    plan = build_plan(manifest, live_state(live))
    assert (plan.summary.create, plan.summary.replace) == (creates, pending)


def test_an_undelivered_secret_next_to_an_ordinary_replace_still_needs_one_place() -> None:
    manifest, live = scenario(
        kept=15, untagged=0, creates=0, replaces=1, deletes=0, unmanaged="report"
    )
    live["webhook_endpoints"][0]["metadata"].update(PENDING)
    with pytest.raises(EndpointLimitError, match=r"replaces 1 .* so 17 would exist at once"):
        build_plan(manifest, live_state(live))


def test_a_duplicate_left_by_an_interrupted_replace_frees_its_place_first() -> None:
    """16 exist: 14 kept, one replace still to do, and a name with its old and new twin. The
    old twin's delete finishes the interrupted replace and runs first, so the next replace
    fits (review finding 1)."""
    manifest, live = scenario(
        kept=14, untagged=0, creates=0, replaces=1, deletes=0, unmanaged="report"
    )
    twin = {**endpoint("k0", api_version="2024-06-20"), "id": "we_k0_old"}
    live["webhook_endpoints"].append(twin)
    plan = build_plan(manifest, live_state(live))
    finishing = [a for a in plan.actions if a.requests and a.requests[0].step == DUPLICATE_STEP]
    assert [(a.address, a.action.value) for a in finishing] == [
        ("webhook_endpoints.k0[we_k0_old]", "delete")
    ]
    assert plan.summary.replace == 1


def destination(name: str) -> dict[str, Any]:
    return {
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": ["v1.billing.meter.error_report_triggered"],
        "webhook_endpoint": {"url": f"https://example.com/{name}"},
    }


@pytest.mark.parametrize(("untagged", "destinations", "refused"), [(13, 3, False), (14, 3, True)])
def test_event_destinations_count_against_the_endpoint_limit(
    untagged: int, destinations: int, refused: bool
) -> None:
    """Webhook endpoints and event destinations share one limit of 16 (the safer reading of a
    limit Stripe documents for endpoints only)."""
    live = {"webhook_endpoints": [endpoint(f"u{i}", tagged=False) for i in range(untagged)]}
    manifest = Manifest.model_validate(
        {
            "version": 1,
            "event_destinations": {f"d{i}": destination(f"d{i}") for i in range(destinations)},
        }
    )
    if not refused:
        assert build_plan(manifest, live_state(live)).summary.create == destinations
        return
    with pytest.raises(EndpointLimitError) as caught:
        build_plan(manifest, live_state(live))
    assert str(caught.value) == (
        "14 webhook endpoints exist (14 not managed by stripe-reconciler) and this plan creates 3 "
        "before it deletes any, so 17 would exist at once; "
        f"{POOL_ADVICE}"
    )


def test_a_finishing_delete_that_frees_too_little_is_counted_once_and_named() -> None:
    """16 exist, one of them the old twin of a replace that stopped: its delete frees one
    place, two creates need two."""
    manifest, live = scenario(
        kept=15, untagged=0, creates=2, replaces=0, deletes=0, unmanaged="report"
    )
    live["webhook_endpoints"].append({**endpoint("k0"), "id": "we_k0_old"})
    with pytest.raises(EndpointLimitError) as caught:
        build_plan(manifest, live_state(live))
    assert str(caught.value) == (
        "16 webhook endpoints exist (all managed by stripe-reconciler; 1 of them duplicates that "
        "apply deletes first) and this plan creates 2 before it deletes any, so 17 would exist "
        f"at once; {ADVICE}"
    )


def test_creates_alone_past_the_limit_on_an_empty_account() -> None:
    manifest, live = scenario(
        kept=0, untagged=0, creates=17, replaces=0, deletes=0, unmanaged="report"
    )
    with pytest.raises(EndpointLimitError) as caught:
        build_plan(manifest, live_state(live))
    assert str(caught.value) == (
        "0 webhook endpoints exist (all managed by stripe-reconciler) and this plan creates 17 "
        f"before it deletes any, so 17 would exist at once; {ADVICE}"
    )


def test_a_kind_with_a_limit_of_its_own_is_a_pool_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind whose spec names no ``limit_pool`` counts against its own limit alone."""
    monkeypatch.setattr(
        builder, "pools", lambda: {"webhook_endpoints": (spec_of("webhook_endpoints"),)}
    )
    manifest, live = scenario(
        kept=16, untagged=0, creates=1, replaces=0, deletes=0, unmanaged="report"
    )
    with pytest.raises(EndpointLimitError) as caught:
        build_plan(manifest, live_state(live))
    assert str(caught.value) == (
        "16 webhook endpoints exist (all managed by stripe-reconciler) and this plan creates 1 "
        f"before it deletes any, so 17 would exist at once; {ADVICE}"
    )


def untagged_destination(index: int) -> dict[str, Any]:
    return {
        "id": f"ed_{index}",
        "object": "v2.core.event_destination",
        "name": f"hand {index}",
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": ["v1.billing.meter.error_report_triggered"],
        "events_from": ["@self"],
        "snapshot_api_version": None,
        "status": "enabled",
        "status_details": None,
        "description": "",
        "webhook_endpoint": {"url": f"https://example.com/hand{index}", "signing_secret": None},
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "metadata": {},
    }


def test_both_kinds_of_the_pool_are_counted_and_named() -> None:
    manifest, live = scenario(
        kept=11, untagged=0, creates=1, replaces=1, deletes=0, unmanaged="report"
    )
    live["event_destinations"] = [untagged_destination(i) for i in range(3)]
    with pytest.raises(EndpointLimitError) as caught:
        build_plan(manifest, live_state(live))
    assert str(caught.value) == (
        "12 webhook endpoints and 3 event destinations exist (3 not managed by "
        "stripe-reconciler) and this plan creates 1 and replaces 1 (a replace creates the new "
        "endpoint or destination before it deletes the old one, one at a time at the limit) "
        "before it deletes any, so 17 would exist at once; "
        f"{POOL_ADVICE}"
    )


@pytest.mark.parametrize(
    ("items", "text"),
    [(["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")],
)
def test_counts_are_listed_as_prose(items: list[str], text: str) -> None:
    assert _and(items) == text

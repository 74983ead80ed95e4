"""Recovering undelivered secrets from the live endpoints themselves (review finding 8)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.apply.recovery import pending_secret, recover_pending_secrets
from reconciler.manifest.model import Manifest
from reconciler.plan import ActionType, Plan, build_plan
from reconciler.plan.model import Action
from reconciler.resources.base import LiveState
from reconciler.resources.webhook_endpoint import SECRET_PENDING_KEY

ENDPOINT = {"url": "https://example.com/a", "enabled_events": ["invoice.paid"]}


def endpoint(endpoint_id: str, name: str | None, **metadata: str) -> dict[str, Any]:
    tags = (
        {"managed_by": "stripe-reconciler", "reconciler_name": name, "reconciler_connect": "false"}
        if name
        else {}
    )
    return {
        "id": endpoint_id,
        **ENDPOINT,
        "status": "enabled",
        "api_version": None,
        "description": None,
        "metadata": {**tags, **metadata},
    }


def declared(**lifecycle: Any) -> Manifest:
    return Manifest.model_validate(
        {"version": 1, "webhook_endpoints": {"orders": {**ENDPOINT, "lifecycle": lifecycle}}}
    )


PENDING = {SECRET_PENDING_KEY: "true"}


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [(PENDING, True), ({SECRET_PENDING_KEY: ""}, False), ({}, False), ({"x": "true"}, False)],
)
def test_pending_secret_reads_the_marker(metadata: dict[str, str], expected: bool) -> None:
    assert pending_secret(endpoint("we_1", "orders", **metadata)) is expected


def test_an_endpoint_the_plan_leaves_unchanged_is_replaced_when_its_secret_is_pending() -> None:
    # the plan left it alone (an older plan, or differences it ignores): no action to convert
    live = endpoint("we_P", "orders", **PENDING)
    desired = declared()
    plan = Plan.of([], [], [], unchanged=1)
    recovered = recover_pending_secrets(plan, [live], desired.webhook_endpoints)
    (action,) = recovered.actions
    assert (action.address, action.action, action.live_id) == (
        "webhook_endpoints.orders",
        ActionType.REPLACE,
        "we_P",
    )
    assert action.reason.startswith("its signing secret was never delivered")
    assert [(c.path, c.before, c.after) for c in action.changes] == [
        (f"metadata.{SECRET_PENDING_KEY}", "true", None)
    ]
    assert [(r.step, r.method, r.path) for r in action.requests] == [
        ("create", "POST", "/v1/webhook_endpoints"),
        ("delete", "DELETE", "/v1/webhook_endpoints/we_P"),
    ]
    assert action.fingerprint is not None
    assert recovered.unchanged == 0
    assert recovered.summary.replace == 1


def test_an_update_of_a_pending_endpoint_still_becomes_a_replace() -> None:
    live = endpoint("we_P", "orders", **PENDING)
    desired = declared()
    plan = build_plan(desired, LiveState(objects={"webhook_endpoints": (live,)}))
    assert [a.action for a in plan.actions] == [ActionType.UPDATE]
    recovered = recover_pending_secrets(plan, [live], desired.webhook_endpoints)
    assert [(a.action, a.live_id) for a in recovered.actions] == [(ActionType.REPLACE, "we_P")]


@pytest.mark.parametrize(
    ("live", "actions"),
    [
        # not ours, or not declared: nothing to recover
        ([endpoint("we_X", None, **PENDING)], []),
        ([endpoint("we_X", "gone", **PENDING)], []),
        # no marker: nothing to do
        ([endpoint("we_1", "orders")], []),
    ],
)
def test_only_declared_endpoints_of_ours_with_the_marker_are_recovered(
    live: list[dict[str, Any]], actions: list[Any]
) -> None:
    plan = Plan.of([], [], [], unchanged=1)
    recovered = recover_pending_secrets(plan, live, declared().webhook_endpoints)
    assert list(recovered.actions) == actions
    assert recovered.unchanged == 1


def test_a_pending_endpoint_the_plan_already_destroys_is_left_to_that_action() -> None:
    kept = endpoint("we_keep", "orders")
    extra = endpoint("we_dup", "orders", **PENDING)
    delete = Action(
        kind="webhook_endpoints",
        address="webhook_endpoints[we_dup]",
        action=ActionType.DELETE,
        reason="duplicate",
        live_id="we_dup",
    )
    plan = Plan.of([delete], [], [], unchanged=1)
    recovered = recover_pending_secrets(plan, [kept, extra], declared().webhook_endpoints)
    assert recovered.actions == plan.actions
    assert recovered.unchanged == 1


def test_a_protected_pending_endpoint_is_only_warned_about() -> None:
    live = endpoint("we_P", "orders", **PENDING)
    plan = Plan.of([], [], [], unchanged=1)
    recovered = recover_pending_secrets(plan, [live], declared(protect=True).webhook_endpoints)
    assert recovered.actions == ()
    assert recovered.warnings == (
        "webhook_endpoints.orders: the signing secret of we_P was never delivered, and "
        "lifecycle.protect prevents replacing it; roll it in the Dashboard",
    )

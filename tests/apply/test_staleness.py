"""Staleness: every way a recomputed plan can differ from the saved one is named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.apply.staleness import check_not_stale, plan_differences
from reconciler.errors import StalePlanError
from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report, Request

UPDATE = Action(
    kind="webhook_endpoints",
    address="webhook_endpoints.orders",
    action=ActionType.UPDATE,
    reason="fields differ",
    live_id="we_1",
    changes=(FieldChange("description", "a", "b"),),
    requests=(Request("update", "POST", "/v1/webhook_endpoints/we_1", {"description": "b"}),),
    fingerprint="f1",
)
CREATE = Action(
    kind="tax_registrations",
    address="tax_registrations.us-ca",
    action=ActionType.CREATE,
    reason="missing",
)
REPORT = Report("webhook_endpoints", "webhook_endpoints[we_9]", "unmanaged: x", "we_9")
SAVED = Plan.of([UPDATE, CREATE], [REPORT], [], 2)


def plan(*actions: Action, reports: tuple[Report, ...] = (REPORT,), unchanged: int = 2) -> Plan:
    return Plan.of(list(actions), list(reports), [], unchanged)


CASES = [
    ("identical", plan(UPDATE, CREATE), []),
    (
        "action gone",
        plan(UPDATE),
        ["tax_registrations.us-ca: planned create, now nothing to do"],
    ),
    (
        "action new",
        plan(
            UPDATE,
            CREATE,
            Action(
                kind="webhook_endpoints",
                address="webhook_endpoints[we_5]",
                action=ActionType.DELETE,
                reason="owned",
                live_id="we_5",
            ),
        ),
        ["webhook_endpoints[we_5]: not in the plan, now needs delete we_5"],
    ),
    (
        "action type changed",
        plan(
            Action(
                kind="webhook_endpoints",
                address="webhook_endpoints.orders",
                action=ActionType.CREATE,
                reason="gone",
            ),
            CREATE,
        ),
        ["webhook_endpoints.orders: planned update we_1, now create"],
    ),
    (
        "live object changed",
        plan(
            replace(UPDATE, fingerprint="f2"),
            CREATE,
        ),
        ["webhook_endpoints.orders: we_1 changed in Stripe"],
    ),
    (
        "field changed",
        plan(
            replace(
                UPDATE,
                changes=(FieldChange("description", "a", "b"), FieldChange("url", "u", "v")),
            ),
            CREATE,
        ),
        ["webhook_endpoints.orders: the update differs in url"],
    ),
    (
        "report new and gone",
        plan(UPDATE, CREATE, reports=(Report("tax_settings", "tax_settings", "pending", None),)),
        [
            "tax_settings: new: pending",
            "webhook_endpoints[we_9]: gone: unmanaged: x",
        ],
    ),
    (
        "unchanged count",
        plan(UPDATE, CREATE, unchanged=3),
        ["unchanged resources: 2 when planned, 3 now"],
    ),
]


@pytest.mark.parametrize(("label", "fresh", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_differences(label: str, fresh: Plan, expected: list[str]) -> None:
    assert plan_differences(SAVED, fresh) == expected


def test_stale_error_lists_changes_and_says_nothing_was_applied() -> None:
    with pytest.raises(StalePlanError) as caught:
        check_not_stale(SAVED, plan(UPDATE))
    assert caught.value.changes == ["tax_registrations.us-ca: planned create, now nothing to do"]
    assert str(caught.value) == (
        "the saved plan is stale: Stripe changed since it was made, so it is not what would "
        "happen now. Nothing was applied. Changes:\n"
        "  tax_registrations.us-ca: planned create, now nothing to do\n"
        "Run plan again, review it, and apply the new plan."
    )


def test_fresh_plan_passes() -> None:
    check_not_stale(SAVED, plan(UPDATE, CREATE))

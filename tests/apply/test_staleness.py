"""Staleness: anything the reviewer did not see is named; progress of the plan itself is not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.apply.staleness import (
    check_consistent,
    check_not_stale,
    created_since,
    plan_differences,
    unexplained_actions,
)
from reconciler.errors import PlanFileError, StalePlanError
from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report, Request
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveState

EP = "/v1/webhook_endpoints"
UPDATE = Action(
    kind="webhook_endpoints",
    address="webhook_endpoints.orders",
    action=ActionType.UPDATE,
    reason="fields differ",
    live_id="we_1",
    changes=(FieldChange("description", "a", "b"),),
    requests=(Request("update", "POST", f"{EP}/we_1", {"description": "b"}),),
    fingerprint="f1",
)
CREATE = Action(
    kind="tax_registrations",
    address="tax_registrations.us-ca",
    action=ActionType.CREATE,
    reason="missing",
    requests=(Request("create", "POST", "/v1/tax/registrations", {"country": "US"}),),
)
NEW_ENDPOINT = Request("create", "POST", EP, {"url": "https://x"})
REPLACE = Action(
    kind="webhook_endpoints",
    address="webhook_endpoints.alerts",
    action=ActionType.REPLACE,
    reason="api_version",
    live_id="we_old",
    requests=(NEW_ENDPOINT, Request("delete", "DELETE", f"{EP}/we_old")),
    fingerprint="f9",
)
REPORT = Report("webhook_endpoints", "webhook_endpoints[we_9]", "unmanaged: x", "we_9")
SAVED = Plan.of([UPDATE, CREATE, REPLACE], [REPORT], [], 2)


def plan(*actions: Action, reports: tuple[Report, ...] = (REPORT,), unchanged: int = 2) -> Plan:
    return Plan.of(list(actions), list(reports), [], unchanged)


def delete(live_id: str) -> Action:
    return Action(
        kind="webhook_endpoints",
        address=f"webhook_endpoints[{live_id}]",
        action=ActionType.DELETE,
        reason="owned",
        live_id=live_id,
        requests=(Request("delete", "DELETE", f"{EP}/{live_id}"),),
    )


CASES = [
    ("identical", plan(UPDATE, CREATE, REPLACE), []),
    ("all done already", plan(reports=()), []),
    ("some done, unchanged count moved", plan(UPDATE, unchanged=4), []),
    (
        "rest of a replace: the create",
        plan(
            replace(
                REPLACE,
                action=ActionType.CREATE,
                live_id=None,
                fingerprint=None,
                requests=(NEW_ENDPOINT,),
            )
        ),
        [],
    ),
    ("rest of a replace: deleting the old one", plan(delete("we_old")), []),
    ("an endpoint this plan created", plan(delete("we_mine")), []),
    (
        "a create that was not reviewed",
        plan(
            replace(
                REPLACE,
                action=ActionType.CREATE,
                live_id=None,
                fingerprint=None,
                requests=(Request("create", "POST", EP, {"url": "https://y"}),),
            )
        ),
        ["webhook_endpoints.alerts: planned replace we_old, now create"],
    ),
    (
        "action new",
        plan(UPDATE, delete("we_5")),
        ["webhook_endpoints[we_5]: not in the plan, now needs delete we_5"],
    ),
    (
        "action type changed",
        plan(replace(UPDATE, action=ActionType.CREATE, live_id=None)),
        ["webhook_endpoints.orders: planned update we_1, now create"],
    ),
    (
        "live object changed",
        plan(replace(UPDATE, fingerprint="f2")),
        ["webhook_endpoints.orders: we_1 changed in Stripe"],
    ),
    (
        "field changed",
        plan(
            replace(
                UPDATE,
                changes=(FieldChange("description", "a", "b"), FieldChange("url", "u", "v")),
            )
        ),
        ["webhook_endpoints.orders: the update differs in url"],
    ),
    (
        "report new (gone is fine)",
        plan(reports=(Report("tax_settings", "tax_settings", "pending", None),)),
        ["tax_settings: new: pending"],
    ),
]


@pytest.mark.parametrize(("label", "fresh", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan_differences(label: str, fresh: Plan, expected: list[str]) -> None:
    assert plan_differences(SAVED, fresh, own_ids={"we_mine"}) == expected


def test_stale_error_lists_changes_and_says_nothing_was_applied() -> None:
    with pytest.raises(StalePlanError) as caught:
        check_not_stale(SAVED, plan(replace(UPDATE, fingerprint="f2")))
    assert caught.value.changes == ["webhook_endpoints.orders: we_1 changed in Stripe"]
    assert str(caught.value) == (
        "the saved plan is stale: Stripe changed since it was made, so it is not what would "
        "happen now. Nothing was applied. Changes:\n"
        "  webhook_endpoints.orders: we_1 changed in Stripe\n"
        "Run plan again, review it, and apply the new plan."
    )


def test_fresh_plan_passes() -> None:
    check_not_stale(SAVED, plan(UPDATE, CREATE, REPLACE))


def tagged(obj_id: str, name: str | None, url: str = "https://x") -> dict[str, object]:
    metadata = {"managed_by": "stripe-reconciler", "reconciler_name": name} if name else {}
    return {"id": obj_id, "url": url, "metadata": metadata}


def test_created_since_names_only_unknown_endpoints_of_names_being_created() -> None:
    live = [
        tagged("we_old", "alerts"),  # known: the replace's own live object
        tagged("we_new", "alerts"),  # alerts is being replaced and this one is unknown: ours
        # made otherwise than the saved create: a newer plan's apply made it (review finding 3)
        tagged("we_newer", "alerts", url="https://elsewhere"),
        tagged("we_1", "orders"),  # known
        tagged("we_2", "orders"),  # orders is only updated: not ours to explain
        tagged("we_3", None),  # untagged
    ]
    assert created_since(SAVED, live) == {"we_new"}


# -- a saved action the recomputation lacks must show as done in Stripe (issue 13.13) --------

ORDERS = {
    "id": "we_1",
    "url": "https://x",
    "enabled_events": ["invoice.paid"],
    "status": "enabled",
    "metadata": {},
}
REGISTRATION = {
    "id": "taxreg_1",
    "country": "US",
    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
    "status": "active",
}


def live(endpoints: tuple[dict[str, Any], ...] = (), registrations: tuple[Any, ...] = ()) -> Any:
    return LiveState(objects={"webhook_endpoints": endpoints, "tax_registrations": registrations})


def fingerprint_of(obj: dict[str, Any]) -> str | None:
    return HANDLERS["webhook_endpoints"].fingerprint(obj)


US_CA = Request(
    "create",
    "POST",
    "/v1/tax/registrations",
    {"country": "US", "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}}},
)
EXPIRE = Action(
    kind="tax_registrations",
    address="tax_registrations[taxreg_1]",
    action=ActionType.EXPIRE,
    reason="undeclared",
    live_id="taxreg_1",
    requests=(Request("expire", "POST", "/v1/tax/registrations/taxreg_1", {}),),
)
CREATE_ALERTS = Action(
    kind="webhook_endpoints",
    address="webhook_endpoints.alerts",
    action=ActionType.CREATE,
    reason="missing",
    requests=(NEW_ENDPOINT,),
)

DONE_CASES = [
    # (label, saved action, live state, seen ids, unexplained?)
    ("update, object changed since", UPDATE, live((ORDERS,)), None, False),
    ("update, object gone", UPDATE, live(), None, False),
    (
        "update, object unchanged since",
        replace(UPDATE, fingerprint=fingerprint_of(ORDERS)),
        live((ORDERS,)),
        None,
        True,
    ),
    ("delete, object gone", delete("we_1"), live(), None, False),
    ("delete, object still there", delete("we_1"), live((ORDERS,)), None, True),
    (
        "expire, expired",
        EXPIRE,
        live(registrations=({**REGISTRATION, "status": "expired"},)),
        None,
        False,
    ),
    ("expire, still active", EXPIRE, live(registrations=(REGISTRATION,)), None, True),
    (
        "create, made after the plan",
        replace(CREATE, requests=(US_CA,)),
        live(registrations=(REGISTRATION,)),
        ("we_other",),
        False,
    ),
    (
        "create, it was there when the plan was made",
        replace(CREATE, requests=(US_CA,)),
        live(registrations=(REGISTRATION,)),
        ("taxreg_1",),
        True,
    ),
    ("create, nothing made", replace(CREATE, requests=(US_CA,)), live(), (), True),
    (
        "create of an endpoint, one tagged with its name made after the plan",
        CREATE_ALERTS,
        live((tagged("we_new", "alerts"),)),
        ("we_other",),
        False,
    ),
    (
        "create of an endpoint, only one tagged with another name made",
        CREATE_ALERTS,
        live((tagged("we_new", "orders"),)),
        ("we_other",),
        True,
    ),
    ("create, file without seen ids", replace(CREATE, requests=(US_CA,)), live(), None, False),
]


@pytest.mark.parametrize(
    ("saved", "state", "seen", "unexplained"),
    [case[1:] for case in DONE_CASES],
    ids=[case[0] for case in DONE_CASES],
)
def test_a_saved_action_missing_from_the_recomputation_must_show_as_done(
    saved: Action, state: LiveState, seen: tuple[str, ...] | None, unexplained: bool
) -> None:
    found = unexplained_actions(Plan.of([saved], [], [], 0), Plan(), state, seen=seen)
    assert bool(found) is unexplained
    if unexplained:
        assert found == [
            f"{saved.address}: the file plans {saved.action.value}"
            + (f" {saved.live_id}" if saved.live_id else "")
            + ", but the manifests it carries do not need it and Stripe does not show it as done"
        ]
        with pytest.raises(PlanFileError, match="modified after plan --out"):
            check_consistent(Plan.of([saved], [], [], 0), Plan(), state, seen=seen)


def test_a_counterpart_on_the_same_object_explains_a_half_done_replace() -> None:
    # the replace created its new endpoint; the recomputation deletes the old one
    saved = Plan.of(
        [replace(REPLACE, fingerprint=fingerprint_of({**ORDERS, "id": "we_old"}))], [], [], 0
    )
    fresh = Plan.of([delete("we_old")], [], [], 0)
    assert unexplained_actions(saved, fresh, live(({**ORDERS, "id": "we_old"},)), seen=()) == []


def test_tax_settings_changed_in_stripe_after_the_plan_make_it_stale() -> None:
    """`apply --plan` of a saved tax settings update: the head office set in the Dashboard
    since (a field the manifests leave to live) leaves the update as it was, but the reviewer
    never saw that account, so the plan is stale."""
    from reconciler.manifest.model import Manifest
    from reconciler.plan.builder import build_plan

    manifest = Manifest.model_validate(
        {"version": 1, "tax_settings": {"defaults": {"tax_code": "txcd_10000000"}}}
    )
    before = {"object": "tax.settings", "status": "active", "defaults": {"tax_code": None}}
    after = {**before, "head_office": {"address": {"country": "DE", "city": "Berlin"}}}

    def planned(settings: dict[str, Any]) -> Plan:
        live = LiveState(objects={"tax_settings": (settings,)})
        return build_plan(manifest, live, now=1_750_000_000)

    saved, fresh = planned(before), planned(after)
    assert (
        [a.changes for a in fresh.actions]
        == [a.changes for a in saved.actions]
        == [(FieldChange("defaults.tax_code", None, "txcd_10000000"),)]
    )
    assert plan_differences(saved, fresh) == ["tax_settings: the live object changed in Stripe"]
    with pytest.raises(StalePlanError):
        check_not_stale(saved, fresh)
    assert plan_differences(saved, planned(dict(before))) == []


def test_a_registration_that_started_since_the_plan_makes_it_stale() -> None:
    """The fingerprint covers a registration's status too: one scheduled when the plan was
    made and active now is not the object the reviewer saw, though the update is the same."""
    from reconciler.manifest.model import Manifest
    from reconciler.plan.builder import build_plan

    manifest = Manifest.model_validate(
        {
            "version": 1,
            "tax_registrations": {
                "us-ca": {
                    "country": "US",
                    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
                    "active_from": 1_760_000_000,
                    "expires_at": 1_900_000_000,
                }
            },
        }
    )
    scheduled = {
        "id": "taxreg_1",
        "country": "US",
        "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
        "active_from": 1_760_000_000,
        "expires_at": None,
        "status": "scheduled",
    }

    def planned(registration: dict[str, Any], now: int) -> Plan:
        live = LiveState(objects={"tax_registrations": (registration,)})
        return build_plan(manifest, live, now=now, check_limits=False)

    saved = planned(scheduled, 1_750_000_000)
    fresh = planned({**scheduled, "status": "active"}, 1_765_000_000)
    assert [a.changes for a in fresh.actions] == [a.changes for a in saved.actions]
    assert plan_differences(saved, fresh) == ["tax_registrations.us-ca: taxreg_1 changed in Stripe"]

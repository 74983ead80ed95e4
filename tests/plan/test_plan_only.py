"""``Plan.only``: which actions and reports each form of ``--target`` selects.

The grammar (model.py): a kind; an address, which covers its objects' cleanup
(``webhook_endpoints.x`` covers ``webhook_endpoints.x[we_dup]``); or one live object, as
``kind[id]`` or ``<address>[id]``, which brings the cleanup of its name along. Reports follow
the same rule as actions. The plan here is built by hand so that every form meets every kind of
address, including names tagged in the Dashboard with characters no manifest name may hold.
"""

from __future__ import annotations

import pytest

from reconciler.plan.model import Action, ActionType, Plan, Report


def _action(kind: str, address: str, action: ActionType, live_id: str | None) -> Action:
    return Action(kind=kind, address=address, action=action, reason="r", live_id=live_id)


ACTIONS = (
    _action("webhook_endpoints", "webhook_endpoints.x", ActionType.UPDATE, "we_keep"),
    _action("webhook_endpoints", "webhook_endpoints.x[we_dup]", ActionType.DELETE, "we_dup"),
    _action("webhook_endpoints", "webhook_endpoints.new", ActionType.CREATE, None),
    # tagged in the Dashboard with names that are not manifest names
    _action("webhook_endpoints", "webhook_endpoints.a.b[we_dot]", ActionType.DELETE, "we_dot"),
    _action("webhook_endpoints", "webhook_endpoints.a[b[we_bra]", ActionType.DELETE, "we_bra"),
    _action("tax_settings", "tax_settings", ActionType.UPDATE, None),
    _action("tax_registrations", "tax_registrations.us-ca", ActionType.EXPIRE, "taxreg_1"),
)
REPORTS = (
    Report("webhook_endpoints", "webhook_endpoints[we_hand]", "unmanaged", live_id="we_hand"),
    Report("webhook_endpoints", "webhook_endpoints.old[we_rep]", "tagged", live_id="we_rep"),
    Report("tax_settings", "tax_settings", "pending", live_id=None),
)
PLAN = Plan(actions=ACTIONS, reports=REPORTS, warnings=("w1", "w2"), unchanged=7)
ALL_ENDPOINTS = [a.address for a in ACTIONS if a.kind == "webhook_endpoints"]


@pytest.mark.parametrize(
    ("targets", "actions", "reports"),
    [
        (
            ("webhook_endpoints",),
            ALL_ENDPOINTS,
            ["webhook_endpoints[we_hand]", "webhook_endpoints.old[we_rep]"],
        ),
        # a name covers the cleanup of its duplicates
        (("webhook_endpoints.x",), ["webhook_endpoints.x", "webhook_endpoints.x[we_dup]"], []),
        # its object, in either form, brings that cleanup along
        (
            ("webhook_endpoints.x[we_keep]",),
            ["webhook_endpoints.x", "webhook_endpoints.x[we_dup]"],
            [],
        ),
        (
            ("webhook_endpoints[we_keep]",),
            ["webhook_endpoints.x", "webhook_endpoints.x[we_dup]"],
            [],
        ),
        # a duplicate's own object is just that duplicate
        (("webhook_endpoints[we_dup]",), ["webhook_endpoints.x[we_dup]"], []),
        (("webhook_endpoints.x[we_dup]",), ["webhook_endpoints.x[we_dup]"], []),
        # an id under another name or kind, or a create that has no object, selects nothing
        (("webhook_endpoints.y[we_keep]",), [], []),
        (("tax_registrations[we_keep]",), [], []),
        (("webhook_endpoints[None]",), [], []),
        (("webhook_endpoints.new",), ["webhook_endpoints.new"], []),
        # a name is cut at its object's id, never at the first dot or bracket of a tagged name
        (("webhook_endpoints.a",), [], []),
        (("webhook_endpoints.a.b",), ["webhook_endpoints.a.b[we_dot]"], []),
        (("webhook_endpoints.a[b",), ["webhook_endpoints.a[b[we_bra]"], []),
        (("webhook_endpoints[we_bra]",), ["webhook_endpoints.a[b[we_bra]"], []),
        # reports follow the same rule
        (("webhook_endpoints[we_hand]",), [], ["webhook_endpoints[we_hand]"]),
        (("webhook_endpoints[we_rep]",), [], ["webhook_endpoints.old[we_rep]"]),
        (("webhook_endpoints.old",), [], ["webhook_endpoints.old[we_rep]"]),
        (("tax_settings",), ["tax_settings"], ["tax_settings"]),
        (
            ("tax_registrations.us-ca[taxreg_1]", "tax_settings"),
            ["tax_settings", "tax_registrations.us-ca"],
            ["tax_settings"],
        ),
        (("tax_registrations[taxreg_1]",), ["tax_registrations.us-ca"], []),
    ],
)
def test_each_form_of_a_target_selects_exactly_its_items(
    targets: tuple[str, ...], actions: list[str], reports: list[str]
) -> None:
    chosen = PLAN.only(targets)
    assert [a.address for a in chosen.actions] == actions
    assert [r.address for r in chosen.reports] == reports


def test_a_targeted_plan_keeps_the_warnings_and_the_unchanged_count() -> None:
    chosen = PLAN.only(("webhook_endpoints.new",))
    assert (chosen.warnings, chosen.unchanged) == (("w1", "w2"), 7)


def test_no_target_is_the_whole_plan() -> None:
    assert PLAN.only(()) is PLAN

"""The registration checks on hand-built requests: every edge of both rules, one row each.

The plan cases (53, 54, 80) reach these checks through whole plans; a plan only builds some of the
requests the checks must judge (an end at the very start, a start sent as ``now`` against an end
already past, a bool where a time belongs), so the table drives the checks directly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import RegistrationRefusedError
from reconciler.manifest.model import Manifest
from reconciler.resources.base import LiveState
from reconciler.resources.changes import Action, ActionType, Request
from reconciler.resources.tax_registration_checks import (
    check_registration_requests,
    head_office_dependency,
    sets_head_office,
)

NOW = 1_800_000_000
DAY = 86_400
HEAD_OFFICE = {"head_office": {"address": {"country": "US", "state": "CA"}}}
LIVE_CA = {"id": "taxreg_ca", "active_from": NOW + 10 * DAY, "expires_at": None}
MANIFEST = Manifest.model_validate({"version": 1})


def registration(
    step: str,
    params: dict[str, Any],
    action: ActionType = ActionType.UPDATE,
    live_id: str | None = "taxreg_ca",
) -> Action:
    return Action(
        kind="tax_registrations",
        address="tax_registrations.us-ca",
        action=action,
        reason="test",
        live_id=live_id,
        requests=(Request(step, "POST", "/v1/tax/registrations", params),),
    )


def settings_update(params: dict[str, Any]) -> Action:
    return Action(
        kind="tax_settings",
        address="tax_settings",
        action=ActionType.UPDATE,
        reason="test",
        requests=(Request("update", "POST", "/v1/tax/settings", params),),
    )


def create(params: dict[str, Any]) -> Action:
    return registration("create", params, ActionType.CREATE, live_id=None)


def live(
    settings: dict[str, Any] | None = HEAD_OFFICE,
    registrations: tuple[dict[str, Any], ...] = (LIVE_CA,),
) -> LiveState:
    objects: dict[str, tuple[dict[str, Any], ...]] = {"tax_registrations": registrations}
    if settings is not None:
        objects["tax_settings"] = (settings,)
    return LiveState(objects)


KEEPS_START = (
    "declare an expires_at after active_from, "
    "or stop ignoring active_from (lifecycle.ignore_changes)"
)
KEEPS_END = (
    "declare an active_from before expires_at, "
    "or stop ignoring expires_at (lifecycle.ignore_changes)"
)
SENDS_BOTH = "declare an expires_at after active_from"


def ends_before(end: int, start: int, hint: str) -> str:
    from reconciler.resources.tax_registration_windows import iso

    return (
        f"tax_registrations.us-ca: it would end ({iso(end)}) before it starts ({iso(start)}), "
        f"which Stripe refuses; {hint}"
    )


def assert_checked(actions: list[Action], state: LiveState, refusal: str | None) -> None:
    """The checks pass the actions (``refusal`` None), or refuse them with exactly ``refusal``."""
    if refusal is None:
        check_registration_requests(actions, MANIFEST, state, NOW)
        return
    with pytest.raises(RegistrationRefusedError) as raised:
        check_registration_requests(actions, MANIFEST, state, NOW)
    assert str(raised.value) == refusal


WINDOW_CASES = [
    # (id, actions, live, refusal or None)
    (
        "an end one second before the kept start",
        [registration("update", {"expires_at": NOW + 10 * DAY - 1})],
        live(),
        ends_before(NOW + 10 * DAY - 1, NOW + 10 * DAY, KEEPS_START),
    ),
    (
        "an end at the kept start: never active, allowed",
        [registration("update", {"expires_at": NOW + 10 * DAY})],
        live(),
        None,
    ),
    (
        "a start moved one second past the kept end",
        [registration("update", {"active_from": NOW + 5 * DAY + 1})],
        live(
            registrations=(
                {"id": "taxreg_ca", "active_from": NOW + DAY, "expires_at": NOW + 5 * DAY},
            )
        ),
        ends_before(NOW + 5 * DAY, NOW + 5 * DAY + 1, KEEPS_END),
    ),
    (
        "a start moved onto the kept end",
        [registration("update", {"active_from": NOW + 5 * DAY})],
        live(
            registrations=(
                {"id": "taxreg_ca", "active_from": NOW + DAY, "expires_at": NOW + 5 * DAY},
            )
        ),
        None,
    ),
    (
        "a create starting now with an end already past",
        [create({"active_from": "now", "expires_at": NOW - 1})],
        live(),
        ends_before(NOW - 1, NOW, SENDS_BOTH),
    ),
    (
        "a create starting now and ending now",
        [create({"active_from": "now", "expires_at": NOW})],
        live(),
        None,
    ),
    (
        "an update ending before a start sent as now",
        [registration("update", {"active_from": "now", "expires_at": NOW - DAY})],
        live(),
        ends_before(NOW - DAY, NOW, SENDS_BOTH),
    ),
    # a create has nothing before it: the live object of the same id is not its start
    (
        "a create never reads the live object it shares an id with",
        [registration("create", {"expires_at": NOW + DAY}, ActionType.REPLACE)],
        live(),
        None,
    ),
    # a replace's create follows its expire: the expire is passed over, the create still judged
    (
        "a replace whose create ends before it starts",
        [
            Action(
                kind="tax_registrations",
                address="tax_registrations.us-ca",
                action=ActionType.REPLACE,
                reason="test",
                live_id="taxreg_ca",
                requests=(
                    Request("expire", "POST", "/v1/tax/registrations/taxreg_ca", {"expires_at": 1}),
                    Request(
                        "create",
                        "POST",
                        "/v1/tax/registrations",
                        {"active_from": "now", "expires_at": NOW - DAY},
                    ),
                ),
            )
        ],
        live(),
        ends_before(NOW - DAY, NOW, SENDS_BOTH),
    ),
    (
        "a refusal after another kind's action",
        [settings_update(HEAD_OFFICE), registration("update", {"expires_at": NOW})],
        live(),
        ends_before(NOW, NOW + 10 * DAY, KEEPS_START),
    ),
    (
        "a refusal after a request that is not judged",
        [
            Action(
                kind="tax_registrations",
                address="tax_registrations.us-ca",
                action=ActionType.UPDATE,
                reason="test",
                live_id="taxreg_ca",
                requests=(
                    Request(
                        "expire", "POST", "/v1/tax/registrations/taxreg_ca", {"expires_at": "now"}
                    ),
                    Request(
                        "update", "POST", "/v1/tax/registrations/taxreg_ca", {"expires_at": NOW}
                    ),
                ),
            )
        ],
        live(),
        ends_before(NOW, NOW + 10 * DAY, KEEPS_START),
    ),
    (
        "an unknown object keeps nothing",
        [registration("update", {"expires_at": NOW}, live_id="taxreg_gone")],
        live(),
        None,
    ),
    ('an end of "" is no end', [registration("update", {"expires_at": ""})], live(), None),
    (
        "a bool is not a time",
        [registration("update", {"active_from": True, "expires_at": 0})],
        live(),
        None,
    ),
    (
        "an expire request is not judged",
        [registration("expire", {"expires_at": NOW - DAY}, ActionType.EXPIRE)],
        live(),
        None,
    ),
    (
        "another kind's requests are not judged",
        [
            Action(
                kind="webhook_endpoints",
                address="webhook_endpoints.us-ca",
                action=ActionType.UPDATE,
                reason="test",
                live_id="taxreg_ca",
                requests=(Request("update", "POST", "/v1/x", {"expires_at": 1}),),
            )
        ],
        live(),
        None,
    ),
]


@pytest.mark.parametrize(
    ("actions", "state", "refusal"),
    [case[1:] for case in WINDOW_CASES],
    ids=[case[0] for case in WINDOW_CASES],
)
def test_a_window_that_ends_before_it_starts_is_refused_with_what_to_change(
    actions: list[Action], state: LiveState, refusal: str | None
) -> None:
    assert_checked(actions, state, refusal)


NO_HEAD_OFFICE = (
    "tax_registrations.us-ca: the account has no head office address, and Stripe refuses to create "
    "a tax registration without one; declare tax_settings.head_office.address in the manifests "
    "(apply sets it before any registration) or set it in the Dashboard (Settings → Tax)"
)
FUTURE = {"active_from": NOW + DAY}

HEAD_OFFICE_CASES = [
    (
        "a create without a head office",
        [create(FUTURE)],
        live(settings={"head_office": None}),
        NO_HEAD_OFFICE,
    ),
    (
        "a replace creates too",
        [registration("create", FUTURE, ActionType.REPLACE)],
        live(settings={}),
        NO_HEAD_OFFICE,
    ),
    (
        "an update needs none",
        [registration("update", {"expires_at": NOW + 20 * DAY})],
        live(settings={}),
        None,
    ),
    (
        "every create is named",
        [
            create(FUTURE),
            replace(create(FUTURE), address="tax_registrations.us-ny"),
        ],
        live(settings={}),
        NO_HEAD_OFFICE.replace(
            "tax_registrations.us-ca:", "tax_registrations.us-ca, tax_registrations.us-ny:"
        ),
    ),
    ("the account has one", [create(FUTURE)], live(), None),
    ("the plan sets one", [settings_update(HEAD_OFFICE), create(FUTURE)], live(settings={}), None),
    (
        "a settings update without a head office does not",
        [settings_update({"defaults": {"tax_code": "txcd_1"}}), create(FUTURE)],
        live(settings={}),
        NO_HEAD_OFFICE,
    ),
    (
        "every create is named",
        [
            create(FUTURE),
            Action(
                kind="tax_registrations",
                address="tax_registrations.us-ny",
                action=ActionType.CREATE,
                reason="test",
                requests=(Request("create", "POST", "/v1/tax/registrations", FUTURE),),
            ),
        ],
        live(settings={}),
        NO_HEAD_OFFICE.replace(
            "tax_registrations.us-ca:", "tax_registrations.us-ca, tax_registrations.us-ny:"
        ),
    ),
    # live state read without the settings (registrations alone) cannot say there is none
    ("live state without settings", [create(FUTURE)], live(settings=None), None),
]


@pytest.mark.parametrize(
    ("actions", "state", "refusal"),
    [case[1:] for case in HEAD_OFFICE_CASES],
    ids=[case[0] for case in HEAD_OFFICE_CASES],
)
def test_a_registration_create_needs_a_head_office(
    actions: list[Action], state: LiveState, refusal: str | None
) -> None:
    assert_checked(actions, state, refusal)


def test_both_rules_are_named_in_one_refusal() -> None:
    late_end = registration("update", {"expires_at": NOW})
    new = Action(
        kind="tax_registrations",
        address="tax_registrations.us-ny",
        action=ActionType.CREATE,
        reason="test",
        requests=(Request("create", "POST", "/v1/tax/registrations", FUTURE),),
    )
    with pytest.raises(RegistrationRefusedError) as raised:
        check_registration_requests([late_end, new], MANIFEST, live(settings={}), NOW)
    assert str(raised.value) == (
        NO_HEAD_OFFICE.replace("tax_registrations.us-ca:", "tax_registrations.us-ny:")
        + "; "
        + ends_before(NOW, NOW + 10 * DAY, KEEPS_START)
    )


SETS = settings_update(HEAD_OFFICE)
DEPENDENCY_CASES = [
    # (id, targeted, full, live, included)
    (
        "a targeted create brings the settings that set the head office",
        [create(FUTURE)],
        [SETS, create(FUTURE)],
        live(settings={}),
        [SETS],
    ),
    ("not when the account has one", [create(FUTURE)], [SETS, create(FUTURE)], live(), []),
    (
        "not when the target already holds the settings",
        [SETS, create(FUTURE)],
        [SETS, create(FUTURE)],
        live(settings={}),
        [],
    ),
    (
        "not when the full plan does not set one either",
        [create(FUTURE)],
        [settings_update({"defaults": {"tax_code": "txcd_1"}}), create(FUTURE)],
        live(settings={}),
        [],
    ),
    (
        "not for an update",
        [registration("update", {"expires_at": NOW + 20 * DAY})],
        [SETS],
        live(settings={}),
        [],
    ),
]


@pytest.mark.parametrize(
    ("targeted", "full", "state", "included"),
    [case[1:] for case in DEPENDENCY_CASES],
    ids=[case[0] for case in DEPENDENCY_CASES],
)
def test_a_targeted_registration_brings_the_head_office_it_needs(
    targeted: list[Action], full: list[Action], state: LiveState, included: list[Action]
) -> None:
    actions, warning = head_office_dependency(targeted, full, state)
    assert actions == included
    assert warning == (
        "tax_settings: included although not targeted: the targeted registrations need the head "
        "office it sets (Stripe refuses a registration without one)"
        if included
        else ""
    )


@pytest.mark.parametrize(
    ("actions", "sets"),
    [
        ([SETS], True),
        ([settings_update({"head_office": {}})], False),
        ([settings_update({})], False),
        ([registration("update", HEAD_OFFICE)], False),
        ([], False),
    ],
    ids=["head office sent", "empty head office", "nothing sent", "another kind", "no actions"],
)
def test_sets_head_office(actions: list[Action], sets: bool) -> None:
    assert sets_head_office(actions) is sets

"""``--target`` names something: a kind, a declared address, or a live object's address.

A typo used to print ``No changes.`` and exit 0, which reads as "nothing to do" in CI.
"""

from __future__ import annotations

from typing import Any

import pytest
from plan_helpers import live_state

from reconciler.errors import UsageError
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.targets import check_targets

DESIRED: dict[str, Any] = {
    "version": 1,
    "webhook_endpoints": {
        "orders": {"url": "https://example.com/orders", "enabled_events": ["invoice.paid"]},
        "billing": {"url": "https://example.com/billing", "enabled_events": ["invoice.paid"]},
    },
    "tax_registrations": {
        "us-ca": {
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
        }
    },
}
LIVE: dict[str, Any] = {
    "webhook_endpoints": [
        {"id": "we_left", "url": "https://example.com/x", "enabled_events": ["*"], "metadata": {}}
    ],
    "tax_registrations": [
        {
            "id": "taxreg_old",
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "NY"}},
            "status": "active",
            "active_from": 1,
            "expires_at": None,
        }
    ],
    "tax_settings": {"object": "tax.settings", "status": "active"},
}
MANIFEST = Manifest.model_validate(DESIRED)
HINT = (
    " (a target is a kind, a declared address such as webhook_endpoints.<name>, or a live "
    "object's address as plan shows it, such as webhook_endpoints[we_…])"
)


@pytest.mark.parametrize(
    "targets",
    [
        (),
        ("webhook_endpoints",),
        ("tax_settings",),  # a kind even when nothing declares it
        ("tax_registrations", "webhook_endpoints.orders"),
        ("tax_registrations.us-ca",),
        ("webhook_endpoints[we_left]",),  # an unmanaged or orphaned live object
        ("tax_registrations[taxreg_old]",),
    ],
)
def test_known_targets_pass(targets: tuple[str, ...]) -> None:
    check_targets(targets, MANIFEST, live_state(LIVE))


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("bogus", "unknown --target 'bogus': 'bogus' is not a kind" + HINT),
        (
            "webhook_endpoint",
            "unknown --target 'webhook_endpoint': 'webhook_endpoint' is not a kind; did you "
            "mean 'webhook_endpoints'?",
        ),
        (
            "webhook_endpoints.nope",
            "unknown --target 'webhook_endpoints.nope': no webhook_endpoints named 'nope' is "
            "declared" + HINT,
        ),
        (
            "webhook_endpoints.order",
            "unknown --target 'webhook_endpoints.order': no webhook_endpoints named 'order' is "
            "declared; did you mean 'webhook_endpoints.orders'?",
        ),
        (
            "tax_registrations.us-ny",
            "unknown --target 'tax_registrations.us-ny': no tax_registrations named 'us-ny' is "
            "declared; did you mean 'tax_registrations.us-ca'?",
        ),
        (
            "webhook_endpoints[we_lef]",
            "unknown --target 'webhook_endpoints[we_lef]': no live webhook_endpoints object has "
            "that id; did you mean 'webhook_endpoints[we_left]'?",
        ),
        (
            "webhooks.orders",
            "unknown --target 'webhooks.orders': 'webhooks' is not a kind; did you mean "
            "'webhook_endpoints.orders'?",
        ),
        (
            # the kind ends at the first dot or bracket, whatever follows
            "webhook_endpoints.ord.ers",
            "unknown --target 'webhook_endpoints.ord.ers': no webhook_endpoints named 'ord.ers' "
            "is declared; did you mean 'webhook_endpoints.orders'?",
        ),
        (
            "webhook_endpoints[we_left][0]",
            "unknown --target 'webhook_endpoints[we_left][0]': no live webhook_endpoints object "
            "has that id; did you mean 'webhook_endpoints[we_left]'?",
        ),
        (
            # a typo in the first letter of the name still finds it
            "webhook_endpoints.xrders",
            "unknown --target 'webhook_endpoints.xrders': no webhook_endpoints named 'xrders' is "
            "declared; did you mean 'webhook_endpoints.orders'?",
        ),
        (
            "tax_settings.head_office",
            "unknown --target 'tax_settings.head_office': tax_settings is one object; target it "
            "as 'tax_settings'",
        ),
    ],
)
def test_unknown_targets_are_usage_errors(target: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_targets((target,), MANIFEST, live_state(LIVE))
    assert str(caught.value) == message


def test_every_unknown_target_is_named() -> None:
    with pytest.raises(UsageError) as caught:
        check_targets(("bogus", "webhook_endpoints", "nope"), MANIFEST, live_state(LIVE))
    assert str(caught.value) == (
        "unknown --target 'bogus': 'bogus' is not a kind; unknown --target 'nope': 'nope' is not "
        "a kind" + HINT
    )


TAGGED_LEFTOVER = {
    "id": "we_gone",
    "url": "https://example.com/gone",
    "enabled_events": ["invoice.paid"],
    "status": "enabled",
    "metadata": {
        "managed_by": "stripe-reconciler",
        "reconciler_name": "legacy",
        "reconciler_connect": "false",
    },
}


@pytest.mark.parametrize(
    "target",
    ["webhook_endpoints.legacy", "webhook_endpoints.legacy[we_gone]", "webhook_endpoints[we_gone]"],
)
def test_an_endpoint_tagged_with_a_name_no_longer_declared_is_targeted_three_ways(
    target: str,
) -> None:
    """Its address is webhook_endpoints.legacy[we_gone]; the name alone and kind[id] work too,
    as README's advice for the endpoint limit says, and each plans exactly its deletion."""
    live = live_state({**LIVE, "webhook_endpoints": [*LIVE["webhook_endpoints"], TAGGED_LEFTOVER]})
    check_targets((target,), MANIFEST, live)
    plan = build_plan(MANIFEST, live, targets=(target,))
    assert [(a.address, a.action.value) for a in plan.actions] == [
        ("webhook_endpoints.legacy[we_gone]", "delete")
    ]


def tagged(endpoint_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": endpoint_id,
        "url": f"https://example.com/{name}",
        "enabled_events": ["invoice.paid"],
        "status": "enabled",
        "metadata": {
            "managed_by": "stripe-reconciler",
            "reconciler_name": name,
            "reconciler_connect": "false",
        },
        **extra,
    }


X = Manifest.model_validate(
    {
        "version": 1,
        "webhook_endpoints": {
            "x": {"url": "https://example.com/x", "enabled_events": ["charge.failed"]},
            "y": {"url": "https://example.com/y", "enabled_events": ["charge.failed"]},
        },
    }
)


@pytest.mark.parametrize(
    "target",
    ["webhook_endpoints.x", "webhook_endpoints.x[we_keep]", "webhook_endpoints[we_keep]"],
)
def test_every_form_of_a_target_selects_the_object_and_its_names_cleanup(target: str) -> None:
    """Review finding: webhook_endpoints.x[<x's own id>] passed the check and planned nothing,
    and webhook_endpoints[<id>] left the name's duplicate out (apply then took it for another
    apply's endpoint and never converged)."""
    live = live_state(
        {
            "webhook_endpoints": [
                tagged("we_keep", "x", created=2),
                tagged("we_dup", "x", created=1),
                tagged("we_y", "y"),
            ]
        }
    )
    check_targets((target,), X, live)
    plan = build_plan(X, live, targets=(target,))
    assert [(a.address, a.action.value) for a in plan.actions] == [
        ("webhook_endpoints.x", "update"),
        ("webhook_endpoints.x[we_dup]", "delete"),
    ]


A = Manifest.model_validate(
    {
        "version": 1,
        "webhook_endpoints": {
            "a": {"url": "https://example.com/a", "enabled_events": ["charge.failed"]}
        },
    }
)


@pytest.mark.parametrize(
    ("weird", "target", "planned"),
    [
        # a name tagged in the Dashboard may hold a dot or a bracket; the declared name it
        # starts with is another name, and targeting that one must not delete this object
        ("a.b", "webhook_endpoints.a", [("webhook_endpoints.a", "update")]),
        ("a[b", "webhook_endpoints.a", [("webhook_endpoints.a", "update")]),
        ("a.b", "webhook_endpoints.a.b", [("webhook_endpoints.a.b[we_w]", "delete")]),
        ("a[b", "webhook_endpoints.a[b", [("webhook_endpoints.a[b[we_w]", "delete")]),
        ("a[b", "webhook_endpoints[we_w]", [("webhook_endpoints.a[b[we_w]", "delete")]),
    ],
)
def test_a_tagged_name_is_cut_at_the_objects_id_not_at_its_first_bracket(
    weird: str, target: str, planned: list[tuple[str, str]]
) -> None:
    """Its address is webhook_endpoints.<name>[<id>], whatever the name holds: the name alone is
    a known target (README's advice for the endpoint limit), and it selects only that name."""
    live = live_state({"webhook_endpoints": [tagged("we_a", "a"), tagged("we_w", weird)]})
    check_targets((target,), A, live)
    plan = build_plan(A, live, targets=(target,))
    assert [(a.address, a.action.value) for a in plan.actions] == planned

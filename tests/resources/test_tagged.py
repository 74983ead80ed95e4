"""Tagged identity and secret delivery, on their own.

The plan cases reach both through whole plans; apply reads a create's answer through
:class:`SecretDelivery` (the secret, the URL it is for, the confirm that removes the marker), so
each kind's answers are stated here, v1 form and v2 JSON side by side.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.resources import event_destination, tagged, webhook_endpoint
from reconciler.resources.base import LiveState
from reconciler.resources.changes import Request

ENDPOINTS = webhook_endpoint.SECRETS
DESTINATIONS = event_destination.SECRETS
SECRET = "whsec_" + "t" * 24


@pytest.mark.parametrize(
    ("delivery", "created", "secret", "url"),
    [
        (ENDPOINTS, {"id": "we_1", "url": "https://x", "secret": SECRET}, SECRET, "https://x"),
        (
            DESTINATIONS,
            {"id": "ed_1", "webhook_endpoint": {"url": "https://x", "signing_secret": SECRET}},
            SECRET,
            "https://x",
        ),
        # an answer without them: no secret to hand out, no URL to name
        (ENDPOINTS, {"id": "we_1"}, None, ""),
        (DESTINATIONS, {"id": "ed_1", "webhook_endpoint": None}, None, ""),
        # an empty secret is none; a URL that is not text is none
        (ENDPOINTS, {"id": "we_1", "url": None, "secret": ""}, None, ""),
        (
            DESTINATIONS,
            {"id": "ed_1", "webhook_endpoint": {"url": 7, "signing_secret": ""}},
            None,
            "",
        ),
    ],
    ids=["endpoint", "destination", "endpoint-bare", "eventbridge", "endpoint-empty", "odd"],
)
def test_a_create_answer_gives_its_secret_and_url(
    delivery: tagged.SecretDelivery, created: dict[str, Any], secret: str | None, url: str
) -> None:
    assert delivery.secret_of(created) == secret
    assert delivery.url_of(created) == url


def test_the_confirm_removes_the_marker_as_each_api_spells_it() -> None:
    """A v1 form unsets a metadata key with ``""``, v2 JSON with null."""
    assert ENDPOINTS.confirm("/v1/webhook_endpoints/we_1") == Request(
        "confirm",
        "POST",
        "/v1/webhook_endpoints/we_1",
        {"metadata": {"reconciler_secret_pending": ""}},
    )
    assert DESTINATIONS.confirm("/v2/core/event_destinations/ed_1") == Request(
        "confirm",
        "POST",
        "/v2/core/event_destinations/ed_1",
        {"metadata": {"reconciler_secret_pending": None}},
    )


def _endpoint(obj_id: str, name: str) -> dict[str, Any]:
    return {
        "id": obj_id,
        "url": f"https://example.com/{name}",
        "enabled_events": ["invoice.paid"],
        "status": "enabled",
        "metadata": {
            "managed_by": "stripe-reconciler",
            "reconciler_name": name,
            "reconciler_connect": "false",
        },
    }


def test_only_a_name_tagged_on_several_objects_pays_for_choosing_which_to_keep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Choosing takes a diff of each object (:meth:`Tagged._keep_order`); a name tagged on one
    object, which is every name of a large account (B3), is paired without one."""
    compared: list[str] = []
    real = tagged.compare

    def spy(spec: Any, name: str, desired: Any, obj: Any, *, now: int) -> Any:
        compared.append(str(obj["id"]))
        return real(spec, name, desired, obj, now=now)

    monkeypatch.setattr(tagged, "compare", spy)
    declared = {
        name: {"url": f"https://example.com/{name}", "enabled_events": ["invoice.paid"]}
        for name in ("alerts", "orders")
    }
    live = (_endpoint("we_1", "orders"), _endpoint("we_2", "alerts"), _endpoint("we_3", "alerts"))
    plan = build_plan(
        Manifest.model_validate({"version": 1, "webhook_endpoints": declared}),
        LiveState(objects={"webhook_endpoints": live}),
    )
    assert [a.live_id for a in plan.actions] == ["we_3"]  # the duplicate of alerts
    assert sorted(compared) == ["we_2", "we_3"]

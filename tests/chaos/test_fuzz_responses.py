"""Hostile or broken API responses through the real CLI: never a traceback, exit 1 with a message.

An ``httpx.MockTransport`` serves a realistic account to the real ``plan`` and ``drift`` commands
(fetch, normalise, diff, render), with one response mutated by hypothesis: not JSON, the wrong
top-level type, a field removed, a value of the wrong type, a wrong ``object``, a huge or endless
list, an error status with a strange body. Regression: fields of the wrong type inside live objects
used to raise TypeError/KeyError/AttributeError in normalisation (a traceback); they are now
refused at the fetch boundary (``reconciler/resources/shape.py``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import api
from reconciler.cli.main import cli
from reconciler.stripe import StripeClient

KEY = "sk_test_" + "f" * 16
MANIFEST = """\
version: 1
account: {mode: test}
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
    metadata: {team: payments}
tax_settings:
  defaults: {tax_behavior: exclusive}
tax_registrations:
  us-ca: {country: US, country_options: {us: {type: state_sales_tax, state: CA}}}
event_destinations:
  meters:
    type: webhook_endpoint
    event_payload: thin
    enabled_events: [v1.billing.meter.error_report_triggered]
    webhook_endpoint: {url: https://shop.example.com/thin}
"""

ENDPOINT = {
    "id": "we_1",
    "object": "webhook_endpoint",
    "url": "https://shop.example.com/hooks",
    "enabled_events": ["invoice.paid", "charge.failed"],
    "description": None,
    "metadata": {
        "managed_by": "stripe-reconciler",
        "reconciler_name": "orders",
        "reconciler_connect": "false",
    },
    "status": "enabled",
    "api_version": None,
    "application": None,
    "created": 1_700_000_000,
    "livemode": False,
}
REGISTRATION = {
    "id": "taxreg_1",
    "object": "tax.registration",
    "country": "US",
    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
    "active_from": 1_700_000_000,
    "expires_at": None,
    "status": "active",
    "created": 1_700_000_000,
    "livemode": False,
}
DESTINATION = {
    "id": "ed_1",
    "object": "v2.core.event_destination",
    "name": "meters",
    "type": "webhook_endpoint",
    "event_payload": "thin",
    "enabled_events": [
        "v1.billing.meter.error_report_triggered",
        "v1.billing.meter.no_meter_found",
    ],
    "events_from": ["@self"],
    "snapshot_api_version": None,
    "description": "",
    "status": "enabled",
    "status_details": None,
    "webhook_endpoint": {"url": "https://shop.example.com/thin", "signing_secret": None},
    "amazon_eventbridge": None,
    "azure_event_grid": None,
    "metadata": {"managed_by": "stripe-reconciler", "reconciler_name": "meters"},
    "created": "2026-01-01T00:00:00.000Z",
    "updated": "2026-01-01T00:00:00.000Z",
    "livemode": False,
}
SETTINGS = {
    "object": "tax.settings",
    "defaults": {"tax_behavior": "inclusive", "tax_code": None, "provider": "stripe"},
    "head_office": None,
    "status": "pending",
    "status_details": {"pending": {"missing_fields": ["head_office"]}},
    "livemode": False,
}


def _page(path: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": [item], "has_more": False, "url": path}


BODIES: dict[str, Any] = {
    "/v1/webhook_endpoints": _page("/v1/webhook_endpoints", ENDPOINT),
    "/v1/tax/registrations": _page("/v1/tax/registrations", REGISTRATION),
    "/v1/tax/settings": SETTINGS,
    "/v1/account": {"id": "acct_1", "object": "account"},
    "/v2/core/event_destinations": {"data": [DESTINATION], "next_page_url": None},
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _parent(body: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        body = body[step]
    return body


@dataclass(frozen=True)
class Mutation:
    """One change to one response; ``apply`` returns (status, raw body bytes)."""

    target: str
    kind: str
    pick: int = 0
    value: Any = None
    status: int = 200

    def apply(self, body: Any) -> tuple[int, bytes]:
        body = copy.deepcopy(body)
        paths = list(_paths(body))
        path = paths[self.pick % len(paths)] if paths else ()
        if self.kind == "garbage":
            return self.status, bytes(self.value)
        if self.kind == "top-level":
            return self.status, json.dumps(self.value).encode()
        if self.kind == "drop" and path:
            parent = _parent(body, path)
            del parent[path[-1]]
        elif self.kind == "retype" and path:
            _parent(body, path)[path[-1]] = self.value
        elif self.kind == "set":
            where, value = self.value
            _parent(body, where)[where[-1]] = value
        elif self.kind == "object":
            body["object"] = self.value
        elif self.kind == "huge" and "data" in body:
            body["data"] = [
                {**body["data"][0], "id": f"{body['data'][0]['id']}{n}"}
                for n in range(int(self.value))
            ]
        elif self.kind == "endless" and "data" in body:
            body["has_more"] = True  # the same page again and again: the cursor never moves
        return self.status, json.dumps(body).encode()


MISSING_FIELD = ("status_details", "pending", "missing_fields", 0)
US_OPTIONS = ("data", 0, "country_options", "us")
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
TARGETS = st.sampled_from(sorted(BODIES))
MUTATIONS = st.one_of(
    st.builds(
        Mutation,
        TARGETS,
        st.just("garbage"),
        value=st.binary(max_size=40),
        status=st.sampled_from([200, 400, 402, 404]),
    ),
    st.builds(
        Mutation, TARGETS, st.just("top-level"), value=st.sampled_from([[], "x", 7, None, True])
    ),
    st.builds(Mutation, TARGETS, st.just("drop"), pick=st.integers(0, 200)),
    st.builds(Mutation, TARGETS, st.just("retype"), pick=st.integers(0, 200), value=JSONISH),
    st.builds(Mutation, TARGETS, st.just("object"), value=st.text(max_size=12) | st.none()),
    st.builds(Mutation, TARGETS, st.just("huge"), value=st.sampled_from([0, 150, 2500])),
    st.builds(Mutation, TARGETS, st.just("endless")),
    st.builds(
        Mutation,
        TARGETS,
        st.just("top-level"),
        value=st.sampled_from([{"error": {}}, {"error": "x"}, {"error": {"type": 5}}]),
        status=st.sampled_from([400, 401, 403, 404, 409, 402]),
    ),
)


def _transport(mutation: Mutation) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        body = BODIES.get(request.url.path)
        if body is None:
            return httpx.Response(404, json={"error": {"type": "invalid_request_error"}})
        status, raw = mutation.apply(body) if request.url.path == mutation.target else (200, b"")
        if request.url.path != mutation.target:
            raw = json.dumps(body).encode()
        return httpx.Response(status, content=raw, headers={"Request-Id": "req_fuzz"})

    return httpx.MockTransport(handle)


@pytest.fixture(scope="module")
def manifest_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "stripe.yaml"
    path.write_text(MANIFEST)
    return path


async def _no_sleep(seconds: float) -> None:
    return None


def _run(command: str, manifest: Path, mutation: Mutation) -> Any:
    transport = _transport(mutation)

    class MockedClient(StripeClient):
        def __init__(self, config: Any, transport_: Any = None, **kw: Any) -> None:
            super().__init__(config, transport, sleep=_no_sleep)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(api, "StripeClient", MockedClient)  # every command's way to Stripe
        env = {"STRIPE_API_KEY": KEY, "NO_COLOR": "1", "GITHUB_ACTIONS": None}
        return CliRunner().invoke(cli, [command, str(manifest)], env=env)


def _assert_clean(result: Any, ok_codes: set[int]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.exit_code in ok_codes | {1}, result.output
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: "), result.stderr
        assert len(result.stderr.strip()) > len("Error: ")
    assert KEY not in result.output


def test_the_unmutated_account_plans_and_drifts(manifest_path: Path) -> None:
    untouched = Mutation("/v1/nothing", "drop")
    plan = _run("plan", manifest_path, untouched)
    assert plan.exit_code == 0, plan.output
    assert "Plan: 0 to create, 3 to update, 0 to replace, 0 to delete, 0 to expire." in plan.stdout
    assert "event_destinations.meters: update" in plan.stdout
    drift = _run("drift", manifest_path, untouched)
    assert drift.exit_code == 2, drift.output


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (Mutation("/v1/tax/settings", "garbage", value=b"<html>"), "body that is not JSON"),
        (Mutation("/v1/webhook_endpoints", "top-level", value=[]), "a JSON list instead of"),
        (Mutation("/v1/tax/registrations", "object", value="charge"), "is not a list object"),
        (Mutation("/v1/webhook_endpoints", "endless"), "says has_more but gives no new"),
        (
            Mutation("/v1/tax/settings", "set", value=(MISSING_FIELD, None)),
            "Stripe returned a tax.settings this tool cannot read (tax.settings #1): "
            "tax.settings.status_details.pending.missing_fields[0] is null",
        ),
        (
            Mutation("/v1/tax/registrations", "set", value=(("data", 0, "id"), None)),
            "Stripe returned a tax.registration this tool cannot read "
            "(tax.registration #1): it has no id",
        ),
        (
            Mutation("/v1/webhook_endpoints", "set", value=(("data", 0, "metadata"), ["x"])),
            "Stripe returned a webhook_endpoint this tool cannot read (we_1): "
            "webhook_endpoint.metadata is an array, not object",
        ),
        (
            Mutation("/v1/tax/registrations", "set", value=(US_OPTIONS, [True])),
            "(taxreg_1): tax.registration.country_options.us is an array, not object",
        ),
        (
            Mutation("/v2/core/event_destinations", "set", value=(("data", 0, "status"), 7)),
            "(ed_1): v2.core.event_destination.status is an integer, not string",
        ),
        (
            Mutation("/v2/core/event_destinations", "top-level", value={"data": "x"}),
            "The list page from GET /v2/core/event_destinations has no data array",
        ),
    ],
    ids=[
        "not-json",
        "list-body",
        "wrong-object",
        "endless",
        "null-missing-field",
        "registration-without-id",
        "metadata-array",
        "country-options-array",
        "destination-status-number",
        "destination-page-without-list",
    ],
)
def test_known_breakages_exit_1_with_a_message(
    manifest_path: Path, mutation: Mutation, message: str
) -> None:
    result = _run("plan", manifest_path, mutation)
    _assert_clean(result, set())
    assert message in result.stderr


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=MUTATIONS, command=st.sampled_from(["plan", "drift"]))
def test_mutated_responses_never_crash(
    manifest_path: Path, mutation: Mutation, command: str
) -> None:
    result = _run(command, manifest_path, mutation)
    _assert_clean(result, {0} if command == "plan" else {0, 2})

"""drift_from_plan: every plan outcome maps to the right drift kind (pure, plain dicts)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reconciler.drift.check import check_drift, drift_from_plan
from reconciler.drift.model import DriftReport
from reconciler.drift.readonly import ReadOnlyClient
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.resources.base import LiveState

TAGS = {
    "managed_by": "stripe-reconciler",
    "reconciler_name": "orders",
    "reconciler_connect": "false",
}
PENDING_SETTINGS = {
    "object": "tax.settings",
    "status": "pending",
    "status_details": {"pending": {"missing_fields": ["head_office"]}},
    "defaults": {"tax_behavior": None, "tax_code": None, "provider": "stripe"},
    "head_office": None,
}
ACTIVE_SETTINGS = {
    "object": "tax.settings",
    "status": "active",
    "status_details": {"active": {}},
    "defaults": {"tax_behavior": "exclusive", "tax_code": None, "provider": "stripe"},
    "head_office": {"address": {"country": "US", "state": "CA"}},
}


def endpoint(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "we_1",
        "object": "webhook_endpoint",
        "url": "https://example.com/hook",
        "enabled_events": ["invoice.paid"],
        "description": None,
        "status": "enabled",
        "api_version": None,
        "metadata": dict(TAGS),
    }
    obj.update(overrides)
    return obj


def registration(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "taxreg_1",
        "object": "tax.registration",
        "country": "US",
        "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
        "active_from": 1_700_000_000,
        "expires_at": None,
        "status": "active",
    }
    obj.update(overrides)
    return obj


def manifest(**sections: Any) -> Manifest:
    doc: dict[str, Any] = {
        "version": 1,
        "webhook_endpoints": {
            "orders": {"url": "https://example.com/hook", "enabled_events": ["invoice.paid"]}
        },
    }
    doc.update(sections)
    return Manifest.model_validate(doc)


def check(
    desired: Manifest,
    *,
    endpoints: list[Any],
    regs: tuple[Any, ...] | list[Any] = (),
    settings: Any = None,
) -> DriftReport:
    live = LiveState(
        objects={
            "webhook_endpoints": tuple(endpoints),
            "tax_registrations": tuple(regs),
            "tax_settings": (settings or ACTIVE_SETTINGS,),
        }
    )
    return drift_from_plan(
        build_plan(desired, live),
        desired,
        live,
        account_id="acct_1",
        mode="test",
        stripe_account=None,
        checked_at="2026-11-26T00:00:00Z",
    )


def summary(report: DriftReport) -> list[tuple[str, str]]:
    return [(d.address, d.drift.value) for d in report.drift]


def test_in_sync() -> None:
    report = check(manifest(), endpoints=[endpoint()])
    assert report.in_sync
    assert report.resources_checked == 1


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (endpoint(url="https://evil.example/hook"), [("webhook_endpoints.orders", "changed")]),
        (endpoint(enabled_events=["*"]), [("webhook_endpoints.orders", "changed")]),
        (endpoint(metadata={**TAGS, "x": "1"}), [("webhook_endpoints.orders", "changed")]),
        (endpoint(status="disabled"), [("webhook_endpoints.orders", "disabled")]),
        (endpoint(metadata={}), [("webhook_endpoints.orders", "untagged")]),
        (endpoint(api_version="2020-08-27"), []),  # not declared: the account default is fine
    ],
)
def test_endpoint_drift_kinds(live: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert summary(check(manifest(), endpoints=[live])) == expected


def test_changed_fields_are_declared_versus_live() -> None:
    report = check(manifest(), endpoints=[endpoint(url="https://evil.example/hook")])
    (item,) = report.drift
    assert item.live_id == "we_1"
    assert [(c.path, c.declared, c.live) for c in item.changes] == [
        ("url", "https://example.com/hook", "https://evil.example/hook")
    ]
    assert item.message == "live fields differ from the manifest (fields differ)"


def test_deleted_endpoint_is_missing() -> None:
    report = check(manifest(), endpoints=[])
    assert summary(report) == [("webhook_endpoints.orders", "missing")]
    assert report.drift[0].message.startswith("declared, but no endpoint is tagged with this name")
    assert report.drift[0].changes == ()


def test_untagged_lists_real_differences_but_not_the_missing_tags() -> None:
    (item,) = check(manifest(), endpoints=[endpoint(metadata={}, enabled_events=["*"])]).drift
    assert item.drift.value == "untagged"
    assert [(c.path, c.declared, c.live) for c in item.changes] == [
        ("enabled_events", ["invoice.paid"], ["*"])
    ]


def test_unmanaged_endpoint_is_drift_unless_ignored() -> None:
    stranger = endpoint(id="we_2", url="https://other.example/x", metadata={})
    report = check(manifest(), endpoints=[endpoint(), stranger])
    assert summary(report) == [("webhook_endpoints[we_2]", "unmanaged")]
    assert report.drift[0].message == (
        "not declared: https://other.example/x (enabled) (policy.unmanaged: report)"
    )
    ignoring = manifest(policy={"unmanaged": "ignore"})
    assert check(ignoring, endpoints=[endpoint(), stranger]).in_sync
    deleting = manifest(policy={"unmanaged": "delete"})
    assert summary(check(deleting, endpoints=[endpoint(), stranger])) == [
        ("webhook_endpoints[we_2]", "unmanaged")
    ]


def test_tagged_but_undeclared_endpoint_is_orphaned_even_when_ignoring_unmanaged() -> None:
    old = endpoint(
        id="we_3", url="https://old.example/x", metadata={**TAGS, "reconciler_name": "old"}
    )
    report = check(manifest(policy={"unmanaged": "ignore"}), endpoints=[endpoint(), old])
    assert summary(report) == [("webhook_endpoints.old[we_3]", "orphaned")]
    assert report.drift[0].message == (
        "tagged as managed (name 'old') but no longer declared: https://old.example/x"
    )


REGS = {
    "us-ca": {
        "country": "US",
        "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
        "active_from": 1_700_000_000,
    }
}


GB = {"country": "GB", "country_options": {"gb": {"type": "standard"}}}


@pytest.mark.parametrize(
    ("regs", "message"),
    [
        (
            [registration(status="expired", expires_at=1_790_000_000)],
            "declared US/state_sales_tax/CA has no active or scheduled registration: "
            "taxreg_1 expired at 2026-09-21T14:13:20Z",
        ),
        (
            # the last one of its key to expire is named, whatever the order Stripe lists them in
            [
                registration(id="taxreg_0", status="expired", expires_at=1_780_000_000),
                registration(id="taxreg_1", status="expired", expires_at=1_790_000_000),
                registration(id="taxreg_2", status="expired", expires_at=1_785_000_000),
                registration(id="taxreg_gb", status="expired", expires_at=1_795_000_000, **GB),
            ],
            "declared US/state_sales_tax/CA has no active or scheduled registration: "
            "taxreg_1 expired at 2026-09-21T14:13:20Z",
        ),
        (
            [registration(id="taxreg_gb", status="expired", expires_at=1_795_000_000, **GB)],
            "declared US/state_sales_tax/CA has no active or scheduled registration in Stripe",
        ),
        (
            [registration(status="expired", expires_at=10**20)],
            "declared US/state_sales_tax/CA has no active or scheduled registration: "
            f"taxreg_1 expired at {10**20}",
        ),
    ],
    ids=["expired", "the-last-of-its-key", "another-key", "a-date-no-calendar-has"],
)
def test_expired_registration_is_missing_and_named(regs: list[Any], message: str) -> None:
    report = check(manifest(tax_registrations=REGS), endpoints=[endpoint()], regs=regs)
    assert summary(report)[0] == ("tax_registrations.us-ca", "missing")
    assert report.drift[0].message == message


def test_registration_window_change_and_unmanaged_registration() -> None:
    regs = [
        registration(expires_at=1_800_000_000),
        registration(id="taxreg_2", country="GB", country_options={"gb": {"type": "standard"}}),
    ]
    report = check(manifest(tax_registrations=REGS), endpoints=[endpoint()], regs=regs)
    assert summary(report) == [
        ("tax_registrations.us-ca", "changed"),
        ("tax_registrations[taxreg_2]", "unmanaged"),
    ]
    assert [(c.path, c.declared, c.live) for c in report.drift[0].changes] == [
        ("expires_at", None, 1_800_000_000)
    ]


def test_pending_tax_settings_count_only_when_tax_is_managed() -> None:
    assert check(manifest(), endpoints=[endpoint()], settings=PENDING_SETTINGS).in_sync
    with_tax = manifest(tax_settings={"defaults": {"tax_behavior": "exclusive"}})
    report = check(with_tax, endpoints=[endpoint()], settings=PENDING_SETTINGS)
    assert summary(report) == [("tax_settings", "changed"), ("tax_settings", "pending")]
    assert report.drift[1].message == (
        "tax settings status: pending (missing fields: head_office); Stripe Tax calculates no "
        "tax until they are set: declare tax_settings.head_office.address (apply sets it before "
        "any registration) or set it in the Dashboard (Settings → Tax)"
    )
    assert report.tax_settings_status == "pending"
    # a declared head office is what Stripe waits for: drift shows it as changed, not pending
    with_office = manifest(tax_settings={"head_office": {"address": {"country": "US"}}})
    report = check(with_office, endpoints=[endpoint()], settings=PENDING_SETTINGS)
    assert summary(report) == [("tax_settings", "changed")]


def test_tax_settings_without_a_status_report_none() -> None:
    """An answer without a status (a proxy, an older API) is no status, not the text "None"."""
    settings = {k: v for k, v in ACTIVE_SETTINGS.items() if k != "status"}
    report = check(manifest(), endpoints=[endpoint()], settings=settings)
    assert report.tax_settings_status is None
    assert check(manifest(), endpoints=[endpoint()]).tax_settings_status == "active"


def test_tax_settings_changed() -> None:
    desired = manifest(tax_settings={"defaults": {"tax_behavior": "inclusive"}})
    report = check(desired, endpoints=[endpoint()])
    assert summary(report) == [("tax_settings", "changed")]
    assert [(c.path, c.declared, c.live) for c in report.drift[0].changes] == [
        ("defaults.tax_behavior", "inclusive", "exclusive")
    ]
    assert report.resources_checked == 2


class _AccountAtTheLimit:
    """Serves 16 untagged endpoints and active tax settings, as fetch_live reads them."""

    async def request(
        self,
        method: str,
        path: str,
        params: Any = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        assert (method, path) == ("GET", "/v1/tax/settings")
        return dict(ACTIVE_SETTINGS)

    async def paginate(self, path: str, params: Any = None) -> Any:
        if path == "/v1/webhook_endpoints":
            for index in range(16):
                yield endpoint(id=f"we_{index}", url=f"https://other.example/{index}", metadata={})


def test_drift_still_reports_when_the_account_is_at_the_endpoint_limit() -> None:
    # A plan for this account would be refused (a 17th endpoint), but drift must still say what
    # differs instead of failing the nightly check with a planning error.
    report = asyncio.run(
        check_drift(
            manifest(),
            ReadOnlyClient(_AccountAtTheLimit()),
            account_id=None,
            mode="test",
            stripe_account=None,
            checked_at="2026-11-26T00:00:00Z",
        )
    )
    kinds = summary(report)
    assert ("webhook_endpoints.orders", "missing") in kinds
    assert len([k for k in kinds if k[1] == "unmanaged"]) == 16


@pytest.mark.parametrize(
    ("endpoints", "message"),
    [
        (
            [endpoint(id="we_7", url="https://elsewhere.example/x", metadata={})],
            "declared, but no endpoint is tagged with this name or uses its URL "
            "(deleted in the Dashboard?)",
        ),
        (
            [endpoint(id="we_9", metadata={**TAGS, "reconciler_name": "billing"})],
            "declared, but the endpoint with its URL (we_9) is tagged with another name "
            "('billing'); apply would create one for this name",
        ),
        (
            [
                endpoint(id="we_8", metadata={**TAGS, "reconciler_name": "invoices"}),
                endpoint(id="we_9", metadata={**TAGS, "reconciler_name": "billing"}),
            ],
            "declared, but the endpoint with its URL (we_8, we_9) is tagged with another name "
            "('billing', 'invoices'); apply would create one for this name",
        ),
        (
            [
                endpoint(id="we_7", url="https://elsewhere.example/x", metadata={}),
                endpoint(id="we_8", metadata={}),
                endpoint(id="we_9", metadata={}),
            ],
            "declared, but 2 untagged endpoints use its URL (we_8, we_9), so none is adopted; "
            "apply would create one for this name",
        ),
    ],
    ids=["nothing", "tagged-elsewhere", "tagged-twice-elsewhere", "two-untagged"],
)
def test_a_missing_endpoint_says_what_has_its_url(endpoints: list[Any], message: str) -> None:
    report = check(manifest(policy={"unmanaged": "ignore"}), endpoints=endpoints)
    missing = [d for d in report.drift if d.address == "webhook_endpoints.orders"]
    assert [(d.drift.value, d.message) for d in missing] == [("missing", message)]


def test_a_duplicate_of_a_declared_name_is_not_called_undeclared() -> None:
    twin = endpoint(id="we_2", created=1)
    report = check(manifest(), endpoints=[endpoint(created=2), twin])
    (item,) = report.drift
    assert item.address == "webhook_endpoints.orders[we_2]"
    assert item.message == (
        "another endpoint tagged with the declared name 'orders': duplicate of we_1 (orders); "
        "apply would delete it (https://example.com/hook)"
    )


def destination(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "ed_1",
        "object": "v2.core.event_destination",
        "name": "meters",
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": ["v1.billing.meter.no_meter_found"],
        "events_from": ["@self"],
        "snapshot_api_version": None,
        "description": "",
        "status": "enabled",
        "webhook_endpoint": {"url": "https://example.com/thin", "signing_secret": None},
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "metadata": {"managed_by": "stripe-reconciler", "reconciler_name": "meters"},
    }
    obj.update(overrides)
    return obj


@pytest.mark.parametrize(
    ("live", "message"),
    [
        ([], "declared but not found in Stripe (no destination is tagged with this name)"),
        (
            [destination(id="ed_9", metadata={**TAGS, "reconciler_name": "billing"})],
            "declared, but the destination named 'meters' (ed_9) is tagged with another name "
            "('billing'); apply would create one for this name",
        ),
        (
            [
                destination(id="ed_8", metadata={**TAGS, "reconciler_name": "usage"}),
                destination(id="ed_9", metadata={**TAGS, "reconciler_name": "billing"}),
            ],
            "declared, but the destination named 'meters' (ed_8, ed_9) is tagged with another "
            "name ('billing', 'usage'); apply would create one for this name",
        ),
        (
            [destination(id="ed_8", metadata={}), destination(id="ed_9", metadata={})],
            "declared, but 2 untagged destinations are named 'meters' (ed_8, ed_9), so none is "
            "adopted; apply would create one for this name",
        ),
        (
            [destination(status="disabled")],
            "the destination is disabled in Stripe",
        ),
    ],
    ids=["nothing", "tagged-elsewhere", "tagged-twice-elsewhere", "two-untagged", "disabled"],
)
def test_a_destination_drifts_with_what_has_its_name(live: list[Any], message: str) -> None:
    desired = Manifest.model_validate(
        {
            "version": 1,
            "policy": {"unmanaged": "ignore"},
            "event_destinations": {
                "meters": {
                    "type": "webhook_endpoint",
                    "event_payload": "thin",
                    "enabled_events": ["v1.billing.meter.no_meter_found"],
                    "webhook_endpoint": {"url": "https://example.com/thin"},
                }
            },
        }
    )
    state = LiveState(objects={"event_destinations": tuple(live), "tax_settings": ()})
    report = drift_from_plan(
        build_plan(desired, state),
        desired,
        state,
        account_id="acct_1",
        mode="test",
        stripe_account=None,
        checked_at="2026-11-26T00:00:00Z",
    )
    found = [d for d in report.drift if d.address == "event_destinations.meters"]
    assert [d.message for d in found] == [message]

"""Export round trip: live → manifest YAML → load → plan against the same live: no actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.data import pinned_api_version
from reconciler.errors import ManifestError
from reconciler.export.build import KINDS, build_export, name_from_key, name_from_url
from reconciler.export.write import plan_files, render_manifest
from reconciler.manifest import load_manifests
from reconciler.plan.builder import build_plan
from reconciler.plan.model import ActionType
from reconciler.resources.base import LiveState

TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}
SECRET = "whsec_" + "q" * 24


def endpoint(id_: str, url: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    metadata = {**TAGS, "reconciler_name": name} if name else {}
    obj: dict[str, Any] = {
        "id": id_,
        "object": "webhook_endpoint",
        "url": url,
        "enabled_events": ["invoice.paid", "charge.failed"],
        "description": None,
        "status": "enabled",
        "api_version": None,
        "application": None,
        "created": 1_700_000_000,
        "livemode": False,
        "metadata": metadata,
    }
    obj.update(extra)
    obj["metadata"] = {**metadata, **extra.get("metadata", {})}
    return obj


def registration(id_: str, country: str, options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": id_,
        "object": "tax.registration",
        "country": country,
        "country_options": {country.lower(): options},
        "active_from": 1_700_000_000,
        "expires_at": None,
        "status": "active",
        "created": 1_700_000_000,
        "livemode": False,
    }
    obj.update(extra)
    return obj


SETTINGS = {
    "object": "tax.settings",
    "defaults": {"provider": "stripe", "tax_behavior": "exclusive", "tax_code": "txcd_10000000"},
    "head_office": {
        "address": {
            "city": "San Francisco",
            "country": "US",
            "line1": "510 Townsend St",
            "line2": None,
            "postal_code": "94103",
            "state": "CA",
        }
    },
    "status": "active",
    "status_details": {"active": {}},
    "livemode": False,
}

LIVE = LiveState(
    objects={
        "webhook_endpoints": (
            endpoint("we_1", "https://shop.example.com/stripe/hooks", "orders"),
            endpoint(
                "we_2",
                "https://shop.example.com/billing",
                "billing",
                description="Billing $ events",
                api_version="2024-06-20",
                status="disabled",
                metadata={"team": "payments", "reconciler_connect": "true"},
            ),
            endpoint("we_3", "https://www.other.example/a/b?x=1", None, metadata={"k": "v"}),
            endpoint("we_4", "https://other.example/a/b", None),
        ),
        "tax_settings": (SETTINGS,),
        "tax_registrations": (
            registration("taxreg_1", "US", {"state": "CA", "type": "state_sales_tax"}),
            registration(
                "taxreg_2",
                "DE",
                {"type": "standard", "standard": {"place_of_supply_scheme": "standard"}},
            ),
            registration(
                "taxreg_3",
                "CA",
                {"type": "province_standard", "province_standard": {"province": "BC"}},
                active_from=1_900_000_000,
                expires_at=1_950_000_000,
                status="scheduled",
            ),
            registration(
                "taxreg_4",
                "US",
                {"state": "NY", "type": "state_sales_tax"},
                status="expired",
                expires_at=1_750_000_000,
            ),
        ),
    }
)


def _roundtrip(tmp_path: Path, live: LiveState, *, adopt: bool) -> Any:
    export = build_export(live, adopt=adopt, mode="test", account_id="acct_1")
    path = tmp_path / "exported.yaml"
    path.write_text(render_manifest(export, KINDS, "schemas/manifest.schema.json"))
    state = load_manifests([path])
    return export, path.read_text(), build_plan(state.manifest, live)


def test_export_then_plan_has_no_changes(tmp_path: Path) -> None:
    export, text, plan = _roundtrip(tmp_path, LIVE, adopt=False)
    assert plan.actions == ()
    assert text.startswith("# yaml-language-server: $schema=schemas/manifest.schema.json\n")
    assert sorted(export.section("webhook_endpoints")) == ["billing", "orders"]
    assert sorted(export.untagged["webhook_endpoints"]) == [
        "other-example-a-b",
        "other-example-a-b-2",
    ]
    assert sorted(export.section("tax_registrations")) == [
        "ca-province-standard-bc",
        "de-standard",
        "us-state-sales-tax-ca",
    ]
    # timestamps are written as the UTC date-times plan shows, and read back to the same second
    assert "    active_from: 2030-03-17T17:46:40Z\n    expires_at: 2031-10-17T10:40:00Z\n" in text
    # the untagged ones are shown, commented out, and the plan only reports them
    assert "#   other-example-a-b:\n#     url: https://other.example/a/b\n" in text
    assert [r.address for r in plan.reports] == [
        "webhook_endpoints[we_3]",
        "webhook_endpoints[we_4]",
    ]


def test_export_adopt_then_plan_only_adopts(tmp_path: Path) -> None:
    export, _, plan = _roundtrip(tmp_path, LIVE, adopt=True)
    assert [(a.address, a.action) for a in plan.actions] == [
        ("webhook_endpoints.other-example-a-b", ActionType.ADOPT),
        ("webhook_endpoints.other-example-a-b-2", ActionType.ADOPT),
    ]
    assert export.untagged == {}
    assert export.warnings == (
        "2 untagged endpoint(s) declared for adoption (other-example-a-b, other-example-a-b-2): "
        "Stripe never returns `connect`, so they say connect: false; set connect: true on any "
        "that receives events from connected accounts before you apply",
    )


def test_exported_fields_drop_server_only_ones() -> None:
    export = build_export(LIVE, mode="test")
    assert export.section("webhook_endpoints")["billing"] == {
        "url": "https://shop.example.com/billing",
        "enabled_events": ["charge.failed", "invoice.paid"],
        "description": "Billing $$ events",  # `$$` is a literal `$` after ${VAR} expansion
        "api_version": "2024-06-20",
        "connect": True,
        "disabled": True,
        "metadata": {"team": "payments"},
    }
    assert export.section("tax_settings") == {
        "defaults": {"tax_behavior": "exclusive", "tax_code": "txcd_10000000"},
        "head_office": {
            "address": {
                "city": "San Francisco",
                "country": "US",
                "line1": "510 Townsend St",
                "postal_code": "94103",
                "state": "CA",
            }
        },
    }
    assert export.section("tax_registrations")["ca-province-standard-bc"] == {
        "country": "CA",
        "country_options": {
            "ca": {"province_standard": {"province": "BC"}, "type": "province_standard"}
        },
        "active_from": 1_900_000_000,
        "expires_at": 1_950_000_000,
    }
    assert export.account == {"mode": "test"}


def test_secrets_are_never_written(tmp_path: Path) -> None:
    leaky = LiveState(
        objects={
            "webhook_endpoints": (
                endpoint(
                    "we_1",
                    "https://x.example/h",
                    "orders",
                    description=f"uses {SECRET}",
                    metadata={"note": SECRET, "team": "a"},
                ),
                endpoint("we_2", f"https://x.example/h?token={SECRET}", "leaky"),
            )
        }
    )
    export = build_export(leaky, mode="test")
    text = render_manifest(export, KINDS, "s.json")
    assert SECRET not in text and "whsec_" not in text
    assert export.section("webhook_endpoints") == {
        "leaky": {
            "url": "${STRIPE_EXPORT_LEAKY_URL}",
            "enabled_events": ["charge.failed", "invoice.paid"],
        },
        "orders": {
            "url": "https://x.example/h",
            "enabled_events": ["charge.failed", "invoice.paid"],
            "metadata": {"team": "a"},
            "lifecycle": {"ignore_changes": ["description", "metadata.note"]},
        },
    }
    assert export.warnings == (
        "webhook_endpoints.leaky: its URL contains something that looks like a key or signing "
        "secret; the manifest reads it from ${STRIPE_EXPORT_LEAKY_URL}: set that variable before "
        "plan or apply",
        "webhook_endpoints.orders: description, metadata.note looks like a key or signing secret; "
        "not exported, and kept as it is via lifecycle.ignore_changes",
    )
    path = tmp_path / "m.yaml"
    path.write_text(text)
    env = {"STRIPE_EXPORT_LEAKY_URL": f"https://x.example/h?token={SECRET}"}
    assert build_plan(load_manifests([path], environ=env).manifest, leaky).actions == ()
    with pytest.raises(ManifestError, match="STRIPE_EXPORT_LEAKY_URL is not set"):
        load_manifests([path], environ={})


def test_a_url_with_credentials_is_read_from_a_variable() -> None:
    """Manifests refuse a user name or password in a URL, and output masks it: export must
    neither write it nor write a manifest that validate refuses."""
    live = LiveState(
        objects={
            "webhook_endpoints": (endpoint("we_1", "https://deploy:hunter2@x.example/h", "creds"),)
        }
    )
    export = build_export(live, mode="test")
    assert "hunter2" not in render_manifest(export, KINDS, "s.json")
    assert export.section("webhook_endpoints")["creds"]["url"] == "${STRIPE_EXPORT_CREDS_URL}"
    assert export.warnings == (
        "webhook_endpoints.creds: its URL contains a user name or password, which manifests "
        "refuse; the manifest reads it from ${STRIPE_EXPORT_CREDS_URL}: set that variable to the "
        "URL without them (plan then shows the change) before plan or apply",
    )


def test_kinds_filter() -> None:
    export = build_export(LIVE, kinds=["tax_settings"], mode="live", stripe_account="acct_9")
    # only the kinds asked for are built
    assert list(export.sections) == ["tax_settings"]
    assert export.section("webhook_endpoints") is None
    assert export.section("tax_settings") is not None
    assert export.account == {"mode": "live", "stripe_account": "acct_9"}
    with pytest.raises(ValueError, match="unknown kinds: webhooks"):
        build_export(LIVE, kinds=["webhooks"], mode="test")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.example.com/stripe/webhooks", "example-com-stripe-webhooks"),
        ("https://api.example.com:8443/", "api-example-com"),
        ("http://127.0.0.1:4242/Hook_Path", "127-0-0-1-hook-path"),
        ("https://" + "a" * 80 + ".example/x", "a" * 63),
        ("not a url", "not-a-url"),
        ("https://-/", "endpoint"),
    ],
)
def test_name_from_url(url: str, name: str) -> None:
    assert name_from_url(url) == name


def test_name_from_key() -> None:
    assert name_from_key("US/state_sales_tax/CA") == "us-state-sales-tax-ca"
    assert name_from_key("CA/province_standard/BC") == "ca-province-standard-bc"


def test_pending_settings_with_nothing_set_export_nothing() -> None:
    pending = {
        "object": "tax.settings",
        "defaults": {"provider": "stripe", "tax_behavior": None, "tax_code": None},
        "head_office": None,
        "status": "pending",
    }
    export = build_export(LiveState(objects={"tax_settings": (pending,)}), mode="test")
    assert export.section("tax_settings") is None


def test_registrations_sharing_a_natural_key_keep_their_twins(tmp_path: Path) -> None:
    ca = {"state": "CA", "type": "state_sales_tax"}
    live = LiveState(
        objects={
            "tax_registrations": (
                # ids deliberately out of time order
                registration(
                    "taxreg_9", "US", ca, active_from=1_700_000_000, expires_at=1_800_000_000
                ),
                registration("taxreg_1", "US", ca, active_from=1_900_000_000, status="scheduled"),
                registration(
                    "taxreg_5",
                    "US",
                    ca,
                    active_from=1_800_000_000,
                    expires_at=1_900_000_000,
                    status="scheduled",
                ),
            )
        }
    )
    export = build_export(live, mode="test")
    assert {
        name: spec["active_from"] for name, spec in export.section("tax_registrations").items()
    } == {
        "us-state-sales-tax-ca": 1_700_000_000,
        "us-state-sales-tax-ca-2": 1_900_000_000,  # taxreg_1: plan pairs names with ids in order
        "us-state-sales-tax-ca-3": 1_800_000_000,
    }
    path = tmp_path / "m.yaml"
    path.write_text(render_manifest(export, KINDS, "s.json"))
    assert build_plan(load_manifests([path]).manifest, live).actions == ()


def test_events_unknown_to_the_pinned_version_are_exported_with_a_warning() -> None:
    newer = endpoint("we_1", "https://x.example/h", "orders", enabled_events=["x.new_event"])
    export = build_export(LiveState(objects={"webhook_endpoints": (newer,)}), mode="test")
    assert export.section("webhook_endpoints")["orders"]["enabled_events"] == ["x.new_event"]
    assert export.warnings == (
        "webhook_endpoints.orders: enabled_events x.new_event are not in the event list of API "
        f"version {pinned_api_version()}; pass --allow-unknown-events to validate and plan",
    )


def test_directory_output_skips_kinds_with_nothing_to_declare(tmp_path: Path) -> None:
    only_hooks = LiveState(
        objects={
            "webhook_endpoints": (endpoint("we_1", "https://x.example/h", "orders"),),
            "tax_settings": ({"object": "tax.settings", "status": "pending", "defaults": {}},),
            "tax_registrations": (),
        }
    )
    files = plan_files(build_export(only_hooks, mode="test"), KINDS, tmp_path / "out")
    assert [p.name for p in files] == ["webhook_endpoints.yaml"]


def test_recorded_protection_is_exported_and_plans_back_to_no_changes(tmp_path: Path) -> None:
    guarded = endpoint(
        "we_g",
        "https://shop.example.com/guarded",
        "guarded",
        metadata={"reconciler_protect": "true", "team": "core"},
    )
    live = LiveState(objects={"webhook_endpoints": (guarded,)})
    export, _, plan = _roundtrip(tmp_path, live, adopt=False)
    assert export.section("webhook_endpoints")["guarded"]["lifecycle"] == {"protect": True}
    assert export.section("webhook_endpoints")["guarded"]["metadata"] == {"team": "core"}
    assert plan.actions == ()

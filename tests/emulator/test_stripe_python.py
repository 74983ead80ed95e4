"""The official ``stripe`` package (a client nobody here wrote) against a real socket.

``test_generated_examples_*`` replay stripe-python's own generated examples for the three
resources (its ``tests/test_generated_examples.py``: ``test_tax_settings_get/post``,
``test_tax_registrations_get/post/post_2``, ``test_webhook_endpoints_get/get_2/post/post_2/
delete``, the ``_service`` variants) with the same parameters, objects created in place of the
fixture ids (``taxreg_xxxxxxxxxxxxx``, ``we_xxxxxxxxxxxxx``). An emulator rule Stripe does not
have would fail one of them.
"""

from __future__ import annotations

import stripe
from emulator_helpers import TEST_KEY

from reconciler.emulator.server import EmulatorServer


def make_client(emulator: EmulatorServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        TEST_KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0
    )


def test_webhook_endpoint_lifecycle(emulator: EmulatorServer) -> None:
    client = make_client(emulator)
    created = client.v1.webhook_endpoints.create(
        params={
            "url": "https://example.com/hooks",
            "enabled_events": ["charge.succeeded", "invoice.paid"],
            "metadata": {"team": "payments"},
            "connect": False,
        }
    )
    assert created.id.startswith("we_")
    assert created.secret is not None and created.secret.startswith("whsec_")
    listed = client.v1.webhook_endpoints.list(params={"limit": 10})
    assert [endpoint.id for endpoint in listed.data] == [created.id]
    updated = client.v1.webhook_endpoints.update(
        created.id, params={"disabled": True, "metadata": {"team": ""}, "description": "x"}
    )
    assert updated.status == "disabled"
    assert updated.metadata.to_dict() == {}
    assert updated.description == "x"
    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert fetched.enabled_events == ["charge.succeeded", "invoice.paid"]
    deleted = client.v1.webhook_endpoints.delete(created.id)
    assert deleted.deleted is True
    try:
        client.v1.webhook_endpoints.delete(created.id)
    except stripe.InvalidRequestError as error:
        assert error.http_status == 404
        assert error.code == "resource_missing"
    else:
        raise AssertionError("a second delete must fail")
    posts = [entry for entry in emulator.requests() if entry["method"] == "POST"]
    assert len(posts) == 2
    # stripe-python adds a random Idempotency-Key to every POST.
    assert all(entry["idempotency_key"] for entry in posts)


def test_tax_settings_and_registrations(emulator: EmulatorServer) -> None:
    client = make_client(emulator)
    settings = client.v1.tax.settings.update(
        params={
            "defaults": {"tax_behavior": "exclusive", "tax_code": "txcd_10000000"},
            "head_office": {"address": {"country": "US", "state": "CA", "postal_code": "94103"}},
        }
    )
    assert settings.status == "active"
    assert settings.defaults.tax_behavior == "exclusive"
    registration = client.v1.tax.registrations.create(
        params={
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
            "active_from": "now",
        }
    )
    assert registration.status == "active"
    listed = client.v1.tax.registrations.list(params={"status": "active"})
    assert [r.id for r in listed.data] == [registration.id]
    emulator.advance_clock(10)
    expired = client.v1.tax.registrations.update(registration.id, params={"expires_at": "now"})
    assert expired.status == "expired"
    assert client.v1.tax.registrations.list(params={"status": "active"}).data == []
    everything = client.v1.tax.registrations.list(params={"status": "all"})
    assert [r.status for r in everything.data] == ["expired"]


def test_stripe_python_sees_rate_limit_errors(emulator: EmulatorServer) -> None:
    emulator.configure(schedule=[{"request": 1, "fault": "429"}])
    client = make_client(emulator)
    try:
        client.v1.webhook_endpoints.list()
    except stripe.RateLimitError as error:
        assert error.http_status == 429
    else:
        raise AssertionError("the scheduled 429 must surface")
    assert client.v1.webhook_endpoints.list().data == []


def test_generated_examples_for_tax_settings_and_registrations(emulator: EmulatorServer) -> None:
    client = make_client(emulator)
    # test_tax_settings_post / test_tax_settings_get
    updated = client.v1.tax.settings.update({"defaults": {"tax_code": "txcd_10000000"}})
    assert updated.defaults.tax_code == "txcd_10000000"
    assert client.v1.tax.settings.retrieve().status == "pending"
    # Stripe needs a head office before any registration (FACTS.md §3 [S19]), which the
    # registration examples take for granted
    client.v1.tax.settings.update({"head_office": {"address": {"country": "IE"}}})
    # test_tax_registrations_post
    created = client.v1.tax.registrations.create(
        {"country": "IE", "country_options": {"ie": {"type": "oss_union"}}, "active_from": "now"}
    )
    assert (created.status, created.country_options.ie.type) == ("active", "oss_union")
    # test_tax_registrations_get
    listed = client.v1.tax.registrations.list({"status": "all"})
    assert [r.id for r in listed.data] == [created.id]
    assert client.v1.tax.registrations.retrieve(created.id).country == "IE"
    # test_tax_registrations_post_2, in the very second the registration started
    ended = client.v1.tax.registrations.update(created.id, {"expires_at": "now"})
    assert ended.status == "expired"
    assert [r.status for r in client.v1.tax.registrations.list({"status": "all"}).data] == [
        "expired"
    ]


def test_generated_examples_for_webhook_endpoints(emulator: EmulatorServer) -> None:
    client = make_client(emulator)
    # test_webhook_endpoints_post
    created = client.v1.webhook_endpoints.create(
        {
            "url": "https://example.com/my/webhook/endpoint",
            "enabled_events": ["charge.failed", "charge.succeeded"],
        }
    )
    assert created.secret is not None
    # test_webhook_endpoints_get / test_webhook_endpoints_get_2
    assert [e.id for e in client.v1.webhook_endpoints.list({"limit": 3}).data] == [created.id]
    assert client.v1.webhook_endpoints.retrieve(created.id).url.endswith("/my/webhook/endpoint")
    # test_webhook_endpoints_post_2
    moved = client.v1.webhook_endpoints.update(
        created.id, {"url": "https://example.com/new_endpoint"}
    )
    assert moved.url == "https://example.com/new_endpoint"
    # test_webhook_endpoints_delete
    assert client.v1.webhook_endpoints.delete(created.id).deleted is True
    statuses = [r["status"] for r in emulator.requests()]
    assert statuses == [200] * len(statuses)

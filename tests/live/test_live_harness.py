"""The live suite's own safety, always against the emulator or pure: which keys it refuses,
what it declares of an account's tax settings, that it cleans up after a failure, and that it
never touches an object of the account it did not make."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from live_api import StripeApi
from live_backend import (
    API_BASE_VARIABLE,
    KEY_VARIABLE,
    STRIPE_API_BASE,
    TAX_SETTINGS_VARIABLE,
    TAX_VARIABLE,
    Backend,
    LiveSuiteRefusal,
    backend_from_env,
)
from live_run import HEAD_OFFICE, SALES_TAX_STATES, LiveRun, choose_state, declared_tax_settings
from live_steps import assert_no_changes, edit_out_of_band, plan_and_apply

from reconciler.emulator.server import EmulatorServer

pytestmark = pytest.mark.live


def fake_key(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def test_without_a_key_the_suite_runs_against_the_emulator() -> None:
    assert backend_from_env({}) is None
    assert backend_from_env({KEY_VARIABLE: ""}) is None


@pytest.mark.parametrize("prefix", ["sk_test_", "rk_test_"])
def test_a_test_mode_key_selects_stripe_with_nothing_opted_in(prefix: str) -> None:
    key = fake_key(prefix)
    backend = backend_from_env({KEY_VARIABLE: key})
    assert backend == Backend(
        label="Stripe (test mode)",
        base_url=STRIPE_API_BASE,
        key=key,
        registrations=False,
        tax_settings_writes=False,
    )
    assert key not in repr(backend)


def test_opt_ins_and_api_base_are_read() -> None:
    env = {
        KEY_VARIABLE: fake_key("rk_test_"),
        TAX_VARIABLE: "1",
        TAX_SETTINGS_VARIABLE: "1",
        API_BASE_VARIABLE: "http://127.0.0.1:12111",
    }
    backend = backend_from_env(env)
    assert backend is not None
    assert (backend.base_url, backend.registrations, backend.tax_settings_writes) == (
        "http://127.0.0.1:12111",
        True,
        True,
    )


def _key_only(key: str) -> dict[str, str]:
    return {KEY_VARIABLE: key}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (_key_only(fake_key("sk_live_")), "holds a live-mode key (sk_live_…)"),
        (_key_only(fake_key("rk_live_")), "holds a live-mode key (rk_live_…)"),
        (_key_only(fake_key("pk_test_")), "is not a Stripe test-mode secret or restricted key"),
        (_key_only("sk_test_"), "is not a Stripe test-mode secret or restricted key"),
        (_key_only(fake_key("sk_test_ ")), "is not a Stripe test-mode secret or restricted key"),
        (_key_only(fake_key("sk_test_") + "\n"), "is not a Stripe test-mode secret"),
        ({TAX_VARIABLE: "1"}, f"{TAX_VARIABLE} is set but {KEY_VARIABLE} is not"),
        ({API_BASE_VARIABLE: STRIPE_API_BASE}, f"{API_BASE_VARIABLE} is set but"),
        ({KEY_VARIABLE: fake_key("sk_test_"), TAX_VARIABLE: "yes"}, f"{TAX_VARIABLE} must be 1"),
    ],
    ids=[
        "sk_live",
        "rk_live",
        "publishable",
        "empty-token",
        "space",
        "newline",
        "opt-in-without-key",
        "api-base-without-key",
        "opt-in-not-1",
    ],
)
def test_refusals_name_the_problem_and_never_the_key(env: dict[str, str], message: str) -> None:
    """A live key is refused before any request; no refusal shows a key or its random part."""
    with pytest.raises(LiveSuiteRefusal) as refusal:
        backend_from_env(env)
    assert message in str(refusal.value)
    key = env.get(KEY_VARIABLE, "")
    assert key[8:].strip() == "" or key[8:].strip() not in str(refusal.value)


def test_the_registration_state_is_one_no_registration_holds() -> None:
    run_id = "00000000ff"
    occupied = set(SALES_TAX_STATES) - {"TX", "WA"}
    assert choose_state(occupied, run_id) in {"TX", "WA"}
    assert choose_state(set(SALES_TAX_STATES), run_id) is None
    picks = {choose_state(set(), f"{n:010x}") for n in range(len(SALES_TAX_STATES))}
    assert picks == set(SALES_TAX_STATES)  # spread over every state by the run id


LIVE_OFFICE = {
    "country": "DE",
    "city": "Berlin",
    "line1": "Unter den Linden 1",
    "postal_code": "10117",
}


@pytest.mark.parametrize(
    ("live", "writes", "declared"),
    [
        ({"head_office": None, "defaults": {"tax_behavior": None}}, False, None),
        ({"head_office": None, "defaults": {"tax_behavior": "inclusive"}}, False, None),
        (
            {"head_office": None, "defaults": {"tax_behavior": None, "tax_code": None}},
            True,
            {"head_office": {"address": HEAD_OFFICE}, "defaults": {"tax_behavior": "exclusive"}},
        ),
        (
            {"head_office": {"address": {**LIVE_OFFICE, "state": None, "line2": ""}}},
            False,
            {"head_office": {"address": LIVE_OFFICE}},
        ),
        (
            {
                "head_office": {"address": LIVE_OFFICE},
                "defaults": {"tax_behavior": "inferred_by_currency", "tax_code": "txcd_10000000"},
            },
            True,
            {
                "head_office": {"address": LIVE_OFFICE},
                "defaults": {"tax_behavior": "inferred_by_currency", "tax_code": "txcd_10000000"},
            },
        ),
    ],
)
def test_declared_tax_settings_keep_what_the_account_has(
    live: dict[str, Any], writes: bool, declared: dict[str, Any] | None
) -> None:
    assert declared_tax_settings(live, writes=writes) == declared


def test_the_readme_says_how_to_run_it() -> None:
    """Every variable the suite reads, and the commands, are in its README section."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Live acceptance suite\n")
    text = readme[start : readme.index("\n## ", start + 1)]
    for name in (KEY_VARIABLE, TAX_VARIABLE, TAX_SETTINGS_VARIABLE, API_BASE_VARIABLE):
        assert f"`{name}" in text, name
    assert f"{KEY_VARIABLE}=sk_test_… .venv/bin/pytest -m live" in text
    assert '`pytest -m "not live"`' in text


def test_the_suite_runs_by_default(pytestconfig: pytest.Config) -> None:
    """``.ci/run`` runs plain ``pytest -q``: the live marker is registered, and nothing in the
    configuration deselects it."""
    assert any(marker.startswith("live:") for marker in pytestconfig.getini("markers"))
    assert "-m" not in pytestconfig.getini("addopts")
    assert "tests" in pytestconfig.getini("testpaths")


# --- against the emulator: an account that holds other objects ----------------------------


def seed_foreign_objects(api: StripeApi) -> None:
    """What a real sandbox may hold: a head office, an untagged endpoint, an endpoint another
    stripe-reconciler manifest manages, another live-suite run's endpoint, a registration."""
    office = {f"head_office[address][{part}]": value for part, value in LIVE_OFFICE.items()}
    api.update("/v1/tax/settings", office)
    untagged = {"url": "https://keep.example.com/x", "enabled_events[]": ["*"]}
    api.update("/v1/webhook_endpoints", untagged)
    tagged = {"managed_by": "stripe-reconciler", "reconciler_name": "orders"}
    api.update(
        "/v1/webhook_endpoints",
        {
            "url": "https://shop.example.com/hooks",
            "enabled_events[]": ["invoice.paid"],
            **{f"metadata[{k}]": v for k, v in tagged.items()},
        },
    )
    other_run = {"managed_by": "stripe-reconciler", "reconciler_name": "ls-0123456789-orders"}
    api.update(
        "/v1/webhook_endpoints",
        {
            "url": "https://live-suite-0123456789.example.com/hooks/orders",
            "enabled_events[]": ["invoice.paid"],
            **{f"metadata[{k}]": v for k, v in other_run.items()},
        },
    )
    for state in SALES_TAX_STATES[:40]:  # most states taken: the run must pick a free one
        api.update(
            "/v1/tax/registrations",
            {
                "country": "US",
                "country_options[us][type]": "state_sales_tax",
                "country_options[us][state]": state,
                "active_from": "now",
            },
        )


def snapshot(api: StripeApi) -> dict[str, Any]:
    return {
        "endpoints": api.webhook_endpoints(),
        "registrations": api.registrations(),
        "tax_settings": api.tax_settings(),
    }


def test_a_failed_run_is_cleaned_up_and_nothing_else_is_touched(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """A run on an account with other objects (and a head office: registrations opted in,
    tax-settings writes not) fails half-way; cleanup removes exactly what it made."""
    backend = Backend(
        label="the emulator, seeded",
        base_url=emulator.base_url,
        key=fake_key("sk_test_"),
        registrations=True,
        tax_settings_writes=False,
    )
    with StripeApi(backend) as api:
        seed_foreign_objects(api)
        before = snapshot(api)
        made: dict[str, Any] = {}
        with (
            pytest.raises(RuntimeError, match="a step failed"),
            LiveRun.started(backend, tmp_path, on_secret=lambda _: None) as run,
        ):
            assert run.state not in SALES_TAX_STATES[:40]
            assert run.tax_settings == {"head_office": {"address": LIVE_OFFICE}}
            plan_and_apply(run, run.write_manifest())
            assert_no_changes(run, tmp_path / "manifests" / "stripe.yaml")
            edit_out_of_band(run)
            made = {"endpoints": run.endpoints(), "registrations": run.registrations()}
            raise RuntimeError("a step failed")
        assert len(made["endpoints"]) == 2 and len(made["registrations"]) == 1
        after = snapshot(api)

    assert after["tax_settings"] == before["tax_settings"]
    assert after["endpoints"] == before["endpoints"]  # the run's are deleted, others unchanged
    expired = {r["id"]: r for r in after["registrations"]}
    (registration,) = made["registrations"]
    assert expired.pop(registration["id"])["status"] == "expired"
    assert list(expired.values()) == before["registrations"]

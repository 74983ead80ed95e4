"""`export` end to end: a full account (16 endpoints, 120 registrations) → manifests → `plan`.

The account is built through the Stripe API with the official SDK: some endpoints as
stripe-reconciler's apply would create them (tagged), some by hand (untagged).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import stripe
from click.testing import CliRunner, Result

from bench.workload import US_STATES
from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer

KEY = "sk_test_" + "export" + "x" * 8
TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}
EVENTS = ["invoice.paid", "charge.failed", "checkout.session.completed"]
EU = [
    "at",
    "be",
    "bg",
    "cy",
    "cz",
    "de",
    "dk",
    "ee",
    "fi",
    "fr",
    "gr",
    "hr",
    "hu",
    "ie",
    "it",
    "lt",
    "lu",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "se",
    "si",
    "sk",
]
DEFAULT = [
    "ae",
    "au",
    "ch",
    "gb",
    "jp",
    "no",
    "nz",
    "sg",
    "al",
    "ao",
    "aw",
    "ba",
    "bb",
    "bd",
    "bf",
    "bh",
    "bs",
    "cd",
    "et",
    "gn",
    "is",
    "me",
    "mk",
]
SIMPLIFIED = [
    "am",
    "az",
    "bj",
    "by",
    "cl",
    "cm",
    "co",
    "cr",
    "cv",
    "ec",
    "eg",
    "ge",
    "id",
    "in",
    "ke",
    "kg",
    "kh",
    "kr",
    "kz",
]
CA_PROVINCES = ["BC", "QC"]


@dataclasses.dataclass
class Seeded:
    emulator: EmulatorServer
    secrets: list[str]
    untagged: int


def _registrations() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for state in US_STATES:
        out.append(
            {
                "country": "US",
                "country_options": {"us": {"type": "state_sales_tax", "state": state}},
            }
        )
    for cc in EU:
        out.append({"country": cc.upper(), "country_options": {cc: {"type": "oss_union"}}})
    for cc in DEFAULT:
        out.append({"country": cc.upper(), "country_options": {cc: {"type": "standard"}}})
    for cc in SIMPLIFIED:
        out.append({"country": cc.upper(), "country_options": {cc: {"type": "simplified"}}})
    for province in CA_PROVINCES:
        out.append(
            {
                "country": "CA",
                "country_options": {
                    "ca": {"type": "province_standard", "province_standard": {"province": province}}
                },
            }
        )
    return out


@pytest.fixture
def seeded(emulator: EmulatorServer) -> Seeded:
    sdk = stripe.StripeClient(KEY, base_addresses={"api": emulator.base_url}, max_network_retries=0)
    secrets: list[str] = []
    sdk.v1.tax.settings.update(
        {
            "defaults": {"tax_behavior": "inclusive", "tax_code": "txcd_10000000"},
            "head_office": {"address": {"country": "DE", "city": "Berlin", "postal_code": "10115"}},
        }
    )
    for i in range(16):
        params: dict[str, object] = {
            "url": f"https://app{i % 5}.example.com/hooks/{i}",
            "enabled_events": EVENTS[: 1 + i % 3],
            "metadata": {"team": f"team-{i % 4}"},
        }
        if i < 10:  # as apply would have created them
            params["metadata"] = {**TAGS, "reconciler_name": f"svc-{i}", "team": f"team-{i % 4}"}
        if i % 4 == 1:
            params["description"] = f"Endpoint {i} costs $5"
        if i % 5 == 2:
            params["api_version"] = "2024-09-30.acacia"
        endpoint = sdk.v1.webhook_endpoints.create(params)  # type: ignore[arg-type]
        secrets.append(str(endpoint.secret))
        if i % 6 == 3:
            sdk.v1.webhook_endpoints.update(endpoint.id, {"disabled": True})
    registrations = _registrations()
    assert len(registrations) == 120
    created = []
    for index, params in enumerate(registrations):
        if index % 20 == 7:  # a few scheduled ones
            params["active_from"] = int(emulator.advance_clock(0)) + 86_400 * 30
        else:
            params["active_from"] = "now"
        created.append(sdk.v1.tax.registrations.create(params))  # type: ignore[arg-type]
    emulator.advance_clock(1)
    for registration in created[:5]:  # history: exported manifests leave expired ones out
        sdk.v1.tax.registrations.update(registration.id, {"expires_at": "now"})
    return Seeded(emulator, secrets, untagged=6)


def invoke(emulator: EmulatorServer, *args: str) -> Result:
    runner = CliRunner(
        env={
            "STRIPE_API_KEY": KEY,
            "STRIPE_API_BASE": emulator.base_url,
            "STRIPE_ACCOUNT": None,
            "NO_COLOR": "1",
        }
    )
    return runner.invoke(cli, list(args))


def test_export_then_plan_prints_no_changes(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "stripe"
    mark = len(seeded.emulator.requests())
    result = invoke(seeded.emulator, "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert {e["method"].upper() for e in seeded.emulator.requests()[mark:]} == {"GET"}
    assert result.stderr.startswith(
        "Exported tax settings, 10 webhook endpoint(s), 0 event destination(s), "
        "115 tax registration(s); "
        "6 untagged endpoint(s) left unmanaged"
    )
    files = sorted(p.name for p in out.iterdir())
    assert files == ["tax_registrations.yaml", "tax_settings.yaml", "webhook_endpoints.yaml"]
    for path in out.iterdir():
        text = path.read_text()
        assert text.startswith("# yaml-language-server: $schema=")
        assert "whsec_" not in text and KEY not in text
        for secret in seeded.secrets:
            assert secret not in text

    validated = invoke(seeded.emulator, "validate", str(out))
    assert validated.exit_code == 0, validated.output
    assert validated.stderr == "Valid: 126 resources declared.\n"

    plan = invoke(seeded.emulator, "plan", str(out))
    assert plan.exit_code == 0, plan.output
    assert plan.stdout.rstrip().endswith("No changes.")
    assert plan.stdout.count("? webhook_endpoints[we_") == seeded.untagged


def test_export_adopt_then_plan_adopts_only_the_untagged(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "adopt.yaml"
    result = invoke(seeded.emulator, "export", "--adopt", "--out", str(out))
    assert result.exit_code == 0, result.output
    plan = invoke(seeded.emulator, "plan", str(out), "--format", "json")
    assert plan.exit_code == 0, plan.output
    document = json.loads(plan.stdout)
    actions = [(a["action"], a["address"]) for a in document["actions"]]
    assert len(actions) == seeded.untagged
    assert {kind for kind, _ in actions} == {"adopt"}
    assert "Plan: 0 to create, 6 to update, 0 to replace, 0 to delete, 0 to expire." in (
        invoke(seeded.emulator, "plan", str(out)).stdout
    )


def test_existing_files_are_not_overwritten_without_force(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "one.yaml"
    out.write_text("# hand-edited\n")
    refused = invoke(seeded.emulator, "export", "--out", str(out), "--kinds", "tax_settings")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: refusing to overwrite {out}: export writes a fresh starting point; "
        "pass --force to replace, or choose another --out\n"
    )
    assert out.read_text() == "# hand-edited\n"
    forced = invoke(
        seeded.emulator, "export", "--out", str(out), "--kinds", "tax_settings", "--force"
    )
    assert forced.exit_code == 0, forced.output
    text = out.read_text()
    assert "tax_behavior: inclusive" in text
    assert "webhook_endpoints" not in text and "tax_registrations" not in text


def test_stdout_export_and_bad_kinds(seeded: Seeded) -> None:
    result = invoke(seeded.emulator, "export", "--kinds", "webhook_endpoints")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# yaml-language-server: $schema=")
    assert "  svc-0:\n    url: https://app0.example.com/hooks/0\n" in result.stdout
    assert "description: Endpoint 1 costs $$5" in result.stdout
    bad = invoke(seeded.emulator, "export", "--kinds", "webhooks,tax_settings")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: --kinds: unknown kind(s) webhooks; choose from ")

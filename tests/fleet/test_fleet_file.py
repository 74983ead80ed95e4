"""The fleet file: loaded with paths relative to it, every problem located, its JSON Schema
committed and current, and each account's manifests loaded with its own variables."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # via openapi-schema-validator
import pytest
import yaml

from reconciler.errors import ManifestError
from reconciler.fleet.load import load_fleet, load_members
from reconciler.fleet.schema import fleet_json_schema, render_fleet_schema

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
version: 1
account: {mode: test}
webhook_endpoints:
  orders:
    url: https://${SHOP_HOST}/hooks
    enabled_events: [invoice.paid]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def diagnostics(error: pytest.ExceptionInfo[ManifestError]) -> list[str]:
    return [str(d) for d in error.value.diagnostics]


def test_paths_are_relative_to_the_fleet_file(tmp_path: Path) -> None:
    fleet_file = write(
        tmp_path,
        "ci/fleet.yaml",
        "version: 1\nmanifests: [../base/]\naccounts:\n"
        "  - stripe_account: acct_1A\n    vars: {SHOP_HOST: a.example.com}\n"
        "    manifests: [overlays/a.yaml]\n"
        "  - stripe_account: acct_2B\n",
    )
    fleet = load_fleet(fleet_file)
    base = str(tmp_path / "base")
    assert fleet.manifests == (base,)
    first, second = fleet.named
    assert first.paths == (base, str(tmp_path / "ci" / "overlays" / "a.yaml"))
    assert dict(first.vars) == {"SHOP_HOST": "a.example.com"}
    assert (second.stripe_account, second.paths, dict(second.vars)) == ("acct_2B", (base,), {})
    listed = fleet.member("acct_9Z")
    assert (listed.paths, listed.named) == ((base,), False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nmanifests: [base/]\naccount:\n  - stripe_account: acct_1\n",
            ["fleet.yaml:3:1: account: unknown key 'account'; did you mean 'accounts'?"],
        ),
        (
            "version: 1\nmanifests: [base/]\naccounts:\n  - stripe_account: acct-1\n",
            [
                "fleet.yaml:4:21: accounts[0].stripe_account: 'acct-1' does not match the pattern "
                "^acct_[A-Za-z0-9]+$"
            ],
        ),
        (
            "version: 1\nmanifests: [base/]\naccounts:\n  - stripe_account: acct_1\n"
            "  - stripe_account: acct_1\n",
            [
                "fleet.yaml:5:21: accounts[1].stripe_account: acct_1 is accounts[0] (acct_1); each "
                "account once (secrets are stored under the upper-cased id)"
            ],
        ),
        (
            "version: 1\nmanifests: [base/]\naccounts:\n  - stripe_account: acct_1a\n"
            "  - stripe_account: acct_1A\n",
            [
                "fleet.yaml:5:21: accounts[1].stripe_account: acct_1A differs only in case from "
                "accounts[0] (acct_1a); each account once (secrets are stored under the "
                "upper-cased id)"
            ],
        ),
        (
            "version: 1\nmanifests: [base/]\n",
            ["fleet.yaml:1:1: accounts: a fleet needs accounts, connected_accounts or both"],
        ),
        (
            "version: 1\naccounts:\n  - stripe_account: acct_1\n",
            [
                "fleet.yaml:3:5: accounts[0]: no manifests for this account: give the fleet's "
                "manifests or its own"
            ],
        ),
        (
            "version: 1\nmanifests: [b/]\nconnected_accounts: {}\n"
            "rate_limits: {platform: {rate: 0}}\n",
            ["fleet.yaml:4:32: rate_limits.platform.rate: Input should be greater than 0"],
        ),
        (
            "version: 1\nmanifests: [b/]\naccounts:\n  - stripe_account: acct_1\n"
            "    vars: {PORT: 8080}\n",
            [
                "fleet.yaml:5:18: accounts[0].vars.PORT: expected a string, got a number (8080); "
                'quote it: "8080"'
            ],
        ),
    ],
)
def test_every_problem_is_located(tmp_path: Path, text: str, expected: list[str]) -> None:
    fleet_file = write(tmp_path, "fleet.yaml", text)
    with pytest.raises(ManifestError) as caught:
        load_fleet(fleet_file)
    shown = [line.replace(str(tmp_path) + "/", "") for line in diagnostics(caught)]
    assert shown == expected


def test_each_account_gets_its_variables_and_overlays(tmp_path: Path) -> None:
    write(tmp_path, "base/hooks.yaml", BASE)
    write(
        tmp_path,
        "extra/billing.yaml",
        "version: 1\nwebhook_endpoints:\n  billing:\n    url: https://b.example.com/h\n"
        "    enabled_events: [invoice.paid]\n",
    )
    fleet_file = write(
        tmp_path,
        "fleet.yaml",
        "version: 1\nmanifests: [base/]\naccounts:\n"
        "  - {stripe_account: acct_1A, vars: {SHOP_HOST: a.example.com}, manifests: [extra/]}\n"
        "  - {stripe_account: acct_2B, vars: {SHOP_HOST: b.example.com}}\n",
    )
    fleet = load_fleet(fleet_file)
    desired, warnings = load_members(fleet.named, environ={})
    assert warnings == ()
    first, second = desired["acct_1A"].manifest, desired["acct_2B"].manifest
    assert sorted(first.webhook_endpoints) == ["billing", "orders"]
    assert first.webhook_endpoints["orders"].url == "https://a.example.com/hooks"
    assert sorted(second.webhook_endpoints) == ["orders"]
    assert second.webhook_endpoints["orders"].url == "https://b.example.com/hooks"


def test_a_problem_of_some_accounts_names_them(tmp_path: Path) -> None:
    write(tmp_path, "base/hooks.yaml", BASE)
    fleet_file = write(
        tmp_path,
        "fleet.yaml",
        "version: 1\nmanifests: [base/]\naccounts:\n"
        "  - {stripe_account: acct_1A, vars: {SHOP_HOST: a.example.com}}\n"
        "  - {stripe_account: acct_2B}\n  - {stripe_account: acct_3C}\n",
    )
    fleet = load_fleet(fleet_file)
    with pytest.raises(ManifestError) as caught:
        load_members(fleet.named, environ={})
    where = tmp_path / "base" / "hooks.yaml"
    assert diagnostics(caught) == [
        f"{where}:5:18: webhook_endpoints.orders.url: environment variable SHOP_HOST is not set; "
        "set it or give a default with ${SHOP_HOST:-default} (fleet accounts acct_2B, acct_3C)"
    ]


def test_a_problem_of_every_account_is_shown_once_without_names(tmp_path: Path) -> None:
    write(tmp_path, "base/hooks.yaml", BASE.replace("invoice.paid", "invoice.payd"))
    fleet_file = write(
        tmp_path,
        "fleet.yaml",
        "version: 1\nmanifests: [base/]\naccounts:\n"
        "  - {stripe_account: acct_1A, vars: {SHOP_HOST: a.example.com}}\n"
        "  - {stripe_account: acct_2B, vars: {SHOP_HOST: b.example.com}}\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_members(load_fleet(fleet_file).named, environ={})
    (only,) = diagnostics(caught)
    assert "unknown event 'invoice.payd'" in only
    assert "fleet account" not in only


def test_manifests_in_a_fleet_must_not_pin_a_connected_account(tmp_path: Path) -> None:
    write(tmp_path, "base/a.yaml", "version: 1\naccount: {mode: test, stripe_account: acct_X}\n")
    fleet_file = write(
        tmp_path,
        "fleet.yaml",
        "version: 1\nmanifests: [base/]\naccounts: [{stripe_account: acct_1}]\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_members(load_fleet(fleet_file).named, environ={})
    assert diagnostics(caught) == [
        f"{tmp_path / 'base' / 'a.yaml'}:2:1: account.stripe_account: manifests used in a fleet "
        "must not pin a connected account (acct_X): the fleet sets each account's; remove "
        "account.stripe_account"
    ]


def test_an_overlay_declaring_a_base_name_again_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "base/hooks.yaml", BASE)
    write(tmp_path, "over/hooks.yaml", BASE)
    fleet_file = write(
        tmp_path,
        "fleet.yaml",
        "version: 1\nmanifests: [base/]\naccounts:\n"
        "  - {stripe_account: acct_1A, vars: {SHOP_HOST: a.example.com}, manifests: [over/]}\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_members(load_fleet(fleet_file).named, environ={})
    assert any("already declared at" in line for line in diagnostics(caught))


@pytest.mark.parametrize(
    "committed",
    [ROOT / "schemas" / "fleet.schema.json", ROOT / "reconciler" / "fleet" / "fleet.schema.json"],
    ids=lambda p: p.parent.name,
)
def test_the_committed_fleet_schema_is_current(committed: Path) -> None:
    where = committed.relative_to(ROOT)
    assert committed.read_text(encoding="utf-8") == render_fleet_schema(), (
        f"{where} is stale: run `stripe-reconciler schema --fleet --out {where}`"
    )


def test_the_fleet_schema_is_valid_and_accepts_the_example() -> None:
    schema = fleet_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    example = yaml.safe_load((ROOT / "examples" / "fleet" / "fleet.yaml").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert [e.message for e in validator.iter_errors(json.loads(json.dumps(example)))] == []
    bad = {"version": 1, "accounts": [{"stripe_account": "nope"}], "extra": 1}
    assert len(list(validator.iter_errors(bad))) == 2

"""The shipped examples validate, and plan against the embedded emulator, as their comments say."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / "examples" / "environments"
CONNECT = ROOT / "examples" / "connect"
TEST_ENV = {"APP_HOST": "staging.example.com", "DEPLOY_ENV": "test"}
LIVE_ENV = {
    "APP_HOST": "shop.example.com",
    "DEPLOY_ENV": "live",
    "STRIPE_LIVE_ACCOUNT_ID": "acct_1LiveExample",
}
#: Cleared in every run, so a developer's shell cannot change the outcome.
_UNSET: dict[str, str | None] = {
    name: None
    for name in (
        "STRIPE_API_KEY",
        "STRIPE_API_BASE",
        "STRIPE_ACCOUNT",
        "STRIPE_RECONCILER_EMULATOR_STATE",
        "APP_HOST",
        "DEPLOY_ENV",
        "STRIPE_LIVE_ACCOUNT_ID",
        "CONNECTED_ACCOUNT_ID",
        "SHOP_HOST",
        "GITHUB_ACTIONS",
    )
}


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--no-color", *args], env={**_UNSET, **env})
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("paths", "env", "summary"),
    [
        ([ROOT / "examples" / "basic"], {}, "Valid: 6 resources declared."),
        ([ENVS / "base", ENVS / "test"], TEST_ENV, "Valid: 5 resources declared."),
        ([ENVS / "base", ENVS / "live"], LIVE_ENV, "Valid: 4 resources declared."),
        ([CONNECT], {"CONNECTED_ACCOUNT_ID": "acct_1Connected"}, "Valid: 3 resources declared."),
    ],
)
def test_examples_validate(paths: list[Path], env: dict[str, str], summary: str) -> None:
    code, output = invoke(["validate", *map(str, paths)], env)
    assert (code, output.splitlines()[-1]) == (0, summary), output


@pytest.mark.parametrize(
    ("paths", "env", "first_error"),
    [
        (
            [ENVS / "base", ENVS / "test"],
            {"DEPLOY_ENV": "test"},
            f"{ENVS / 'base' / 'webhooks.yaml'}:11:18: webhook_endpoints.orders.url: "
            "environment variable APP_HOST is not set",
        ),
        (
            [ENVS / "base", ENVS / "live"],
            {**LIVE_ENV, "STRIPE_LIVE_ACCOUNT_ID": ""},
            f"{ENVS / 'live' / 'account.yaml'}:9:7: account.id: '' does not match the pattern "
            "^acct_[A-Za-z0-9]+$",
        ),
        (
            [CONNECT],
            {},
            f"{CONNECT / 'connected-shop.yaml'}:11:19: account.stripe_account: "
            "environment variable CONNECTED_ACCOUNT_ID is not set",
        ),
    ],
)
def test_a_missing_variable_is_an_error_at_its_line(
    paths: list[Path], env: dict[str, str], first_error: str
) -> None:
    code, output = invoke(["validate", *map(str, paths)], env)
    assert code == 1
    assert output.splitlines()[0].startswith(first_error), output


def test_test_environment_plans_against_the_emulator(tmp_path: Path) -> None:
    state = str(tmp_path / "emulator.json")
    paths = [str(ENVS / "base"), str(ENVS / "test")]
    code, output = invoke(["--emulator-state", state, "plan", *paths], TEST_ENV)
    assert code == 0, output
    assert '"https://staging.example.com/stripe/debug"' in output
    assert output.splitlines()[-1] == (
        "Plan: 4 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire."
    )


def test_live_environment_refuses_a_test_key(tmp_path: Path) -> None:
    state = str(tmp_path / "emulator.json")
    paths = [str(ENVS / "base"), str(ENVS / "live")]
    code, output = invoke(["--emulator-state", state, "plan", *paths], LIVE_ENV)
    assert code == 1
    assert output.splitlines()[-1] == (
        "Error: The manifests declare account.mode: live but the key is a test-mode key; "
        "use a live key (sk_live_/rk_live_) or set account.mode: test"
    )


def test_connect_example_applies_to_the_connected_account_only(tmp_path: Path) -> None:
    state = str(tmp_path / "emulator.json")
    connected = {"CONNECTED_ACCOUNT_ID": "acct_1Connected"}
    apply = ["--emulator-state", state, "apply", str(CONNECT), "--auto-approve"]
    code, output = invoke([*apply, "--secrets-file", str(tmp_path / "s.secrets.env")], connected)
    assert code == 0, output
    assert "Apply complete: 2 created, 1 updated" in output
    code, output = invoke(["--emulator-state", state, "plan", str(CONNECT)], connected)
    assert (code, output.strip()) == (0, "No changes.")
    # --stripe-account wins over the manifest: another connected account has nothing yet.
    code, output = invoke(
        ["--emulator-state", state, "--stripe-account", "acct_1Other", "plan", str(CONNECT)],
        connected,
    )
    assert code == 0, output
    assert output.splitlines()[-1] == (
        "Plan: 2 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire."
    )

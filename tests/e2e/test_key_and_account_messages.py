"""Messages about the key and the account say what the user actually did, and what to do.

A key given with ``--api-key`` is named as such (not as ``STRIPE_API_KEY``, which may not even be
set), and a plan made for one connected account and applied to another says to pass
``--stripe-account`` with the platform's key, not to "use that account's key" (a connected
account reached through the platform has no key of its own in this setup).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_helpers import KEY, invoke
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer

PUBLISHABLE = "pk_test_" + "k" * 16


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "stripe.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["plan"], ["drift"], ["apply", "--auto-approve"], ["export"]])
def test_a_key_from_the_option_is_named_as_the_option(manifest: Path, command: list[str]) -> None:
    paths = [] if command == ["export"] else [str(manifest)]
    env = {"STRIPE_API_KEY": None, "STRIPE_API_BASE": "http://127.0.0.1:1"}
    result = CliRunner().invoke(cli, ["--api-key", PUBLISHABLE, *command, *paths], env=env)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: A publishable key (pk_…) cannot manage webhook endpoints or Tax settings: pass "
        "--api-key a secret (sk_…) or restricted (rk_…) key.\n"
    )


def test_a_key_from_the_environment_is_named_as_the_variable(manifest: Path) -> None:
    env = {"STRIPE_API_KEY": "sk_test_" + "k" * 16 + "\n"}
    result = CliRunner().invoke(cli, ["plan", str(manifest)], env=env)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: The Stripe API key in STRIPE_API_KEY contains characters a key never has "
        "(spaces, quotes or line breaks?); check how it was copied.\n"
    )


def test_a_plan_for_another_connected_account_says_to_pass_stripe_account(
    emulator: EmulatorServer, tmp_path: Path, manifest: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    run = invoke(
        emulator, "--stripe-account", "acct_1Shop", "plan", str(manifest), "--out", str(plan_file)
    )
    assert run.code == 0, run.stderr
    run = invoke(emulator, "--stripe-account", "acct_1Other", "apply", "--plan", str(plan_file))
    assert run.code == 1
    assert run.stderr == (
        "Error: the plan was made for connected account acct_1Shop but this run acts on "
        "connected account acct_1Other; pass --stripe-account acct_1Shop (or set "
        "STRIPE_ACCOUNT) with the platform's key to apply it, or make a new plan\n"
    )
    assert KEY not in run.stderr

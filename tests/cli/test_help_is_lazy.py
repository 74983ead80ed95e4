"""``--help`` lists every command from the static summaries, without importing the commands."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from reconciler.cli.main import _COMMANDS, _SUMMARIES, cli


def test_every_command_has_a_summary() -> None:
    assert sorted(_SUMMARIES) == sorted(_COMMANDS)


@pytest.mark.parametrize("name", sorted(_COMMANDS))
@pytest.mark.parametrize("limit", [45, 66, 200])
def test_summary_gives_the_commands_own_short_help(name: str, limit: int) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    summary = click.Command(name, help=_SUMMARIES[name]).get_short_help_str(limit)
    assert summary == command.get_short_help_str(limit)


def test_help_output_matches_what_importing_every_command_prints() -> None:
    ctx = click.Context(cli, info_name="stripe-reconciler")
    ours, clicks = click.HelpFormatter(width=80), click.HelpFormatter(width=80)
    cli.format_commands(ctx, ours)
    click.Group.format_commands(cli, ctx, clicks)
    assert ours.getvalue() == clicks.getvalue()
    assert "  plan      Show what apply would change in Stripe to match the manifests.\n" in (
        ours.getvalue()
    )


def test_help_imports_no_command_module() -> None:
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from reconciler.cli.main import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ('reconciler.', 'httpx', 'pydantic')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    # reconciler.lazy is the package's own lazy-attribute hook (the standard library only)
    assert process.stdout == (
        "['reconciler.cli', 'reconciler.cli.main', 'reconciler.errors', 'reconciler.lazy']\n"
    )


def test_help_still_lists_a_command_registered_without_a_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(_SUMMARIES, "schema")
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "\n  schema    Print (or write) the JSON Schema of manifest files, for" in result.output

"""The command group itself: version, help, error mapping."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli.main import cli


def test_version_through_click_runner() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"stripe-reconciler, version {__version__}\n"


def test_unknown_command_exits_1_not_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "No such command 'no-such-command'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_constants_match_the_client() -> None:
    # spelled twice so that --help does not import the HTTP client
    from reconciler.cli import main
    from reconciler.stripe import config, transfer

    assert main.DEFAULT_TIMEOUT == config.DEFAULT_DEADLINE
    assert main.WAITING_LOGGER == transfer.WAITING_LOGGER

"""``--emulator-state``: the quick start's in-process emulator, end to end and at its edges."""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = Path(sys.executable).with_name("stripe-reconciler")
#: Variables of a developer's shell or a CI runner that would change what the CLI does.
_FOREIGN_ENV = (
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_ACCOUNT",
    "STRIPE_RECONCILER_EMULATOR_STATE",
    "STRIPE_RECONCILER_LOG_LEVEL",
    "GITHUB_ACTIONS",
    "APP_HOST",
)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [str(CONSOLE), *args],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "basic", tmp_path / "examples" / "basic")
    return tmp_path


def test_plan_apply_plan_across_processes_share_the_state_file(workdir: Path) -> None:
    state = ["--emulator-state", ".stripe-emulator.json"]

    first = run([*state, "plan", "examples/basic"], workdir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == (
        "Plan: 5 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire."
    )
    assert "+ webhook_endpoints.orders: create" in first.stdout
    assert not (workdir / ".stripe-emulator.json").exists()  # a plan writes nothing

    applied = run(
        [*state, "apply", "examples/basic", "--auto-approve", "--secrets-file", "w.secrets.env"],
        workdir,
    )
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 5 created, 1 updated" in applied.stdout + applied.stderr

    again = run([*state, "plan", "examples/basic"], workdir)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "No changes."

    state_file = workdir / ".stripe-emulator.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    secrets = (workdir / "w.secrets.env").read_text(encoding="utf-8").splitlines()
    assert [line.split("=")[0] for line in secrets] == [
        "STRIPE_WEBHOOK_SECRET_BILLING_ALERTS",
        "STRIPE_WEBHOOK_SECRET_ORDERS",
    ]


@pytest.mark.parametrize(
    "name",
    [
        ".stripe-emulator.json",
        ".stripe-emulator-envs.json",
        ".stripe-emulator-connect.json",
        "webhook.secrets.env",
        ".webhook.secrets.env.lock",
    ],
)
def test_files_the_readme_makes_are_ignored_by_git(name: str) -> None:
    patterns = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert [p for p in patterns if fnmatch.fnmatchcase(name, p)] != []
    assert name in (ROOT / "README.md").read_text(encoding="utf-8") or name.startswith(".webhook")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["plan", "m.yaml"],
            {"STRIPE_API_KEY": "sk_live_" + "e" * 12},
            "Error: Refusing --emulator-state with a live-mode key",
        ),
        (
            ["plan", "m.yaml"],
            {"STRIPE_API_KEY": "rk_live_" + "e" * 12},
            "Error: Refusing --emulator-state with a live-mode key",
        ),
        (
            ["--api-base", "http://127.0.0.1:9", "plan", "m.yaml"],
            {},
            "Error: --emulator-state and --api-base (STRIPE_API_BASE) both say where requests go",
        ),
        (
            ["plan", "m.yaml"],
            {"STRIPE_API_BASE": "http://127.0.0.1:9"},
            "Error: --emulator-state and --api-base (STRIPE_API_BASE) both say where requests go",
        ),
        (
            ["emulator"],
            {},
            "Error: --emulator-state runs a command against an in-process emulator; to serve one, "
            "use `stripe-reconciler emulator --state-file FILE`",
        ),
    ],
)
def test_refusals(tmp_path: Path, args: list[str], env: dict[str, str], message: str) -> None:
    state = tmp_path / "state.json"
    result = CliRunner().invoke(cli, ["--emulator-state", str(state), *args], env=env)
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(message)
    assert not state.exists()


def test_environment_twin_and_the_emulator_stops_with_the_command(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://example.com/a\n"
        "    enabled_events: [invoice.paid]\n",
        encoding="utf-8",
    )
    state = tmp_path / "state.json"
    env = {"STRIPE_RECONCILER_EMULATOR_STATE": str(state), "STRIPE_API_KEY": None}
    result = CliRunner().invoke(cli, ["plan", str(manifest)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 0 to expire."
    )
    assert [t.name for t in threading.enumerate() if t.name == "emulator"] == []


def test_offline_commands_start_no_emulator(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from reconciler.cli.main import cli\n"
        "try:\n"
        "    cli.main(['--emulator-state', 's.json', 'validate', 'examples/basic'],"
        " prog_name='stripe-reconciler')\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, 'uvicorn' in sys.modules, 'reconciler.emulator.app' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "0 False False", result.stderr


def test_help_does_not_import_the_emulator() -> None:
    code = (
        "import sys\n"
        "from reconciler.cli.main import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='stripe-reconciler')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('uvicorn', 'starlette', 'reconciler.emulator.server')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert "--emulator-state FILE" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]", result.stderr


def test_the_event_destinations_example_applies_and_converges(tmp_path: Path) -> None:
    """``examples/event-destinations`` as its header says to try it: apply on the embedded
    emulator, the webhook destination's secret under its own variable, then no changes."""
    example = "examples/event-destinations"
    shutil.copytree(ROOT / example, tmp_path / example)
    state = ["--emulator-state", ".stripe-emulator-destinations.json"]
    applied = run(
        [*state, "apply", example, "--auto-approve", "--secrets-file", "destinations.secrets.env"],
        tmp_path,
    )
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 3 created" in applied.stdout + applied.stderr
    secrets = (tmp_path / "destinations.secrets.env").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("=", 1)[0] for line in secrets) == [
        "STRIPE_EVENT_DESTINATION_SECRET_METER_ERRORS",
        "STRIPE_WEBHOOK_SECRET_ORDERS",
    ]
    again = run([*state, "plan", example, "--detailed-exitcode"], tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.strip() == "No changes."

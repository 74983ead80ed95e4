"""README's Python API example runs as written against the emulator, and ``import reconciler``
stays light (the CLI's ``--help`` imports it)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docs_helpers import ROOT, between, fenced_blocks, readme

import reconciler
from reconciler.emulator.server import EmulatorServer

KEY = "sk_test_" + "p" * 16


def example() -> str:
    (block,) = fenced_blocks(
        between(readme(), "<!-- python-api:start -->", "<!-- python-api:end -->"), "python"
    )
    return block


def test_the_readme_example_runs_then_converges(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "examples" / "basic", tmp_path / "examples" / "basic")
    monkeypatch.chdir(tmp_path)
    for name in ("STRIPE_ACCOUNT", "STRIPE_RECONCILER_TIMEOUT", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", emulator.base_url)
    code = compile(example(), "README.md (Python API)", "exec")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    printed = out.getvalue()
    assert "Plan: 5 to create, 1 to update" in printed
    assert printed.rstrip().endswith("in sync\n['billing-alerts', 'orders']")
    assert (tmp_path / "webhook.secrets.env").stat().st_mode & 0o777 == 0o600
    # run again: nothing to apply, still in sync
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    assert out.getvalue().startswith("No changes.")


def test_the_api_refuses_what_the_cli_refuses(emulator: EmulatorServer, tmp_path: Path) -> None:
    """The live-mode guard and a pinned account live below the API, not in the CLI."""
    manifest = tmp_path / "stripe.yaml"
    manifest.write_text("version: 1\naccount: {mode: live}\n")
    account = reconciler.Account(api_key=KEY, api_base=emulator.base_url)
    desired = reconciler.load([manifest])
    with pytest.raises(reconciler.ReconcilerError, match=r"declare account\.mode: live"):
        account.plan(desired)
    manifest.write_text("version: 1\naccount: {id: acct_1Other}\n")
    with pytest.raises(reconciler.ReconcilerError, match=r"pin account\.id acct_1Other"):
        account.drift(reconciler.load([manifest]))


def test_the_key_stays_out_of_reprs() -> None:
    account = reconciler.Account(api_key=KEY)
    assert KEY not in repr(account)
    assert KEY not in repr(account.config())


def test_every_public_name_resolves() -> None:
    for name in reconciler.__all__:
        assert getattr(reconciler, name) is not None, name


def test_import_reconciler_loads_no_http_or_models() -> None:
    probe = (
        "import sys, reconciler; "
        "print(sorted(m for m in ('httpx', 'pydantic', 'reconciler.api') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert result.stdout.strip() == "[]", result.stderr

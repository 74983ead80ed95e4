"""Leak scan: fail any test whose output carries an API key or a webhook signing secret.

``tests/conftest.py`` enables :func:`leak_scan` for every test (autouse). Per test it watches

* log records: a handler on the root logger sees every record any logger lets through;
* CLI output: the result of every ``click.testing.CliRunner.invoke`` and the ``communicate()``
  output of every ``python -m reconciler`` / ``stripe-reconciler`` subprocess;
* pytest's captured stdout, stderr and log of the setup and call phases;
* files under the test's ``tmp_path`` (when it has one), at teardown.

Streams leak when they hold anything shaped like a secret or restricted key (``sk_``/``rk_`` +
``test_``/``live_`` + 8 or more token characters) or a signing secret (``whsec_`` + 8 or more),
except GitHub's ``::add-mask::`` workflow command, whose whole purpose is to hand the runner the
secret so it can mask it. Files are judged by *values* instead of shapes, because tests write
their own inputs (a manifest with a fake ``whsec_`` to prove it is refused is not a leak): a file
leaks when it holds an API key the test used (``STRIPE_API_KEY``, ``--api-key``, any
:class:`StripeConfig`) or a signing secret minted by the in-process emulator or handed to a sink
during the test — unless the file is a secret sink (a ``FileSink`` target, a file named in a
``--secrets-command``) or the emulator's own state file, which must keep secrets so an
idempotent replay can return them.

Failure messages show only the first characters of a found value, so the report cannot leak.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

KEY_SHAPE = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{8,}")
SECRET_SHAPE = re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}")
MASK_COMMAND = "::add-mask::"
_MAX_FILE_BYTES = 8 * 1024 * 1024


def preview(value: str) -> str:
    """Enough of a value to recognise its kind, never enough to use it."""
    return value[:9] + "…"


def without_masks(text: str) -> str:
    """``text`` minus GitHub's ``::add-mask::`` lines (the one sanctioned way to print one)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(MASK_COMMAND))


@dataclass
class LeakScan:
    """What one test produced and which sensitive values it used; see the module docstring."""

    keys: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)
    sink_files: set[Path] = field(default_factory=set)
    sink_commands: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def scan_stream(self, where: str, text: str | bytes | None) -> None:
        if not text:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        kept = without_masks(text)
        found = set(KEY_SHAPE.findall(kept) + SECRET_SHAPE.findall(kept))
        found |= {value for value in self.keys | self.secrets if value and value in kept}
        if found:
            listed = ", ".join(sorted(preview(v) for v in found))
            self.findings.append(f"{where}: {listed}")

    def is_sink(self, path: Path) -> bool:
        resolved = Path(os.path.realpath(path))
        if resolved in self.sink_files:
            return True
        return any(
            str(path) in command or str(resolved) in command for command in self.sink_commands
        )

    def scan_files(self, root: Path) -> None:
        values = {v for v in self.keys | self.secrets if v}
        if not values or not root.is_dir():
            return
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            if path.stat().st_size > _MAX_FILE_BYTES:
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            found = {v for v in values if v in text}
            if not found:
                continue
            keys = found & self.keys
            if self.is_sink(path):
                found = keys  # a sink may hold signing secrets, never an API key
            if found:
                listed = ", ".join(sorted(preview(v) for v in found))
                self.findings.append(f"file {path.relative_to(root)}: {listed}")

    def note_environment(self, env: Any) -> None:
        if isinstance(env, dict):
            key = env.get("STRIPE_API_KEY")
            if isinstance(key, str) and key:
                self.keys.add(key)

    def note_arguments(self, args: Any) -> None:
        if isinstance(args, list | tuple):
            for flag, value in itertools.pairwise(args):
                if not isinstance(value, str):
                    continue
                if flag == "--api-key":
                    self.keys.add(value)
                elif flag == "--secrets-file":
                    self.sink_files.add(Path(os.path.realpath(value)))
                elif flag == "--secrets-command":
                    self.sink_commands.append(value)


class _RecordCollector(logging.Handler):
    def __init__(self, scan: LeakScan) -> None:
        super().__init__(level=logging.NOTSET)
        self.scan = scan

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # the emitter's bug; its raw text still counts
            message = str(record.msg)
        if record.exc_text:
            message += "\n" + record.exc_text
        self.scan.scan_stream(f"log record from {record.name}", message)


def _is_our_cli(args: Any) -> bool:
    """``python -m reconciler …`` or ``stripe-reconciler …`` (not a user's secrets command)."""
    if not isinstance(args, list | tuple) or not args:
        return False
    words = [str(a) for a in args]
    return words[0].endswith("stripe-reconciler") or any(
        a == "-m" and b == "reconciler" for a, b in itertools.pairwise(words)
    )


def _install(mp: pytest.MonkeyPatch, scan: LeakScan) -> None:
    original_invoke = CliRunner.invoke

    def invoke(self: CliRunner, cli: Any, args: Any = None, *a: Any, **kw: Any) -> Result:
        scan.note_environment({**(self.env or {}), **(kw.get("env") or {})})
        scan.note_arguments(list(args) if isinstance(args, list | tuple) else args)
        result = original_invoke(self, cli, args, *a, **kw)
        shown = " ".join(map(str, args or []))[:60] if isinstance(args, list | tuple) else ""
        scan.scan_stream(f"CLI output of `{shown}`", result.output)
        return result

    mp.setattr(CliRunner, "invoke", invoke)

    original_init = subprocess.Popen.__init__
    original_communicate = subprocess.Popen.communicate

    def popen_init(self: subprocess.Popen[Any], args: Any, *a: Any, **kw: Any) -> None:
        if _is_our_cli(args):
            scan.note_environment(kw.get("env"))
            scan.note_arguments(args)
        original_init(self, args, *a, **kw)

    def communicate(self: subprocess.Popen[Any], *a: Any, **kw: Any) -> Any:
        out, err = original_communicate(self, *a, **kw)
        if _is_our_cli(self.args):
            scan.scan_stream("stdout of a CLI subprocess", out)
            scan.scan_stream("stderr of a CLI subprocess", err)
        return out, err

    mp.setattr(subprocess.Popen, "__init__", popen_init)
    mp.setattr(subprocess.Popen, "communicate", communicate)

    from reconciler.apply import secrets as sinks_module
    from reconciler.stripe.config import StripeConfig

    original_post_init = StripeConfig.__post_init__

    def post_init(self: StripeConfig) -> None:
        scan.keys.add(self.api_key)
        original_post_init(self)

    mp.setattr(StripeConfig, "__post_init__", post_init)

    original_file_sink = sinks_module.FileSink.__init__

    def file_sink_init(self: Any, path: Any, *a: Any, **kw: Any) -> None:
        original_file_sink(self, path, *a, **kw)
        scan.sink_files.add(Path(os.path.realpath(os.fspath(path))))

    mp.setattr(sinks_module.FileSink, "__init__", file_sink_init)

    original_command_sink = sinks_module.CommandSink.__init__

    def command_sink_init(self: Any, command: str, *a: Any, **kw: Any) -> None:
        original_command_sink(self, command, *a, **kw)
        scan.sink_commands.append(command)

    mp.setattr(sinks_module.CommandSink, "__init__", command_sink_init)

    original_deliver = sinks_module.SecretSinks.deliver

    def deliver(self: Any, secret: Any) -> None:
        scan.secrets.add(secret.secret)
        original_deliver(self, secret)

    mp.setattr(sinks_module.SecretSinks, "deliver", deliver)
    _watch_emulator(mp, scan)


def _watch_emulator(mp: pytest.MonkeyPatch, scan: LeakScan) -> None:
    """Record secrets the in-process emulator mints and the state files it writes."""
    from reconciler.emulator import app as emulator_app
    from reconciler.emulator.resources import event_destinations, webhook_endpoints

    for module in (webhook_endpoints, event_destinations):  # where signing secrets are minted
        minted: Callable[..., str] | None = getattr(module, "new_id", None)
        if minted is None:
            continue

        def new_id(prefix: str, *a: Any, _original: Callable[..., str] = minted, **kw: Any) -> str:
            value = _original(prefix, *a, **kw)
            if prefix == "whsec_":
                scan.secrets.add(value)
            return value

        mp.setattr(module, "new_id", new_id)

    saver: Callable[..., None] | None = getattr(emulator_app, "save_state", None)
    if saver is not None:
        original_save = saver

        def save_state(store: Any, path: Path, *a: Any, **kw: Any) -> None:
            scan.sink_files.add(Path(os.path.realpath(path)))
            original_save(store, path, *a, **kw)

        mp.setattr(emulator_app, "save_state", save_state)


@pytest.fixture(autouse=True)
def leak_scan(request: pytest.FixtureRequest) -> Iterator[LeakScan]:
    """Watch the test's outputs; fail it at teardown if any key or secret leaked."""
    scan = LeakScan()
    tmp: Path | None = None
    if "tmp_path" in request.fixturenames:
        tmp = request.getfixturevalue("tmp_path")
    collector = _RecordCollector(scan)
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        with pytest.MonkeyPatch.context() as mp:
            _install(mp, scan)
            yield scan
    finally:
        root.removeHandler(collector)
    for when, kind, content in getattr(request.node, "_report_sections", []):
        scan.scan_stream(f"captured {kind} ({when})", content)
    if tmp is not None:
        scan.scan_files(tmp)
    if scan.findings:
        listed = "\n  ".join(dict.fromkeys(scan.findings))
        pytest.fail(f"leak scan: an API key or signing secret escaped:\n  {listed}", pytrace=False)

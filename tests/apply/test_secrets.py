"""Secret sinks: file (dotenv / JSON), command, GitHub mask."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from reconciler.apply.secrets import (
    CommandSink,
    FileSink,
    GitHubMaskSink,
    NewSecret,
    SecretSinks,
    github_actions,
    secret_variable,
)
from reconciler.errors import SecretSinkError

SECRET = "whsec_" + "s" * 16


def new_secret(name: str = "orders", secret: str = SECRET) -> NewSecret:
    return NewSecret(
        name=name,
        address=f"webhook_endpoints.{name}",
        webhook_endpoint_id="we_123",
        url="https://example.com/hook",
        secret=secret,
    )


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("orders", "STRIPE_WEBHOOK_SECRET_ORDERS"),
        ("orders-eu", "STRIPE_WEBHOOK_SECRET_ORDERS_EU"),
        ("billing_v2", "STRIPE_WEBHOOK_SECRET_BILLING_V2"),
        ("a.b c", "STRIPE_WEBHOOK_SECRET_A_B_C"),
    ],
)
def test_secret_variable(name: str, variable: str) -> None:
    assert secret_variable(name) == variable


def test_secret_not_in_repr() -> None:
    assert SECRET not in repr(new_secret())


def test_dotenv_created_with_0600(tmp_path: Path) -> None:
    path = tmp_path / ".env.stripe"
    sink = FileSink(path)
    sink.check()
    sink.deliver(new_secret())
    assert path.read_text() == f"STRIPE_WEBHOOK_SECRET_ORDERS={SECRET}\n"
    assert mode_of(path) == 0o600
    # no temp files or other leftovers, the lock file included
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env.stripe"]


def test_dotenv_merge_keeps_everything_and_replaces_in_place(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text(
        "# keep me\n"
        "OTHER=1\n"
        "\n"
        "export STRIPE_WEBHOOK_SECRET_ORDERS='old value' # inline\n"
        'QUOTED="a # not a comment"\n'
        "STRIPE_WEBHOOK_SECRET_ORDERS=shadow\n"
    )
    sink = FileSink(path)
    sink.deliver(new_secret())
    sink.deliver(new_secret("billing", "whsec_" + "b" * 16))
    assert path.read_text() == (
        "# keep me\n"
        "OTHER=1\n"
        "\n"
        f"export STRIPE_WEBHOOK_SECRET_ORDERS={SECRET}\n"
        'QUOTED="a # not a comment"\n'
        f"STRIPE_WEBHOOK_SECRET_BILLING=whsec_{'b' * 16}\n"
    )
    assert sink.read() == {
        "OTHER": "1",
        "STRIPE_WEBHOOK_SECRET_ORDERS": SECRET,
        "QUOTED": "a # not a comment",
        "STRIPE_WEBHOOK_SECRET_BILLING": "whsec_" + "b" * 16,
    }


def test_dotenv_quotes_values_that_need_it(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "s.env")
    odd = 'a b"c\\d'
    sink.deliver(new_secret(secret=odd))
    assert (tmp_path / "s.env").read_text() == 'STRIPE_WEBHOOK_SECRET_ORDERS="a b\\"c\\\\d"\n'
    assert sink.read() == {"STRIPE_WEBHOOK_SECRET_ORDERS": odd}


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("OK=1\nthis is not dotenv\n", 2),
        ("1BAD=x\n", 1),
        ('A=1\nB="unterminated\n', 2),
        ("A='x' trailing\n", 1),
    ],
)
def test_corrupt_dotenv_is_a_clear_error_without_content(
    tmp_path: Path, content: str, line: int
) -> None:
    path = tmp_path / "s.env"
    path.write_text(content)
    sink = FileSink(path)
    with pytest.raises(SecretSinkError) as caught:
        sink.check()
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert "unterminated" not in str(caught.value).split(": ", 1)[0]
    with pytest.raises(SecretSinkError):
        sink.deliver(new_secret())
    assert path.read_text() == content  # untouched


def test_json_sink_merges(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"KEEP": "x", "STRIPE_WEBHOOK_SECRET_ORDERS": "old"}))
    sink = FileSink(path)
    sink.check()
    sink.deliver(new_secret())
    assert json.loads(path.read_text()) == {"KEEP": "x", "STRIPE_WEBHOOK_SECRET_ORDERS": SECRET}
    assert mode_of(path) == 0o600
    assert sink.read() == {"KEEP": "x", "STRIPE_WEBHOOK_SECRET_ORDERS": SECRET}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", ":1:2: not valid JSON"),
        ("[1, 2]", ": expected a JSON object"),
    ],
)
def test_json_sink_rejects_corrupt_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(SecretSinkError, match="^" + str(path) + message):
        FileSink(path).check()


def test_readable_file_is_fixed_to_0600_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.env"
    path.write_text("A=1\n")
    path.chmod(0o644)
    sink = FileSink(path)
    with caplog.at_level(logging.WARNING):
        sink.check()
    assert "has mode 0644 (readable by others)" in caplog.text
    sink.deliver(new_secret())
    assert mode_of(path) == 0o600
    assert SECRET not in caplog.text


def test_symlink_is_followed_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "real.env"
    target.write_text("A=1\n")
    link = tmp_path / "link.env"
    link.symlink_to(target)
    FileSink(link).deliver(new_secret())
    assert link.is_symlink()
    assert target.read_text() == f"A=1\nSTRIPE_WEBHOOK_SECRET_ORDERS={SECRET}\n"


def test_missing_directory_fails_the_check(tmp_path: Path) -> None:
    with pytest.raises(SecretSinkError, match="does not exist; create it first"):
        FileSink(tmp_path / "nope" / "s.env").check()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.env"
    names = [f"n{i}" for i in range(24)]

    def write(name: str) -> None:
        FileSink(path).deliver(new_secret(name, f"whsec_{name}"))

    threads = [threading.Thread(target=write, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert FileSink(path).read() == {secret_variable(n): f"whsec_{n}" for n in names}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.env"]  # the lock is gone too


def _deliver_many(path: str, prefix: str, count: int) -> None:
    for i in range(count):
        FileSink(path).deliver(new_secret(f"{prefix}{i}", f"whsec_{prefix}{i}"))


def test_concurrent_processes_lose_nothing_and_leave_no_lock(tmp_path: Path) -> None:
    """flock serialises processes; the lock file is removed by whoever holds it last, and a
    writer that waited on a removed lock file locks the new one instead (else two writers
    would each hold a lock on a different file and one entry would be lost)."""
    path = tmp_path / "s.env"
    context = multiprocessing.get_context("spawn")  # fork with threads is deprecated
    workers = [
        context.Process(target=_deliver_many, args=(str(path), f"p{w}x", 12)) for w in range(6)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * 6
    names = [f"p{w}x{i}" for w in range(6) for i in range(12)]
    expected = {secret_variable(name): f"whsec_{name}" for name in names}
    assert FileSink(path).read() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.env"]


def test_command_sink_receives_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "received.json"
    sink = CommandSink(f"cat > {out}")
    sink.check()
    sink.deliver(new_secret())
    assert json.loads(out.read_text()) == {
        "name": "orders",
        "address": "webhook_endpoints.orders",
        "webhook_endpoint_id": "we_123",
        "url": "https://example.com/hook",
        "secret": SECRET,
    }


def test_command_failure_never_shows_the_secret() -> None:
    sink = CommandSink("cat >&2; echo >&2; echo vault is sealed >&2; exit 3")
    with pytest.raises(SecretSinkError) as caught:
        sink.deliver(new_secret())
    message = str(caught.value)
    assert SECRET not in message
    assert message.startswith(
        "--secrets-command exited with status 3 for webhook_endpoints.orders (we_123): "
    )
    redacted_payload = json.dumps(
        {
            "name": "orders",
            "address": "webhook_endpoints.orders",
            "webhook_endpoint_id": "we_123",
            "url": "https://example.com/hook",
            "secret": "[redacted]",
        }
    )
    assert message.endswith(f": {redacted_payload}\nvault is sealed")


def test_command_timeout() -> None:
    sink = CommandSink(f"{sys.executable} -c 'import time; time.sleep(5)'", timeout=0.2)
    with pytest.raises(SecretSinkError, match=r"did not finish within 0\.2s"):
        sink.deliver(new_secret())


def test_empty_command_fails_the_check() -> None:
    with pytest.raises(SecretSinkError, match="--secrets-command is empty"):
        CommandSink("  ").check()


def test_mask_goes_first_and_only_in_mask_form(tmp_path: Path) -> None:
    printed: list[str] = []
    path = tmp_path / "s.env"

    class Spy:
        def describe(self) -> str:
            return "spy"

        def check(self) -> None:
            return None

        def deliver(self, secret: NewSecret) -> None:
            printed.append("spy saw it")

    sinks = SecretSinks([FileSink(path), Spy(), GitHubMaskSink(printed.append)])
    sinks.deliver(new_secret())
    assert printed == [f"::add-mask::{SECRET}", "spy saw it"]
    assert sinks.stores_secrets
    assert sinks.describe() == f"file {path}, spy"
    assert not SecretSinks([GitHubMaskSink(printed.append)]).stores_secrets


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({"GITHUB_ACTIONS": "true"}, True), ({"GITHUB_ACTIONS": "false"}, False), ({}, False)],
)
def test_github_actions_detection(environ: dict[str, str], expected: bool) -> None:
    assert github_actions(environ) is expected


def test_write_failure_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.env"
    path.write_text("A=1\n")

    def refuse(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SecretSinkError, match=f"^cannot write {path}: No space left on device$"):
        FileSink(path).deliver(new_secret())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.env"]
    assert path.read_text() == "A=1\n"


def test_command_does_not_inherit_the_stripe_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_" + "k" * 16)
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com")
    out = tmp_path / "env.txt"
    CommandSink(f"env > {out}").deliver(new_secret())
    environment = out.read_text()
    assert "VAULT_ADDR=https://vault.example.com" in environment
    assert "STRIPE_API_KEY" not in environment


def test_a_write_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    """A SIGKILL between the temporary file and its rename leaves a file full of secrets next
    to the sink (the crash suite's leak scan found one); the next write removes it, and a
    file of another name that merely starts alike stays."""
    path = tmp_path / "s.env"
    path.write_text("A=1\n")
    stale = tmp_path / ".s.env.tmp-k1ll3d"
    stale.write_text(f"STRIPE_WEBHOOK_SECRET_OLD={SECRET}\n")
    unrelated = tmp_path / ".s.env.bak"
    unrelated.write_text("B=2\n")
    FileSink(path).deliver(new_secret())
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.env.bak", "s.env"]


def test_a_fleet_account_names_its_secrets_in_the_file_and_the_command(tmp_path: Path) -> None:
    received = tmp_path / "received.jsonl"
    path = tmp_path / "fleet.env"
    sinks = SecretSinks([FileSink(path), CommandSink(f"cat >> {received}; echo >> {received}")])
    sinks.for_account("acct_1A").deliver(new_secret(secret=SECRET))
    other = "whsec_" + "t" * 16
    sinks.for_account("acct_2B").deliver(new_secret(secret=other))
    assert FileSink(path).read() == {
        "STRIPE_WEBHOOK_SECRET_ACCT_1A_ORDERS": SECRET,
        "STRIPE_WEBHOOK_SECRET_ACCT_2B_ORDERS": other,
    }
    payloads = [json.loads(line) for line in received.read_text().splitlines() if line]
    assert [(p["stripe_account"], p["secret"]) for p in payloads] == [
        ("acct_1A", SECRET),
        ("acct_2B", other),
    ]


def test_the_accounts_of_a_fleet_deliver_one_at_a_time() -> None:
    sinks = SecretSinks([])
    assert sinks.for_account("acct_1")._one_at_a_time is sinks._one_at_a_time

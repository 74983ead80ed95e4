"""The leak scan itself can fail: each tap finds a planted key or secret, sinks are exempt."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from leakscan import LeakScan, _install, _is_our_cli, _RecordCollector

KEY = "sk_test_" + "L" * 16
SECRET = "whsec_" + "S" * 24


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"Error: bad key {KEY}", True),
        ("rk_live_" + "r" * 12, True),
        (f"stored {SECRET}", True),
        ("sk_test_*** and whsec_*** are redacted", False),
        ("expected a key starting with sk_test_, sk_live_, rk_test_ or rk_live_", False),
        (f"::add-mask::{SECRET}\nplan: 1 to create", False),
        (f"echo ::add-mask::{SECRET}", True),  # only a workflow command at line start masks
    ],
    ids=["key", "restricted", "secret", "redacted", "prose", "mask", "echoed-mask"],
)
def test_stream_shapes(text: str, found: bool) -> None:
    scan = LeakScan()
    scan.scan_stream("stdout", text)
    assert bool(scan.findings) is found
    assert all(KEY not in f and SECRET not in f for f in scan.findings)


def test_known_values_are_found_even_without_the_usual_shape() -> None:
    scan = LeakScan(keys={"sk_test_" + "k" * 4})  # too short for the shape, known by value
    scan.scan_stream("stderr", b"the key was sk_test_kkkk")
    assert scan.findings == ["stderr: sk_test_k…"]


def test_files_outside_sinks_leak_and_sinks_may_hold_only_secrets(tmp_path: Path) -> None:
    sink, log, stray, keyed = (tmp_path / n for n in ("s.env", "log.jsonl", "out.txt", "k.env"))
    sink.write_text(f"STRIPE_WEBHOOK_SECRET_ORDERS={SECRET}\n")
    log.write_text(f'{{"secret": "{SECRET}"}}\n')
    stray.write_text(f"debug: {SECRET}\n")
    keyed.write_text(f"KEY={KEY}\n")
    scan = LeakScan(keys={KEY}, secrets={SECRET})
    scan.sink_files.update({sink.resolve(), keyed.resolve()})
    scan.sink_commands.append(f"cat >> {log}")
    scan.scan_files(tmp_path)
    assert scan.findings == ["file k.env: sk_test_L…", "file out.txt: whsec_SSS…"]


def test_cli_arguments_name_keys_and_sinks(tmp_path: Path) -> None:
    scan = LeakScan()
    sink = str(tmp_path / "a.env")
    scan.note_arguments(
        ["--api-key", KEY, "apply", "--secrets-file", sink, "--secrets-command", "cat > x"]
    )
    scan.note_environment({"STRIPE_API_KEY": "rk_test_" + "e" * 10})
    assert scan.keys == {KEY, "rk_test_" + "e" * 10}
    assert scan.sink_files == {(tmp_path / "a.env").resolve()}
    assert scan.sink_commands == ["cat > x"]


def test_taps_see_cli_output_subprocess_output_and_log_records(leak_scan: LeakScan) -> None:
    @click.command()
    def noisy() -> None:
        click.echo(f"secret: {SECRET}")

    scan = LeakScan()
    collector = _RecordCollector(scan)
    # not propagated: pytest's own log capture (scanned by this test's real leak scan) never
    # sees the planted key
    planted = logging.getLogger("leakscan.selftest")
    planted.propagate = False
    planted.addHandler(collector)
    try:
        with pytest.MonkeyPatch.context() as mp:
            _install(mp, scan)
            CliRunner().invoke(noisy, [], env={"STRIPE_API_KEY": KEY})
            process = subprocess.Popen(
                # looks like our CLI to the tap (`-m reconciler` in its arguments)
                [sys.executable, "-c", f"print('{KEY}')", "-m", "reconciler"],
                stdout=subprocess.PIPE,
                text=True,
            )
            process.communicate(timeout=30)
            planted.warning("oops %s", KEY)
    finally:
        planted.removeHandler(collector)
    # this test plants leaks on purpose: the nested taps also reported them to the real scan
    assert leak_scan.findings
    leak_scan.findings.clear()
    assert [f.split(":")[0] for f in scan.findings] == [
        "CLI output of ``",
        "stdout of a CLI subprocess",
        "log record from leakscan.selftest",
    ]
    assert KEY in scan.keys


@pytest.mark.parametrize(
    ("args", "ours"),
    [
        (["/venv/bin/python", "-m", "reconciler", "apply"], True),
        (["/venv/bin/stripe-reconciler", "plan"], True),
        ("cat >> /tmp/test_reconciler0/log.jsonl", False),  # a secrets command: its own business
        (["sh", "-c", "echo reconciler"], False),
        ([], False),
    ],
)
def test_only_our_cli_subprocesses_are_tapped(args: object, ours: bool) -> None:
    assert _is_our_cli(args) is ours


def test_an_event_destinations_signing_secret_is_known_to_the_scan(leak_scan: LeakScan) -> None:
    """The v2 signing secret the emulator mints is a value the scan looks for in files, and
    has the shape it looks for in streams."""
    import json

    import httpx

    from reconciler.emulator.server import EmulatorServer

    params = {
        "name": "meters",
        "type": "webhook_endpoint",
        "event_payload": "thin",
        "enabled_events": ["v1.billing.meter.no_meter_found"],
        "webhook_endpoint": {"url": "https://example.com/thin"},
        "include": ["webhook_endpoint.signing_secret"],
    }
    with EmulatorServer() as emulator, httpx.Client(base_url=emulator.base_url) as http:
        answer = http.post(
            "/v2/core/event_destinations",
            content=json.dumps(params),
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        )
    secret = answer.json()["webhook_endpoint"]["signing_secret"]
    assert secret in leak_scan.secrets
    scan = LeakScan()
    scan.scan_stream("a test's output", f"log: {secret}")
    assert scan.findings

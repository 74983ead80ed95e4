"""Security checks through the real CLI: TLS verification, plain http refused off loopback, the
live-mode guard both ways, 0600 secret files, and tampered plan files refused before any write."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer
from reconciler.plan.model import sha256_of

TEST_KEY = "sk_test_" + "s" * 16
LIVE_KEY = "sk_live_" + "s" * 16
RESTRICTED_LIVE_KEY = "rk_live_" + "s" * 16

MANIFEST = """\
version: 1
account: {mode: MODE}
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid]
"""


def cli_run(*args: str, key: str = TEST_KEY, base: str | None = None) -> Any:
    env = {"STRIPE_API_KEY": key, "NO_COLOR": "1", "GITHUB_ACTIONS": None}
    if base is not None:
        env["STRIPE_API_BASE"] = base
    return CliRunner().invoke(cli, list(args), env=env)


def manifest(tmp_path: Path, mode: str = "test") -> Path:
    path = tmp_path / "stripe.yaml"
    path.write_text(MANIFEST.replace("MODE", mode))
    return path


def v1_requests(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].startswith("/v1/")]


def writes(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in v1_requests(emulator) if r["method"] in ("POST", "DELETE")]


# -- TLS ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A localhost certificate from a throwaway CA the client has never heard of."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    issued = trustme.CA().issue_cert("localhost")
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return cert, key


@pytest.fixture
def tls_server(self_signed: tuple[Path, Path]) -> Iterator[tuple[int, list[str]]]:
    """A TLS server with a self-signed certificate; records each handshake's outcome."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    outcomes: list[str] = []

    def serve() -> None:
        try:
            while True:
                conn, _ = listener.accept()
                try:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.settimeout(2)
                        outcomes.append("handshake")
                        outcomes.append("received" if tls.recv(1) else "closed")
                except (ssl.SSLError, OSError):
                    outcomes.append("refused")
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], outcomes
    listener.close()
    thread.join(timeout=5)


def test_tls_certificates_are_verified_so_the_key_never_reaches_an_impostor(
    tmp_path: Path, tls_server: tuple[int, list[str]]
) -> None:
    port, outcomes = tls_server
    run = cli_run("plan", str(manifest(tmp_path)), base=f"https://localhost:{port}")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: Could not complete GET /v")  # whichever read failed first
    assert "CERTIFICATE_VERIFY_FAILED" in run.stderr or "certificate verify failed" in run.stderr
    # every connection was refused during the handshake: no request (no key) was ever sent
    assert outcomes and set(outcomes) == {"refused"}


# -- plain http -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "base",
    [
        "http://api.stripe.com",
        "http://10.0.0.7:12111",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://[2001:db8::1]",
    ],
)
def test_plain_http_is_refused_off_loopback(tmp_path: Path, base: str) -> None:
    run = cli_run("plan", str(manifest(tmp_path)), base=base)
    assert run.exit_code == 1
    assert run.stderr.startswith(f"Error: Refusing plain-http API base {base!r}")
    assert TEST_KEY not in run.output


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_plain_http_is_allowed_on_loopback(
    emulator: EmulatorServer, tmp_path: Path, host: str
) -> None:
    run = cli_run("plan", str(manifest(tmp_path)), base=f"http://{host}:{emulator.port}")
    assert run.exit_code == 0, run.output


# -- live-mode guard ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "mode", "message"),
    [
        (LIVE_KEY, "test", "Refusing to use a live-mode key with manifests that declare"),
        (RESTRICTED_LIVE_KEY, "test", "Refusing to use a live-mode key with manifests that"),
        (TEST_KEY, "live", "The manifests declare account.mode: live but the key is a test-mode"),
    ],
    ids=["sk_live-test", "rk_live-test", "sk_test-live"],
)
@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_live_mode_guard_refuses_before_any_request(
    emulator: EmulatorServer, tmp_path: Path, key: str, mode: str, message: str, command: str
) -> None:
    extra = (
        ["--auto-approve", "--secrets-file", str(tmp_path / "s.env")] if command == "apply" else []
    )
    run = cli_run(command, str(manifest(tmp_path, mode)), *extra, key=key, base=emulator.base_url)
    assert run.exit_code == 1
    assert run.stderr.startswith(f"Error: {message}")
    assert key not in run.output
    assert v1_requests(emulator) == []


def test_a_saved_test_mode_plan_is_refused_with_a_live_key(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    made = cli_run("plan", str(manifest(tmp_path)), "--out", str(plan_file), base=emulator.base_url)
    assert made.exit_code == 0, made.output
    run = cli_run("apply", "--plan", str(plan_file), key=LIVE_KEY, base=emulator.base_url)
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: Refusing to use a live-mode key")
    assert writes(emulator) == []


# -- secret files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["secrets.env", "secrets.json"])
def test_secret_files_are_0600_whatever_the_umask_or_old_mode(
    emulator: EmulatorServer, tmp_path: Path, name: str
) -> None:
    sink = tmp_path / name
    sink.write_text("{}\n" if name.endswith(".json") else "OTHER=1\n")
    sink.chmod(0o644)
    previous = os.umask(0)
    try:
        run = cli_run(
            "apply",
            str(manifest(tmp_path)),
            "--auto-approve",
            "--secrets-file",
            str(sink),
            base=emulator.base_url,
        )
    finally:
        os.umask(previous)
    assert run.exit_code == 0, run.output
    assert stat.S_IMODE(sink.stat().st_mode) == 0o600
    text = sink.read_text()
    assert "STRIPE_WEBHOOK_SECRET_ORDERS" in text and "whsec_" in text
    leftovers = {p.name for p in tmp_path.iterdir()} - {name, "stripe.yaml"}
    assert leftovers == set()  # no temporary or lock file left behind, readable or not


# -- tampered plan files --------------------------------------------------------------------------
def _saved(emulator: EmulatorServer, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    plan_file = tmp_path / "plan.json"
    made = cli_run("plan", str(manifest(tmp_path)), "--out", str(plan_file), base=emulator.base_url)
    assert made.exit_code == 0, made.output
    return plan_file, json.loads(plan_file.read_text())


def _reseal(data: dict[str, Any]) -> dict[str, Any]:
    """What an attacker who knows the algorithm would do: recompute the outer checksum."""
    body = {k: v for k, v in data.items() if k != "checksum"}
    return {**body, "checksum": sha256_of(body)}


def _redirect(data: dict[str, Any]) -> None:
    data["desired"]["webhook_endpoints"]["orders"]["url"] = "https://attacker.example/steal"


def _redirect_action(data: dict[str, Any]) -> None:
    for action in data["plan"]["actions"]:
        for request in action.get("requests", []):
            if "url" in request.get("params", {}):
                request["params"]["url"] = "https://attacker.example/steal"


@pytest.mark.parametrize(
    ("tamper", "reseal", "message"),
    [
        (_redirect, False, "Error: plan file checksum does not match its content"),
        (_redirect_action, False, "Error: plan file checksum does not match its content"),
        (_redirect_action, True, "Error: plan file actions do not match their checksum"),
        (_redirect, True, "Error: the saved plan is stale"),
    ],
    ids=["desired", "action", "action-resealed", "desired-resealed"],
)
def test_tampered_plan_files_are_refused_before_any_write(
    emulator: EmulatorServer, tmp_path: Path, tamper: Any, reseal: bool, message: str
) -> None:
    plan_file, data = _saved(emulator, tmp_path)
    tamper(data)
    plan_file.write_text(json.dumps(_reseal(data) if reseal else data))
    run = cli_run(
        "apply",
        "--plan",
        str(plan_file),
        "--secrets-file",
        str(tmp_path / "s.env"),
        base=emulator.base_url,
    )
    assert run.exit_code == 1
    assert run.stderr.startswith(message), run.stderr
    assert writes(emulator) == []
    assert "attacker" not in json.dumps([r["query"] for r in v1_requests(emulator)])

"""Any option value gives a clean result: exit 0, or exit 1 with ``Error:`` (or click's usage text),
never a Python traceback.

Each command runs in-process (click's runner) against an empty account served by an
``httpx.MockTransport``, so a valid value does its work without a network and an invalid one
must be refused by the tool. ``emulator`` gets a stand-in for the server, so a valid port
returns at once instead of serving. Regressions: ``emulator --port 99999`` and
``--api-base http://127.0.0.1:99999`` raised OverflowError, a non-ASCII ``--stripe-account``
a UnicodeEncodeError while building the header.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import api
from reconciler.cli import emulator as cli_emulator
from reconciler.cli.main import cli
from reconciler.fleet import session as fleet_session
from reconciler.stripe import StripeClient

KEY = "sk_test_" + "o" * 16
EMPTY = {"object": "list", "data": [], "has_more": False}
BODIES: dict[str, Any] = {
    "/v1/webhook_endpoints": {**EMPTY, "url": "/v1/webhook_endpoints"},
    "/v1/tax/registrations": {**EMPTY, "url": "/v1/tax/registrations"},
    "/v2/core/event_destinations": {"data": [], "next_page_url": None},
    "/v1/tax/settings": {
        "object": "tax.settings",
        "defaults": {"tax_behavior": None, "tax_code": None},
        "head_office": None,
        "status": "pending",
        "status_details": {"pending": {"missing_fields": ["head_office"]}},
        "livemode": False,
    },
    "/v1/account": {"id": "acct_1", "object": "account"},
}


def _socket_port(port: int | None) -> None:
    """What a real socket says to a port it cannot use (the stand-ins must not be kinder)."""
    if port is not None and not 0 <= port <= 65535:
        raise OverflowError("port must be 0-65535.")


def _handle(request: httpx.Request) -> httpx.Response:
    _socket_port(request.url.port)
    body = BODIES.get(request.url.path)
    if request.method != "GET" or body is None:
        return httpx.Response(404, json={"error": {"type": "invalid_request_error"}})
    return httpx.Response(200, json=body, headers={"Request-Id": "req_fuzz"})


async def _no_sleep(seconds: float) -> None:
    return None


class _OfflineClient(StripeClient):
    def __init__(self, config: Any, transport: Any = None, **kw: Any) -> None:
        super().__init__(config, httpx.MockTransport(_handle), sleep=_no_sleep)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "stripe.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fleet_file(manifest: Path) -> Path:
    path = manifest.with_name("fleet.yaml")
    path.write_text(
        f"version: 1\nmanifests: [{manifest.name}]\naccounts: [{{stripe_account: acct_1}}]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def offline() -> Iterator[list[tuple[str, int]]]:
    """Every command offline; ``emulator`` records (host, port) instead of serving."""
    served: list[tuple[str, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        # every command reaches Stripe through the API's Connection.client
        patch.setattr(api, "StripeClient", _OfflineClient)
        patch.setattr(fleet_session, "StripeClient", _OfflineClient)

        def serve(config: Any, host: str, port: int) -> None:
            _socket_port(port)
            served.append((host, port))

        patch.setattr(cli_emulator, "_serve", serve)
        yield served


def _invoke(args: list[str]) -> Result:
    env = {
        "STRIPE_API_KEY": KEY,
        "NO_COLOR": "1",
        "GITHUB_ACTIONS": None,
        "STRIPE_API_BASE": None,
        "STRIPE_ACCOUNT": None,
        "STRIPE_RECONCILER_ALERT_URL": None,
        "STRIPE_RECONCILER_EMULATOR_STATE": None,
    }
    return CliRunner().invoke(cli, args, env=env)


def _assert_clean(result: Result, args: list[str]) -> None:
    shown = f"{args!r}: {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args!r} raised {result.exception!r}"
    )
    assert "Traceback" not in result.output, shown
    assert result.exit_code in (0, 1), shown
    if result.exit_code == 1:
        assert "Error: " in result.stderr, shown
        assert len(result.stderr.strip()) > len("Error: "), shown


#: values that once broke something or sit on a boundary: every command gets each of them
BOUNDARIES = [
    "99999",
    "65535",
    "65536",
    "0",
    "-1",
    "1e9",
    "nan",
    "inf",
    "",
    " ",
    "\n",
    "\x00",
    "ü",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:0",
    "https://user:pw@api.stripe.com",
    "user:pw@api.stripe.com",
    "https://[::1",
    "http://[::1]:8080",
    "acct_ü",
    "acct_1\nX: y",
    "webhook_endpoints[",
    "tax_settings.x",
    "429=2",
    "1=nope",
]
#: then anything at all
VALUES = (
    st.text(max_size=40)
    | st.integers(min_value=-(2**70), max_value=2**70).map(str)
    | st.from_regex(r"https?://[a-z0-9.:\[\]@%-]{0,30}(/[ -~]{0,10})?", fullmatch=True)
)

#: (arguments before the value, the option, arguments after it); ``{m}`` is the manifest
COMMANDS = [
    ([], "--api-base", ["plan", "{m}"]),
    ([], "--stripe-account", ["plan", "{m}"]),
    ([], "--log-level", ["validate", "{m}"]),
    (["plan", "{m}"], "--target", []),
    (["plan", "{m}"], "--format", []),
    (["apply", "{m}", "--auto-approve"], "--parallelism", []),
    (["apply", "{m}", "--auto-approve"], "--target", []),
    (["drift", "{m}"], "--alert-url", []),
    (["drift", "{m}"], "--format", []),
    (["drift", "{m}"], "--alert-format", []),
    (["export"], "--kinds", []),
    (["validate", "{m}"], "--format", []),
    (["emulator"], "--port", []),
    (["emulator"], "--latency-ms", []),
    (["emulator"], "--jitter-ms", []),
    (["emulator"], "--seed", []),
    (["emulator"], "--rate-limit", []),
    (["emulator"], "--fault", []),
    (["emulator"], "--schedule", []),
    (["emulator"], "--path", []),
    (["plan", "--fleet", "{f}"], "--shard", []),
    (["plan", "--fleet", "{f}"], "--accounts", []),
    (["drift", "--fleet", "{f}"], "--shard", []),
    (["apply", "--fleet", "{f}", "--auto-approve"], "--accounts", []),
    (["plan"], "--fleet", []),
]


def _args(command: tuple[list[str], str, list[str]], value: str, manifest: Path) -> list[str]:
    before, option, after = command
    names = {"{m}": str(manifest), "{f}": str(manifest.with_name("fleet.yaml"))}
    return [names.get(a, a) for a in (*before, f"{option}={value}", *after)]


def test_the_offline_account_plans_applies_and_drifts(
    manifest: Path, fleet_file: Path, offline: list[tuple[str, int]]
) -> None:
    for args in (["plan"], ["apply", "--auto-approve"], ["drift"]):
        result = _invoke([*args, str(manifest)])
        assert result.exit_code == 0, result.output
        result = _invoke([*args, "--fleet", str(fleet_file)])
        assert result.exit_code == 0, result.output
    assert _invoke(["emulator", "--port", "0"]).exit_code == 0
    assert offline[-1] == ("127.0.0.1", 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["emulator", "--port", "99999"], "Invalid value for '--port': 99999 is not in the range"),
        (
            ["--api-base", "http://127.0.0.1:99999", "plan", "{m}"],
            "Invalid API base 'http://127.0.0.1:99999': the port must be from 1 to 65535.",
        ),
        (
            ["--stripe-account", "acct_ü", "plan", "{m}"],
            "Invalid connected account 'acct_ü': expected an id like acct_1A2b3C (letters and "
            "digits after acct_).",
        ),
        (["plan", "{m}", "--target", "bogus"], "unknown --target 'bogus'"),
    ],
)
def test_known_breakages_are_one_error(
    manifest: Path, offline: list[tuple[str, int]], args: list[str], message: str
) -> None:
    args = [str(manifest) if a == "{m}" else a for a in args]
    result = _invoke(args)
    _assert_clean(result, args)
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize("value", BOUNDARIES)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join((*c[0], c[1])))
def test_boundary_values_are_clean(
    manifest: Path,
    fleet_file: Path,
    offline: list[tuple[str, int]],
    command: tuple[list[str], str, list[str]],
    value: str,
) -> None:
    args = _args(command, value, manifest)
    _assert_clean(_invoke(args), args)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join((*c[0], c[1])))
@given(value=VALUES)
def test_any_option_value_is_clean(
    manifest: Path,
    fleet_file: Path,
    offline: list[tuple[str, int]],
    command: tuple[list[str], str, list[str]],
    value: str,
) -> None:
    args = _args(command, value, manifest)
    result = _invoke(args)
    _assert_clean(result, args)
    if command[0] == ["emulator"] and command[1] == "--port" and result.exit_code == 0:
        assert 0 <= offline[-1][1] <= 65535

"""Fleets end to end: the real CLI with ``--fleet`` against the emulator over a real socket.

A fleet of six: two accounts the fleet file names (one with an overlay), three connected
accounts found by listing the platform's accounts by metadata, and one connected account whose
metadata leaves it out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from apply_helpers import env_for, invoke, read_dotenv, spawn
from click.testing import CliRunner
from fleet_helpers import (
    FAST,
    NAMED,
    connect_accounts,
    last_seq,
    per_account,
    post,
    requests_since,
    write_fleet,
)
from test_drift_e2e import Receiver

from reconciler.cli import fleet as cli_fleet
from reconciler.cli.main import cli
from reconciler.emulator.auth import account_for_key_body
from reconciler.emulator.server import EmulatorServer
from reconciler.fleet.select import Shard

READS = {
    "GET /v1/webhook_endpoints",
    "GET /v1/tax/settings",
    "GET /v1/tax/registrations",
    "GET /v2/core/event_destinations",
}


def run_cli(emulator: EmulatorServer, *args: str) -> tuple[int, str, str]:
    process = spawn(emulator, *args)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.fixture
def fleet(tmp_path: Path, emulator: EmulatorServer) -> tuple[Path, list[str]]:
    """The fleet file and every account of the fleet, in id order."""
    listed = connect_accounts(emulator, 3)
    connect_accounts(emulator, 1, on=False)
    return write_fleet(tmp_path), sorted([*NAMED, *listed])


@pytest.fixture
def fast_fleet(tmp_path: Path, emulator: EmulatorServer) -> tuple[Path, list[str]]:
    """The same fleet with budgets far above Stripe's (the emulator enforces none here)."""
    listed = connect_accounts(emulator, 3)
    connect_accounts(emulator, 1, on=False)
    return write_fleet(tmp_path, extra=FAST), sorted([*NAMED, *listed])


def apply_fleet(emulator: EmulatorServer, fleet_file: Path, secrets: Path, *args: str) -> None:
    run = invoke(
        emulator,
        "apply",
        "--fleet",
        str(fleet_file),
        "--auto-approve",
        "--secrets-file",
        str(secrets),
        *args,
    )
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "Fleet: 5 accounts, 5 with changes, 0 failed."


def test_a_seeded_fleet_plans_no_changes_with_one_read_per_kind_per_account(
    emulator: EmulatorServer, fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    fleet_file, accounts = fleet
    secrets = tmp_path / "fleet.secrets.env"
    apply_fleet(emulator, fleet_file, secrets)
    start = last_seq(emulator)
    code, out, err = run_cli(emulator, "plan", "--fleet", str(fleet_file), "--detailed-exitcode")
    assert code == 0, out + err
    assert out.splitlines() == [
        f"No changes in 5 accounts: {', '.join(accounts)}.",
        "",
        "Fleet: 5 accounts, 0 with changes, 0 failed.",
    ]
    counts = per_account(requests_since(emulator, start))
    platform = account_for_key_body(KEY_BODY)
    assert counts.pop(platform) == {"GET /v1/accounts": 1}  # one page lists the platform's 4
    assert sorted(counts) == accounts
    for account, sent in counts.items():
        assert sent == dict.fromkeys(READS, 1), account  # exactly 4 requests per account
    assert all(e["status"] == 200 for e in requests_since(emulator, start))
    # each account's endpoints' secrets are stored under names that include the account
    stored = read_dotenv(secrets)
    expected = {
        f"STRIPE_WEBHOOK_SECRET_{account.upper()}_{name}"
        for account in accounts
        for name in ("ORDERS", "REFUNDS")
    } | {f"STRIPE_WEBHOOK_SECRET_{NAMED[0].upper()}_BILLING"}
    assert set(stored) == expected
    assert len(set(stored.values())) == len(expected)


KEY_BODY = "a" * 16  # apply_helpers.KEY is "sk_test_" + KEY_BODY


def test_shards_cover_the_fleet_once(
    emulator: EmulatorServer, fleet: tuple[Path, list[str]]
) -> None:
    fleet_file, accounts = fleet
    seen: list[str] = []
    for index in (1, 2, 3):
        run = invoke(
            emulator,
            "plan",
            "--fleet",
            str(fleet_file),
            "--shard",
            f"{index}/3",
            "--format",
            "json",
        )
        assert run.code == 0, run.stderr
        document = json.loads(run.stdout)
        seen.extend(entry["stripe_account"] for entry in document["accounts"])
        assert document["summary"]["accounts"] == len(document["accounts"])
    assert sorted(seen) == accounts
    narrowed = invoke(
        emulator, "plan", "--fleet", str(fleet_file), "--accounts", f"{accounts[0]},{NAMED[1]}"
    )
    assert narrowed.stdout.splitlines()[-1] == "Fleet: 2 accounts, 2 with changes, 0 failed."


def test_one_accounts_failure_does_not_stop_the_others(
    emulator: EmulatorServer, fast_fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    fleet = fast_fleet
    fleet_file, accounts = fleet
    failing = NAMED[1]
    script = tmp_path / "store.py"
    script.write_text(
        "import json, sys\n"
        f"sys.exit(3 if json.load(sys.stdin)['stripe_account'] == {failing!r} else 0)\n",
        encoding="utf-8",
    )
    run = invoke(
        emulator,
        "apply",
        "--fleet",
        str(fleet_file),
        "--auto-approve",
        "--secrets-command",
        f"{sys.executable} {script}",
    )
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert f"{failing}: failed" in lines
    for account in accounts:
        if account != failing:
            assert any(line.startswith(f"{account}: Apply complete:") for line in lines), account
    assert lines[-1] == "Fleet: 5 accounts, 5 with changes, 1 failed."
    assert run.stderr.splitlines()[-1] == (
        f"Error: 1 account of the fleet did not apply: {failing} (see above)"
    )
    again = invoke(emulator, "plan", "--fleet", str(fleet_file), "--detailed-exitcode")
    assert again.code == 2
    assert again.stdout.splitlines()[0] == f"{failing}:"
    assert again.stdout.splitlines()[-1] == "Fleet: 5 accounts, 1 with changes, 0 failed."


def test_accounts_waiting_for_each_others_secret_deliveries_do_not_run_out_of_time(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    # Deliveries take turns across the fleet (a secrets command never runs alongside itself),
    # so with 3 accounts x 2 endpoints and a 1.5 s command the last account waits about 7.5 s
    # for its turn. That time is the sinks', not Stripe's: it must not eat the --timeout of 6 s
    # (which left endpoints with delivered secrets marked pending, replaced by the next apply).
    fleet_file = write_fleet(tmp_path, extra=FAST, listed=False)
    text = fleet_file.read_text(encoding="utf-8").replace(
        "accounts:\n", "accounts:\n  - stripe_account: acct_3Named\n", 1
    )
    fleet_file.write_text(text, encoding="utf-8")
    script = tmp_path / "store.py"
    script.write_text("import sys, time\nsys.stdin.read()\ntime.sleep(1.5)\n", encoding="utf-8")
    run = invoke(
        emulator,
        "--timeout",
        "6",
        "apply",
        "--fleet",
        str(fleet_file),
        "--auto-approve",
        "--secrets-command",
        f"{sys.executable} {script}",
    )
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "Fleet: 3 accounts, 3 with changes, 0 failed."


def test_a_saved_fleet_plan_refuses_only_the_stale_accounts(
    emulator: EmulatorServer, fast_fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    fleet = fast_fleet
    fleet_file, accounts = fleet
    saved = tmp_path / "fleet.plan.json"
    run = invoke(emulator, "plan", "--fleet", str(fleet_file), "--out", str(saved))
    assert run.code == 0, run.stderr
    document = json.loads(saved.read_text())
    assert document["kind"] == "fleet"
    assert [p["account"]["stripe_account"] for p in document["accounts"]] == accounts
    assert all(len(part["checksum"]) == 64 for part in document["accounts"])
    stale = accounts[2]
    post(emulator, "/v1/tax/settings", {"defaults[tax_behavior]": "inclusive"}, account=stale)
    applied = invoke(
        emulator, "apply", "--plan", str(saved), "--secrets-file", str(tmp_path / "s.env")
    )
    assert applied.code == 1
    lines = applied.stdout.splitlines()
    assert f"{stale}: failed" in lines
    assert lines[-1] == "Fleet: 5 accounts, 4 with changes, 1 failed."
    after = invoke(emulator, "plan", "--fleet", str(fleet_file), "--format", "json")
    statuses = {e["stripe_account"]: e["status"] for e in json.loads(after.stdout)["accounts"]}
    assert statuses == {a: "changes" if a == stale else "no_changes" for a in accounts}


def test_an_edited_fleet_plan_is_refused_whole(
    emulator: EmulatorServer, fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    fleet_file, _ = fleet
    saved = tmp_path / "fleet.plan.json"
    assert invoke(emulator, "plan", "--fleet", str(fleet_file), "--out", str(saved)).code == 0
    document = json.loads(saved.read_text())
    document["accounts"].pop()
    saved.write_text(json.dumps(document))
    start = last_seq(emulator)
    run = invoke(emulator, "apply", "--plan", str(saved), "--secrets-file", str(tmp_path / "s"))
    assert run.code == 1
    assert run.stderr.strip() == (
        "Error: plan file checksum does not match its content: it was modified"
    )
    assert requests_since(emulator, start) == []


def test_a_saved_shard_applied_as_another_shard_is_refused(
    emulator: EmulatorServer, fast_fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    # A matrix job that applies the plan of shard 1 with --shard 2/N would apply nothing and
    # pass; it must say so and fail instead.
    fleet_file, accounts = fast_fleet
    count = next(
        n
        for n in range(2, 64)
        if not any(Shard(2, n).holds(a) for a in accounts)
        and any(Shard(1, n).holds(a) for a in accounts)
    )
    saved = tmp_path / "fleet.plan.json"
    made = invoke(
        emulator, "plan", "--fleet", str(fleet_file), "--shard", f"1/{count}", "--out", str(saved)
    )
    assert made.code == 0, made.stderr
    start = last_seq(emulator)
    run = invoke(
        emulator,
        "apply",
        "--plan",
        str(saved),
        "--shard",
        f"2/{count}",
        "--secrets-file",
        str(tmp_path / "s.env"),
    )
    assert run.code == 1
    assert f"--shard 2/{count}: none of the plan's" in run.stderr
    assert requests_since(emulator, start) == []


def test_drift_sends_one_alert_for_the_fleet(
    emulator: EmulatorServer, fast_fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    fleet = fast_fleet
    fleet_file, accounts = fleet
    apply_fleet(emulator, fleet_file, tmp_path / "s.env")
    drifted = accounts[0]
    post(emulator, "/v1/tax/settings", {"defaults[tax_behavior]": "inclusive"}, account=drifted)
    receiver = Receiver()
    receiver.thread.start()
    try:
        run = invoke(emulator, "drift", "--fleet", str(fleet_file), "--alert-url", receiver.url)
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    assert run.code == 2, run.stderr
    assert run.stdout.splitlines()[0] == f"{drifted}:"
    assert run.stdout.splitlines()[-1] == "Fleet: 5 accounts, 1 drifted, 0 failed."
    (payload,) = receiver.payloads()
    assert [entry["stripe_account"] for entry in payload["accounts"]] == [drifted]
    assert payload["text"].startswith(":warning: *Stripe drift* in a fleet (test mode): ")
    assert f"• `{drifted}`: Drift: 1 changed." in payload["text"]


def test_export_writes_a_directory_per_account(
    emulator: EmulatorServer, fast_fleet: tuple[Path, list[str]], tmp_path: Path
) -> None:
    fleet = fast_fleet
    fleet_file, accounts = fleet
    apply_fleet(emulator, fleet_file, tmp_path / "s.env")
    out = tmp_path / "exported"
    run = invoke(emulator, "export", "--fleet", str(fleet_file), "--out", str(out))
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == accounts
    hooks = (out / NAMED[0] / "webhook_endpoints.yaml").read_text()
    assert "account:\n  mode: test\n" in hooks  # an overlay of the fleet: no account pinned
    assert "billing:" in hooks and "https://a.example.com/hooks" in hooks
    assert run.stderr.splitlines()[-1] == "Fleet: 5 accounts, 5 exported, 0 failed."


def test_both_budgets_keep_a_fleet_under_stripes_limits(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    # Stripe's limits per connected account and for the platform, and a fleet told to stay
    # below both: its requests never meet a 429.
    connect_accounts(emulator, 4)
    # set after the set-up's own requests (a new limit starts with empty windows)
    emulator.configure(rate_limit=12, platform_rate_limit=12, platform_operation_rate_limit=6)
    limits = "rate_limits:\n  per_account: {rate: 11}\n  platform: {rate: 11, operation_rate: 5}\n"
    fleet_file = write_fleet(tmp_path, extra=limits)
    run = invoke(emulator, "plan", "--fleet", str(fleet_file))
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "Fleet: 6 accounts, 6 with changes, 0 failed."
    statuses = [entry["status"] for entry in emulator.requests()]
    assert 429 not in statuses
    assert len(statuses) == 4 + 1 + 6 * 4


def test_an_account_not_connected_to_the_platform_fails_alone(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.configure(refuse_unknown_accounts=True)
    listed = connect_accounts(emulator, 2)
    fleet_file = write_fleet(tmp_path)  # names two accounts the platform never created
    run = invoke(emulator, "plan", "--fleet", str(fleet_file), "--format", "json")
    assert run.code == 1
    document = json.loads(run.stdout)
    statuses = {e["stripe_account"]: e["status"] for e in document["accounts"]}
    assert statuses == {**dict.fromkeys(NAMED, "failed"), **dict.fromkeys(listed, "changes")}
    failed = next(e for e in document["accounts"] if e["stripe_account"] == NAMED[0])
    assert failed["error"]["type"] == "PermissionDeniedError"
    assert "does not have access to account" in failed["error"]["message"]
    assert run.stderr.splitlines()[-1] == (
        f"Error: 2 accounts of the fleet could not be planned or were refused: {NAMED[0]}, "
        f"{NAMED[1]} (see above)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["plan", "--fleet", "{f}", "stripe/"],
            "give either manifest PATHS or --fleet FILE, not both",
        ),
        (
            ["plan", "stripe/", "--shard", "1/2"],
            "--shard and --accounts choose accounts of a fleet",
        ),
        (["--stripe-account", "acct_1X", "plan", "--fleet", "{f}"], "unset --stripe-account"),
        (["export", "--fleet", "{f}"], "export --fleet writes a directory per account"),
        (["plan", "--fleet", "{f}", "--shard", "4/3"], "--shard 4/3: the shard must be from 1"),
        (["plan"], "give manifest PATHS to plan, or --fleet FILE"),
    ],
)
def test_fleet_options_are_checked(
    emulator: EmulatorServer, tmp_path: Path, args: list[str], message: str
) -> None:
    fleet_file = write_fleet(tmp_path)
    run = invoke(emulator, *[str(fleet_file) if a == "{f}" else a for a in args])
    assert run.code == 1
    assert message in run.stderr


@pytest.mark.parametrize(("answer", "code"), [("yes\n", 0), ("no\n", 1)])
def test_on_a_terminal_the_fleet_is_planned_shown_and_confirmed_once(
    emulator: EmulatorServer,
    fast_fleet: tuple[Path, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
) -> None:
    fleet_file, accounts = fast_fleet
    monkeypatch.setattr(cli_fleet, "_is_terminal", lambda: True)
    args = ["apply", "--fleet", str(fleet_file), "--secrets-file", str(tmp_path / "s.env")]
    result = CliRunner().invoke(cli, args, input=answer, env=env_for(emulator))
    assert result.exit_code == code, result.output
    shown = result.stdout
    assert shown.count("Apply these changes to every account above") == 1
    assert "Fleet: 5 accounts, 5 with changes, 0 failed." in shown  # the plan, before asking
    writes = [
        r for r in emulator.requests() if r["method"] == "POST" and "accounts" not in r["path"]
    ]
    if code == 1:
        assert "Apply cancelled; nothing was changed." in result.stderr
        assert writes == []
    else:
        assert shown.splitlines()[-1] == "Fleet: 5 accounts, 5 with changes, 0 failed."
        assert len({r["account"] for r in writes}) == len(accounts)


def test_on_a_terminal_the_accounts_that_could_not_be_planned_count_as_failed(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: "an account that could not be planned is not applied, and counts as failed";
    # the report's last line said "0 failed" while the command failed naming two accounts.
    emulator.configure(refuse_unknown_accounts=True)
    listed = connect_accounts(emulator, 2)
    fleet_file = write_fleet(tmp_path, extra=FAST)  # names two accounts never created
    monkeypatch.setattr(cli_fleet, "_is_terminal", lambda: True)
    args = ["apply", "--fleet", str(fleet_file), "--secrets-file", str(tmp_path / "s.env")]
    result = CliRunner().invoke(cli, args, input="yes\n", env=env_for(emulator))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    for account in NAMED:
        assert lines.count(f"{account}: failed") == 2, account  # in the plan and the report
    for account in listed:
        assert any(line.startswith(f"{account}: Apply complete:") for line in lines), account
    assert lines[-1] == "Fleet: 4 accounts, 2 with changes, 2 failed."
    assert result.stderr.splitlines()[-1] == (
        f"Error: 2 accounts of the fleet did not apply: {NAMED[0]}, {NAMED[1]} (see above)"
    )

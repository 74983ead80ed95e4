"""The apply command's own decisions: argument rules, confirmation, progress lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import reconciler.cli.apply as apply_cli
from reconciler.apply.progress import ProgressEvent
from reconciler.cli.main import cli
from reconciler.errors import UsageError
from reconciler.plan.model import Plan

KEY = "sk_test_" + "c" * 16


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apply"], "Error: give manifest PATHS to plan and apply, --fleet FILE, or --plan FILE"),
        (
            ["apply", "m.yaml", "--plan", "p.json"],
            "Error: give either manifest PATHS, --fleet FILE or --plan FILE, not two",
        ),
        (
            ["apply", "--fleet", "f.yaml", "--plan", "p.json"],
            "Error: give either manifest PATHS, --fleet FILE or --plan FILE, not two",
        ),
        (
            ["apply", "--plan", "p.json", "--target", "tax_settings"],
            "Error: --target cannot change a saved plan; make the plan with --target",
        ),
    ],
)
def test_argument_rules(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args, env={"STRIPE_API_KEY": KEY})
    assert result.exit_code == 1
    assert result.stderr.strip() == message


def test_unreadable_plan_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = CliRunner().invoke(cli, ["apply", "--plan", str(missing)], env={"STRIPE_API_KEY": KEY})
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: cannot read the plan file {missing}: No such file or directory"
    )


def test_tampered_plan_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"format_version": 1, "checksum": "x"}')
    result = CliRunner().invoke(cli, ["apply", "--plan", str(path)], env={"STRIPE_API_KEY": KEY})
    assert result.exit_code == 1
    assert "checksum does not match" in result.stderr


@pytest.mark.parametrize(
    ("auto", "saved", "tty", "answer", "expected"),
    [
        (True, False, False, None, True),
        (False, True, False, None, True),
        (False, False, True, "yes", True),
        (False, False, True, "y", False),
        (False, False, True, "", False),
    ],
)
def test_confirmation(
    monkeypatch: pytest.MonkeyPatch,
    auto: bool,
    saved: bool,
    tty: bool,
    answer: str | None,
    expected: bool,
) -> None:
    monkeypatch.setattr(apply_cli.sys.stdin, "isatty", lambda: tty, raising=False)
    asked: list[str] = []

    def prompt(text: str, **kwargs: object) -> str:
        asked.append(text)
        assert answer is not None
        return answer

    monkeypatch.setattr(apply_cli.click, "prompt", prompt)
    assert apply_cli._confirmer(auto, saved)(Plan()) is expected
    assert asked == ([] if answer is None else ["Apply these changes? Only 'yes' is accepted"])


def test_no_terminal_and_no_auto_approve_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply_cli.sys.stdin, "isatty", lambda: False, raising=False)
    with pytest.raises(UsageError, match=r"^refusing to apply without confirmation"):
        apply_cli._confirmer(False, False)(Plan())


@pytest.mark.parametrize(
    ("event", "line", "err"),
    [
        (
            ProgressEvent("start", "webhook_endpoints.a", "create"),
            "webhook_endpoints.a: Creating...",
            False,
        ),
        (
            ProgressEvent("start", "webhook_endpoints[we_1]", "delete", "we_1"),
            "webhook_endpoints[we_1]: Deleting we_1...",
            False,
        ),
        (
            ProgressEvent("end", "webhook_endpoints.a", "create", "we_2", 1.234),
            "webhook_endpoints.a: Created after 1.2s [id=we_2]",
            False,
        ),
        (
            ProgressEvent("end", "tax_settings", "update", None, 0.04),
            "tax_settings: Updated after 0.0s",
            False,
        ),
        (
            ProgressEvent("fail", "tax_registrations.x", "expire", "taxreg_1", 2.0, "boom"),
            "tax_registrations.x: expire failed after 2.0s (the error below says why)",
            True,
        ),
        (
            ProgressEvent("note", "webhook_endpoints.a", "create", message="secret delivered"),
            "webhook_endpoints.a: secret delivered",
            False,
        ),
    ],
)
def test_progress_lines(
    capsys: pytest.CaptureFixture[str], event: ProgressEvent, line: str, err: bool
) -> None:
    apply_cli._print_event(event)
    captured = capsys.readouterr()
    assert (captured.err if err else captured.out) == line + "\n"
    assert (captured.out if err else captured.err) == ""

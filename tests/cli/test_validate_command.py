"""``validate`` and ``schema`` through click's runner and through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "basic"
DONE_WHEN = ROOT / "tests" / "manifest" / "cases" / "done-when" / "manifest.yaml"
SCRIPT = shutil.which("stripe-reconciler", path=str(Path(sys.executable).parent))

DONE_WHEN_LINES = [
    "manifest.yaml:5:10: webhook_endpoints.orders.url: Stripe delivers webhooks over https only "
    "(http is allowed just for localhost in test mode)",
    "manifest.yaml:6:50: webhook_endpoints.orders.enabled_events[1]: unknown event "
    "'invoice.payed'; did you mean 'invoice.paid', 'invoice.updated' or 'invoice.created'? "
    "(if Stripe added it after API version 2026-10-28.endive, pass --allow-unknown-events)",
    "manifest.yaml:9:7: webhook_endpoints.orders.metadata.this_metadata_key_is_41_characters_"
    "long__: key is 41 characters long; Stripe allows at most 40",
    "manifest.yaml:10:5: webhook_endpoints.orders.colour: unknown key 'colour'; allowed: "
    "api_version, connect, description, disabled, enabled_events, lifecycle, metadata, url",
    "manifest.yaml:12:18: webhook_endpoints.deploys.url: environment variable DEPLOY_HOST is not "
    "set; set it or give a default with ${DEPLOY_HOST:-default}",
    "manifest.yaml:28:3: webhook_endpoints.extra-17: 17 webhook endpoints declared; Stripe allows "
    "at most 16 per account and mode",
    "manifest.yaml:33:7: tax_registrations.us-sales.country_options.us.state: missing required "
    "key 'state' (the two-letter US state code, e.g. CA)",
    "manifest.yaml:37:7: tax_registrations.fr-oss.country_options.de: key 'de' does not match "
    "country FR; use 'fr'",
    "Invalid: 8 errors, 0 warnings.",
]


def _runner_env() -> dict[str, str | None]:
    # Unset anything from the developer's shell that the manifests could reference.
    return {"DEPLOY_HOST": None, "APP_HOST": None}


def test_example_is_valid_through_click_runner() -> None:
    result = CliRunner(env=_runner_env()).invoke(cli, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "Valid: 6 resources declared.\n"


def test_events_next_to_the_wildcard_validate_without_a_warning(tmp_path: Path) -> None:
    """``['*']`` leaves out events that require explicit selection (Stripe's API reference)."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nwebhook_endpoints:\n  all:\n    url: https://example.com/h\n"
        "    enabled_events: ['*', three_d_secure.authentication.succeeded]\n"
    )
    result = CliRunner(env=_runner_env()).invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "Valid: 1 resource declared.\n"


def test_done_when_manifest_reports_each_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DONE_WHEN.parent)
    result = CliRunner(env=_runner_env()).invoke(cli, ["validate", "manifest.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == DONE_WHEN_LINES
    assert "Traceback" not in result.output


def test_json_format_lists_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DONE_WHEN.parent)
    result = CliRunner(env=_runner_env()).invoke(
        cli, ["validate", "--format", "json", "manifest.yaml"]
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert (document["error_count"], document["warning_count"]) == (8, 0)
    assert document["diagnostics"][1] == {
        "file": "manifest.yaml",
        "line": 6,
        "column": 50,
        "path": "webhook_endpoints.orders.enabled_events[1]",
        "message": DONE_WHEN_LINES[1].split("enabled_events[1]: ", 1)[1],
        "severity": "error",
    }
    assert [(d["line"], d["column"]) for d in document["diagnostics"]] == [
        (5, 10), (6, 50), (9, 7), (10, 5), (12, 18), (28, 3), (33, 7), (37, 7)
    ]  # fmt: skip


def test_github_format_annotates_each_error_at_its_location(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(DONE_WHEN.parent)
    result = CliRunner(env=_runner_env()).invoke(
        cli, ["validate", "--format", "github", "manifest.yaml"]
    )
    assert result.exit_code == 1
    expected = []
    for line in DONE_WHEN_LINES[:-1]:
        file, number, column, message = line.split(":", 3)
        expected.append(f"::error file={file},line={number},col={column}::{message.lstrip()}")
    assert result.stdout.splitlines() == expected
    assert result.stderr == DONE_WHEN_LINES[-1] + "\n"


def test_github_format_escapes_file_and_message_and_annotates_warnings(tmp_path: Path) -> None:
    manifest = tmp_path / "we,ird:50%.yaml"
    manifest.write_text(
        "version: 1\nwebhook_endpoints:\n  orders:\n    url: https://example.com/h\n"
        "    enabled_events: [zebra.crossing_started, '100%.off']\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["validate", "--format", "github", "--allow-unknown-events", str(manifest)]
    )
    assert result.exit_code == 0
    where = f"file={tmp_path}/we%2Cird%3A50%25.yaml,line=5"
    assert result.stdout.splitlines() == [
        f"::warning {where},col=22::webhook_endpoints.orders.enabled_events[0]: unknown event "
        "'zebra.crossing_started' (allowed by --allow-unknown-events)",
        f"::warning {where},col=46::webhook_endpoints.orders.enabled_events[1]: unknown event "
        "'100%25.off' (allowed by --allow-unknown-events)",
    ]
    assert result.stderr == "Valid: 1 resource declared, 2 warnings.\n"


def test_allow_unknown_events_downgrades_to_a_warning(tmp_path: Path) -> None:
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "version: 1\nwebhook_endpoints:\n  orders:\n    url: https://example.com/h\n"
        "    enabled_events: [zebra.crossing_started]\n",
        encoding="utf-8",
    )
    strict = CliRunner().invoke(cli, ["validate", str(manifest)])
    assert strict.exit_code == 1
    relaxed = CliRunner().invoke(cli, ["validate", "--allow-unknown-events", str(manifest)])
    assert relaxed.exit_code == 0
    assert relaxed.stderr.splitlines() == [
        f"{manifest}:5:22: webhook_endpoints.orders.enabled_events[0]: warning: unknown event "
        "'zebra.crossing_started' (allowed by --allow-unknown-events)",
        "Valid: 1 resource declared, 1 warning.",
    ]


def test_recursive_finds_nested_files(tmp_path: Path) -> None:
    nested = tmp_path / "team" / "hooks.yaml"
    nested.parent.mkdir()
    nested.write_text(
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://example.com/a\n"
        "    enabled_events: ['*']\n",
        encoding="utf-8",
    )
    flat = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert flat.exit_code == 1
    assert flat.stderr.splitlines()[0] == (
        f"{tmp_path}:1:1: directory contains no *.yaml or *.yml files; "
        "pass --recursive to search subdirectories"
    )
    deep = CliRunner().invoke(cli, ["validate", "--recursive", str(tmp_path)])
    assert deep.exit_code == 0, deep.stderr
    assert deep.stderr == "Valid: 1 resource declared.\n"


def test_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    committed = (ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8")
    printed = CliRunner().invoke(cli, ["schema"])
    assert printed.exit_code == 0
    assert printed.stdout == committed
    out = tmp_path / "schema.json"
    written = CliRunner().invoke(cli, ["schema", "--out", str(out)])
    assert written.exit_code == 0
    assert out.read_text(encoding="utf-8") == committed


def test_schema_out_into_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path / "nope" / "s.json")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {tmp_path / 'nope' / 's.json'}:")


# --- the installed console script, as users and CI run it -------------------------------------


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert SCRIPT is not None, "stripe-reconciler is not installed next to the interpreter"
    env = {
        key: value for key, value in os.environ.items() if key not in ("APP_HOST", "DEPLOY_HOST")
    }
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, cwd=cwd, env=env, check=False, timeout=60
    )


def test_console_script_validates_the_example() -> None:
    result = _run("validate", "examples/basic")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "",
        "Valid: 6 resources declared.\n",
    )


def test_console_script_done_when_manifest() -> None:
    result = _run("validate", "manifest.yaml", cwd=DONE_WHEN.parent)
    assert result.returncode == 1
    assert result.stderr.splitlines() == DONE_WHEN_LINES


@pytest.fixture
def malformed(tmp_path: Path) -> Path:
    (tmp_path / "tabs.yaml").write_text("version: 1\naccount:\n\tmode: test\n", encoding="utf-8")
    (tmp_path / "quote.yaml").write_text('version: 1\npolicy: {unmanaged: "report}\n', "utf-8")
    (tmp_path / "dup.yaml").write_text("version: 1\nversion: 1\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("version: 1\naccount: [test]\n", encoding="utf-8")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "huge.yaml").write_bytes(b"# padding\n" * 1_048_576)
    (tmp_path / "latin1.yaml").write_bytes(b"version: 1\naccount: {mode: t\xe9st}\n")
    (tmp_path / "no-yaml").mkdir()
    (tmp_path / "no-yaml" / "notes.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    (tmp_path / "broken.yaml").symlink_to("gone.yaml")
    (tmp_path / "with-broken-link").mkdir()
    (tmp_path / "with-broken-link" / "a.yaml").write_text("version: 1\n", encoding="utf-8")
    (tmp_path / "with-broken-link" / "b.yaml").symlink_to("../moved-away.yaml")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "first_line"),
    [
        ("tabs.yaml", "tabs.yaml:3:1: tab character in indentation; YAML allows only spaces"),
        ("quote.yaml", "quote.yaml:2:21: unclosed quote: the string has no closing quotation mark"),
        (
            "dup.yaml",
            "dup.yaml:2:1: version: duplicate key 'version' (first defined at line 1, column 1); "
            "YAML would silently keep only the last one",
        ),
        ("list.yaml", "list.yaml:2:10: account: expected a mapping, got a list"),
        ("binary.yaml",
         "binary.yaml:1:1: binary data (NUL byte): a manifest must be UTF-8 YAML text"),
        ("empty.yaml", "empty.yaml:1:1: file is empty; a manifest starts with 'version: 1'"),
        (
            "huge.yaml",
            "huge.yaml:1:1: file is 10485760 bytes; manifests are limited to 1048576 bytes (1 MiB)",
        ),
        ("latin1.yaml", "latin1.yaml:2:18: not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
        ("no-yaml", "no-yaml:1:1: directory contains no *.yaml or *.yml files; pass --recursive "
         "to search subdirectories"),
        ("missing.yaml", "missing.yaml:1:1: no such file or directory"),
        ("loop.yaml", "loop.yaml:1:1: symbolic link loop: the link leads back to itself"),
        ("broken.yaml", "broken.yaml:1:1: broken symbolic link: its target gone.yaml does not "
         "exist"),
        ("with-broken-link", "with-broken-link/b.yaml:1:1: broken symbolic link: its target "
         "../moved-away.yaml does not exist"),
    ],
)  # fmt: skip
def test_console_script_malformed_input(malformed: Path, name: str, first_line: str) -> None:
    result = _run("validate", name, cwd=malformed)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [first_line, "Invalid: 1 error, 0 warnings."]


def test_json_format_for_a_valid_set_with_a_warning(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://example.com/a\n"
        "    enabled_events: [invoice.paid, invoice.paid]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(manifest)])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "valid": True,
        "error_count": 0,
        "warning_count": 1,
        "diagnostics": [
            {
                "file": str(manifest),
                "line": 5,
                "column": 36,
                "path": "webhook_endpoints.a.enabled_events[1]",
                "message": "'invoice.paid' is listed twice",
                "severity": "warning",
            }
        ],
    }


def test_validate_needs_a_path() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1
    assert "Missing argument 'PATHS...'" in result.stderr

"""README.md stays true: quick start runs, every option, field and error class is documented,
every command line it shows exists in the CLI."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from docs_helpers import (
    ROOT,
    between,
    check_invocation,
    fenced_blocks,
    find_invocations,
    readme,
    section,
)
from pydantic import BaseModel

import reconciler.emulator.config  # noqa: F401  (defines ConfigError, a UsageError)
from reconciler import errors
from reconciler.cli.main import cli
from reconciler.manifest.model import Manifest

CONSOLE = Path(sys.executable).with_name("stripe-reconciler")
_FOREIGN_ENV = (
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_ACCOUNT",
    "STRIPE_RECONCILER_EMULATOR_STATE",
    "APP_HOST",
    "GITHUB_ACTIONS",
)


def one_sh_block(start: str, end: str) -> str:
    (block,) = fenced_blocks(between(readme(), start, end), "sh")
    lines = block.strip().splitlines()
    assert len(lines) == 1, "a newcomer command is one copy-paste line"
    return lines[0]


def test_quick_start_is_one_line_that_installs_and_plans_on_the_emulator() -> None:
    command = one_sh_block("<!-- quickstart:start -->", "<!-- quickstart:end -->")
    steps = [step.strip() for step in command.split("&&")]
    assert steps[:2] == ["python3 -m venv .venv", ".venv/bin/pip install -q -e ."]
    assert shlex.split(steps[2]) == [
        ".venv/bin/stripe-reconciler",
        "--emulator-state",
        ".stripe-emulator.json",
        "plan",
        "examples/basic",
    ]


def test_quick_start_runs_and_shows_the_plan(tmp_path: Path) -> None:
    """Its `stripe-reconciler …` part, with the installed console script, in a fresh directory."""
    command = one_sh_block("<!-- quickstart:start -->", "<!-- quickstart:end -->")
    argv = shlex.split(command.split("&&")[-1])
    assert argv[0] == ".venv/bin/stripe-reconciler"
    shutil.copytree(ROOT / "examples" / "basic", tmp_path / "examples" / "basic")
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    process = subprocess.Popen(
        [str(CONSOLE), *argv[1:]],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    summary = "Plan: 5 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire."
    assert out.splitlines()[-1] == summary
    assert f"The plan ends with `{summary}`" in readme()  # the prose promises what it prints
    assert "+ webhook_endpoints.orders: create" in out


def test_test_command_is_what_ci_runs() -> None:
    command = one_sh_block("<!-- test-command:start -->", "<!-- test-command:end -->")
    assert command == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest -q -n 2"
    )
    # .ci/run extracts the same block with sed; run its extraction on the README as it is.
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extraction = re.search(r"test_command=\$\((.*?)\)\n", script, flags=re.DOTALL)
    assert extraction is not None
    result = subprocess.run(
        ["bash", "-c", extraction.group(1)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == command


def readme_invocations() -> list[Any]:
    text = readme()
    return [
        invocation
        for number, block in enumerate(fenced_blocks(text, "sh"))
        # completion set-up runs the program without a command on purpose (tested below)
        if "_STRIPE_RECONCILER_COMPLETE" not in block
        for invocation in find_invocations(block, f"README sh block {number + 1}")
    ]


def test_every_command_line_in_the_readme_exists_in_the_cli() -> None:
    invocations = readme_invocations()
    assert {i.command for i in invocations} >= {"plan", "apply"}
    assert [p for i in invocations for p in check_invocation(i)] == []


def test_inline_example_commands_exist_in_the_cli() -> None:
    # The examples table and prose show commands in `code spans`; check those with a command.
    spans = re.findall(r"`([^`\n]*stripe-reconciler [^`\n]*)`", readme())
    # synopses with placeholders (`[GLOBAL OPTIONS]`, `<command>`) are not command lines
    real = [span for span in spans if not re.search(r"[<\[]", span)]
    invocations = [i for span in real for i in find_invocations(span, "README span")]
    assert len(invocations) >= 5
    assert [p for i in invocations for p in check_invocation(i)] == []


def _command_section(name: str) -> str:
    text = section(readme(), "Commands")
    start = text.index(f"\n### `{name}")
    following = text.find("\n### ", start + 1)
    return text[start : following if following != -1 else len(text)]


def _option_names(command: click.Command) -> list[str]:
    return [
        name
        for param in command.params
        if isinstance(param, click.Option) and "--help" not in param.opts
        for name in [max(param.opts, key=len)]
    ]


def test_every_global_option_is_in_the_global_options_table() -> None:
    text = section(readme(), "Commands")
    table = text[text.index("**Global options**") : text.index("\n### ")]
    missing = [name for name in _option_names(cli) if f"| `{name}" not in table]
    assert missing == []
    for param in cli.params:
        if isinstance(param, click.Option) and isinstance(param.envvar, str):
            assert f"`{param.envvar}`" in table


@pytest.mark.parametrize("name", sorted(cli.list_commands(click.Context(cli))))
def test_every_command_option_is_in_its_section(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    text = _command_section(name)
    missing = [option for option in _option_names(command) if f"`{option}" not in text]
    assert missing == []


def test_every_command_has_a_row_in_the_exit_codes_table() -> None:
    text = section(readme(), "Exit codes")
    rows = re.findall(r"^\| `([a-z]+)` \|", text, flags=re.MULTILINE)
    assert rows == sorted(cli.list_commands(click.Context(cli)), key=rows.index)
    assert sorted(rows) == sorted(cli.list_commands(click.Context(cli)))


def _error_classes() -> list[type[errors.ReconcilerError]]:
    found: list[type[errors.ReconcilerError]] = []
    pending: list[type[errors.ReconcilerError]] = [errors.ReconcilerError]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(current.__subclasses__())
    return found


def test_every_error_class_has_a_troubleshooting_row() -> None:
    text = section(readme(), "Troubleshooting")
    names = sorted({cls.__name__ for cls in _error_classes()})
    assert len(names) >= 26  # the tree of reconciler/errors.py plus the emulator's ConfigError
    assert [name for name in names if f"| `{name}` |" not in text] == []


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation can hold, with "*" for a mapping of them."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [inner for arg in typing.get_args(annotation) for inner in _unwrap(arg)]
    if origin is dict:
        value = typing.get_args(annotation)[1]
        return [("*", inner) for inner in _unwrap(value) if not isinstance(inner, tuple)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def model_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        paths.append(path)
        for inner in _unwrap(info.annotation):
            if isinstance(inner, tuple):
                paths.extend(model_paths(inner[1], (*path, "*")))
            else:
                paths.extend(model_paths(inner, path))
    return paths


def _present(document: Any, path: tuple[str, ...]) -> bool:
    if not path:
        return True
    if not isinstance(document, dict):
        return False
    head, rest = path[0], path[1:]
    if head == "*":
        return any(_present(value, rest) for value in document.values())
    return head in document and _present(document[head], rest)


def test_every_model_field_is_in_the_reference_example_and_the_fields_table() -> None:
    text = section(readme(), "Manifest reference")
    (example, *_) = fenced_blocks(text, "yaml")
    document = yaml.safe_load(example)
    paths = model_paths(Manifest)
    assert ("webhook_endpoints", "*", "lifecycle", "protect") in paths
    assert ("tax_settings", "head_office", "address", "line2") in paths
    assert [".".join(p) for p in paths if not _present(document, p)] == []
    table = text[text.index("**Fields**") :]
    parents = {p[:-1] for p in paths}
    leaves = {p[-1] for p in paths if p not in parents and p[-1] != "*"}
    assert (
        sorted(name for name in leaves if f"`{name}" not in table and f".{name}`" not in table)
        == []
    )


def test_shell_completion_line_works(tmp_path: Path) -> None:
    assert 'eval "$(_STRIPE_RECONCILER_COMPLETE=bash_source stripe-reconciler)"' in readme()
    env = {
        **os.environ,
        "_STRIPE_RECONCILER_COMPLETE": "bash_complete",
        "COMP_WORDS": "stripe-reconciler drift --format ",
        "COMP_CWORD": "3",
    }
    result = subprocess.run([str(CONSOLE)], env=env, capture_output=True, text=True, check=False)
    assert result.stdout.split() == ["plain,text", "plain,json", "plain,markdown", "plain,github"]


def test_benchmarks_section_links_an_existing_readme() -> None:
    """An absolute link: a relative one breaks where the README is shown off the repository
    (the package index's project page)."""
    text = section(readme(), "Benchmarks")
    assert "(https://github.com/OWNER/stripe-reconciler/blob/main/bench/README.md)" in text
    assert (ROOT / "bench" / "README.md").is_file()

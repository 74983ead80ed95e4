"""Find ``stripe-reconciler`` invocations in shell text and check them against the click tree.

Used by the CI-recipe and README tests: a recipe that passes a flag the CLI does not have fails
when pasted, so every invocation is parsed and each global option, command, option, option
value (for choices) and positional argument is checked against :data:`reconciler.cli.main.cli`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import click

from reconciler.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def check_jsonschema(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``check-jsonschema`` (a test dependency) with ``args``, offline: every proxy points at
    a closed port, so any attempt to fetch a schema fails the run, and passing proves that the
    schemas it used need no network."""
    dead = "http://127.0.0.1:9"
    offline = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead}
    offline.pop("NO_PROXY", None)
    offline.pop("no_proxy", None)
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--no-cache", *map(str, args)],
        env=offline,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _load_action_script() -> ModuleType:
    """``action/run_action.py``, the GitHub Action's logic (a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("run_action", ROOT / "action" / "run_action.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_action"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


run_action = _load_action_script()
_PYTHONS = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?$")
_OPERATOR = re.compile(r"^[();<>|&]+$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
#: Words after which the shell still expects a command name.
_PREFIXES = frozenset({"env", "exec", "time", "then", "do", "else", "!"})


@dataclass(frozen=True)
class Invocation:
    """One call of the tool: where it was written and the arguments after the program name."""

    source: str
    argv: tuple[str, ...]

    @property
    def command(self) -> str | None:
        """The subcommand name, skipping global options and their values."""
        tokens = list(self.argv)
        while tokens and tokens[0].startswith("-"):
            option = _find_option(cli, tokens.pop(0).split("=", 1)[0])
            if option is not None and _takes_value(option) and tokens:
                tokens.pop(0)
        return tokens[0] if tokens else None


def _program_end(tokens: list[str], index: int) -> int | None:
    """If ``tokens[index]`` starts the tool, the index just after its program name."""
    token = tokens[index]
    if token == "stripe-reconciler" or token.endswith("/stripe-reconciler"):
        return index + 1
    if _PYTHONS.match(token) and tokens[index + 1 : index + 3] == ["-m", "reconciler"]:
        return index + 3
    return None


def find_invocations(shell: str, source: str) -> list[Invocation]:
    """Every invocation in a piece of shell, one per command (pipes, ``&&``, ``;`` split)."""
    joined = re.sub(r"\\\n", " ", shell)
    found: list[Invocation] = []
    for number, line in enumerate(joined.splitlines(), start=1):
        if "stripe-reconciler" not in line and "reconciler" not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        command_position = True  # `pip install stripe-reconciler` is not a call of the tool
        for index, token in enumerate(tokens):
            starts = command_position
            command_position = bool(_OPERATOR.match(token)) or (
                starts and (_ASSIGNMENT.match(token) is not None or token in _PREFIXES)
            )
            end = _program_end(tokens, index) if starts else None
            if end is None:
                continue
            argv: list[str] = []
            for token in tokens[end:]:
                if _OPERATOR.match(token):
                    break
                argv.append(token)
            found.append(Invocation(f"{source}:{number}", tuple(argv)))
    return found


def _find_option(command: click.Command, name: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _takes_value(option: click.Option) -> bool:
    return not (option.is_flag or option.count)


def _check_value(option: click.Option, value: str, where: str) -> list[str]:
    # A shell or CI variable is decided at run time; only literal values can be checked.
    if "$" in value or not isinstance(option.type, click.Choice):
        return []
    choices = [str(c) for c in option.type.choices]
    folded = value if option.type.case_sensitive else value.lower()
    allowed = choices if option.type.case_sensitive else [c.lower() for c in choices]
    if folded not in allowed:
        return [f"{where}: {option.opts[-1]} {value!r} is not one of {', '.join(choices)}"]
    return []


def _consume(command: click.Command, argv: list[str], where: str) -> tuple[list[str], list[str]]:
    """Consume options from the front of ``argv``; return (problems, positional arguments)."""
    problems: list[str] = []
    positional: list[str] = []
    while argv:
        token = argv.pop(0)
        if not token.startswith("-") or token == "-":
            positional.append(token)
            if command is cli:
                return problems, positional  # the subcommand name ends the global options
            continue
        name, has_inline, inline = token.partition("=")
        if name in ("-h", "--help"):
            continue
        option = _find_option(command, name)
        if option is None:
            problems.append(f"{where}: no such option {name}")
            continue
        if not _takes_value(option):
            if has_inline:
                problems.append(f"{where}: {name} is a flag and takes no value")
            continue
        if has_inline:
            value = inline
        elif argv:
            value = argv.pop(0)
        else:
            problems.append(f"{where}: {name} needs a value")
            continue
        problems.extend(_check_value(option, value, f"{where}: {name}"))
    return problems, positional


def check_invocation(invocation: Invocation) -> list[str]:
    """Problems with one invocation (empty when the CLI would accept its options)."""
    argv = list(invocation.argv)
    problems, positional = _consume(cli, argv, f"{invocation.source}: global")
    if not positional:
        if not {"--version", "--help", "-h"} & set(invocation.argv):
            problems.append(f"{invocation.source}: no command")
        return problems
    name = positional[0]
    command = cli.get_command(click.Context(cli), name)
    if command is None:
        return [*problems, f"{invocation.source}: no such command {name!r}"]
    sub_problems, arguments = _consume(command, argv, f"{invocation.source}: {name}")
    problems.extend(sub_problems)
    if arguments and not any(isinstance(p, click.Argument) for p in command.params):
        problems.append(f"{invocation.source}: {name} takes no arguments, got {arguments}")
    return problems


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def between(text: str, start: str, end: str) -> str:
    """The text between two marker lines (exactly one pair must exist)."""
    assert text.count(start) == 1 and text.count(end) == 1, (start, end)
    return text[text.index(start) + len(start) : text.index(end)]


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of ```language fenced blocks, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def section(text: str, heading: str) -> str:
    """A ``## heading`` section up to the next level-2 heading."""
    start = text.index(f"\n## {heading}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else len(text)]

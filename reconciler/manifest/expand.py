"""``${VAR}``, ``${VAR:-default}`` and ``$$`` expansion of manifest strings from the environment.

Expansion runs on string values after YAML parsing and before validation, so a variable can never
inject YAML structure. A ``$`` not followed by ``{`` or ``$`` stays literal (URLs and prices
contain dollars). A default may itself hold references and ``$$`` (``${A:-${B:-b}}``), as in a
POSIX shell; like the shell, a default is only expanded when it is used, so an unset variable
in an unused default is not an error. Problems are returned with the offset of the offending
``$`` inside the string, so the caller can turn them into file/line/column diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A string that is one reference (for the JSON Schema of typed fields; nesting not checked).
REFERENCE_PATTERN = r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-.*)?\}$"
#: A string holding a reference anywhere, not escaped as ``$${`` (for the JSON Schema of string
#: fields: their value is known only after expansion, so only the loader can judge it).
#: ECMA-262 syntax, unanchored, as JSON Schema's ``pattern`` is.
CONTAINS_REFERENCE_PATTERN = r"(?:^|[^$])(?:\$\$)*\$\{[A-Za-z_][A-Za-z0-9_]*(?:\}|:-)"
_UNTERMINATED = "unterminated '${': add the closing '}'"
#: How deep ``${A:-${B:-…}}`` may nest: a shell has no limit, but a manifest needing more than a
#: few levels is a mistake, and an unbounded one would exhaust the interpreter's stack.
MAX_NESTING = 16


class EnvScalar(str):
    """The expansion of a plain (unquoted) YAML scalar that was exactly one ``${…}`` reference.

    Only such a value may fill a boolean or integer field, read by YAML's rules (``true``,
    ``42``): written there directly it would have been one, and a quoted ``"${VAR}"`` says
    "string" as plainly as ``"true"`` does. Everywhere else it is an ordinary ``str``.
    """

    __slots__ = ()


@dataclass(frozen=True)
class ExpansionProblem:
    """An unset variable or a malformed reference at ``offset`` (0-based) in the input string."""

    offset: int
    message: str


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, list[ExpansionProblem]]:
    """Return the expanded string and every problem found (the string is usable only if none)."""
    problems: list[ExpansionProblem] = []
    expanded, _ = _word(text, 0, environ, problems, nested=False, evaluate=True, depth=0)
    return expanded, problems


def is_single_reference(text: str) -> bool:
    """True when ``text`` is exactly one well-formed ``${…}`` reference, nothing around it."""
    if not text.startswith("${"):
        return False
    problems: list[ExpansionProblem] = []
    _, end = _reference(text, 0, {}, problems, evaluate=False, depth=0)
    return end == len(text) and not problems


def _word(
    text: str,
    start: int,
    environ: Mapping[str, str],
    problems: list[ExpansionProblem],
    *,
    nested: bool,
    evaluate: bool,
    depth: int,
) -> tuple[str, int]:
    """Expand ``text`` from ``start`` to its end, or (``nested``) to the ``}`` that closes the
    enclosing reference. Returns the expansion and the index where it stopped: the end, the
    closing brace, or -1 when a reference (or the enclosing one) is never closed."""
    out: list[str] = []
    i = start
    while i < len(text):
        char = text[i]
        if nested and char == "}":
            return "".join(out), i
        if char != "$" or i + 1 >= len(text) or text[i + 1] not in "${":
            out.append(char)
            i += 1
            continue
        if text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        value, i = _reference(text, i, environ, problems, evaluate=evaluate, depth=depth)
        out.append(value)
        if i == -1:
            return "".join(out), -1
    return "".join(out), -1 if nested else i


def _reference(
    text: str,
    start: int,
    environ: Mapping[str, str],
    problems: list[ExpansionProblem],
    *,
    evaluate: bool,
    depth: int,
) -> tuple[str, int]:
    """Expand the reference whose ``${`` is at ``start``; return its value and the index after
    its closing ``}`` (-1 when unterminated). With ``evaluate`` false (an unused default) only
    malformed syntax is reported."""
    name = _NAME.match(text, start + 2)
    after_name = name.end() if name else start + 2
    if name is not None and text.startswith(":-", after_name):
        if depth >= MAX_NESTING:
            problems.append(
                ExpansionProblem(
                    start, f"references nest deeper than {MAX_NESTING} levels in defaults"
                )
            )
            return "", -1
        variable = name.group()
        # Like the shell, ":-" also replaces a variable that is set but empty.
        use_default = not environ.get(variable)
        inner: list[ExpansionProblem] = []
        default, close = _word(
            text,
            after_name + 2,
            environ,
            inner,
            nested=True,
            evaluate=evaluate and use_default,
            depth=depth + 1,
        )
        if close == -1:
            too_deep = [p for p in inner if p.message.startswith("references nest deeper")]
            problems.extend(too_deep or [ExpansionProblem(start, _UNTERMINATED)])
            return text[start:], -1
        problems.extend(inner)
        return (default if use_default else environ[variable]), close + 1
    close = text.find("}", start + 2)
    if close == -1:
        problems.append(ExpansionProblem(start, _UNTERMINATED))
        return text[start:], -1
    if name is None or after_name != close:
        body = text[start + 2 : close]
        problems.append(
            ExpansionProblem(
                start,
                f"invalid variable reference '${{{body}}}': use ${{NAME}} or "
                "${NAME:-default} (write $$ for a literal $)",
            )
        )
        return "", close + 1
    variable = name.group()
    if variable in environ:
        return environ[variable], close + 1
    if evaluate:
        problems.append(
            ExpansionProblem(
                start,
                f"environment variable {variable} is not set; set it or give a default "
                f"with ${{{variable}:-default}}",
            )
        )
    return "", close + 1

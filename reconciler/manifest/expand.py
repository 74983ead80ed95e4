"""``${VAR}``, ``${VAR:-default}`` and ``$$`` expansion of manifest strings from the environment.

Expansion runs on string values after YAML parsing and before validation, so a variable can never
inject YAML structure. A ``$`` not followed by ``{`` or ``$`` stays literal (URLs and prices
contain dollars). Problems are returned with the offset of the offending ``$`` inside the string,
so the caller can turn them into file/line/column diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ExpansionProblem:
    """An unset variable or a malformed reference at ``offset`` (0-based) in the input string."""

    offset: int
    message: str


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, list[ExpansionProblem]]:
    """Return the expanded string and every problem found (the string is usable only if none)."""
    out: list[str] = []
    problems: list[ExpansionProblem] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 >= len(text) or text[i + 1] not in "${":
            out.append(char)
            i += 1
            continue
        if text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        end = text.find("}", i + 2)
        if end == -1:
            problems.append(ExpansionProblem(i, "unterminated '${': add the closing '}'"))
            out.append(text[i:])
            break
        body = text[i + 2 : end]
        name, sep, default = body.partition(":-")
        if not _NAME.fullmatch(name):
            problems.append(
                ExpansionProblem(
                    i,
                    f"invalid variable reference '${{{body}}}': use ${{NAME}} or "
                    "${NAME:-default} (write $$ for a literal $)",
                )
            )
        elif name in environ and (environ[name] or not sep):
            # Like the shell, ":-" also replaces a variable that is set but empty.
            out.append(environ[name])
        elif sep:
            out.append(default)
        else:
            problems.append(
                ExpansionProblem(
                    i,
                    f"environment variable {name} is not set; set it or give a default "
                    f"with ${{{name}:-default}}",
                )
            )
        i = end + 1
    return "".join(out), problems

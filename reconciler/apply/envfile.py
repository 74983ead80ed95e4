"""Reading and merging the secrets file formats: dotenv (tolerant) and a flat JSON object.

Pure text in, text out. Errors cite the file and line, never the line's content: it may hold a
secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import SecretSinkError

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SAFE_VALUE_RE = re.compile(r"^[A-Za-z0-9_./:@+-]*$")


@dataclass(frozen=True)
class _Line:
    raw: str
    key: str | None  # None for comments and blank lines
    exported: bool = False


def _parse_dotenv(text: str, path: Path) -> list[_Line]:
    """Tolerant dotenv reader: comments, blank lines, ``export``, quotes, inline comments.

    Errors cite the line number only: the line itself may hold a secret.
    """
    lines: list[_Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            lines.append(_Line(raw, None))
            continue
        body = stripped[len("export ") :].lstrip() if stripped.startswith("export ") else stripped
        key, sep, value = body.partition("=")
        key = key.strip()
        if not sep or not _KEY_RE.match(key):
            raise SecretSinkError(
                f"{path}:{number}: not a dotenv line (expected NAME=value); fix or move the file"
            )
        value = value.strip()
        if value[:1] in {'"', "'"} and not _closed_quote(value):
            raise SecretSinkError(f"{path}:{number}: unterminated quoted value; fix the file")
        lines.append(_Line(raw, key, exported=body is not stripped))
    return lines


def _closed_quote(value: str) -> bool:
    quote = value[0]
    index = 1
    while index < len(value):
        if value[index] == "\\" and quote == '"':
            index += 2
            continue
        if value[index] == quote:
            rest = value[index + 1 :].strip()
            return not rest or rest.startswith("#")
        index += 1
    return False


def _dotenv_value(value: str) -> str:
    if _SAFE_VALUE_RE.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def merge_dotenv(text: str, path: Path, entries: dict[str, str]) -> str:
    lines = _parse_dotenv(text, path)
    pending = dict(entries)
    out: list[str] = []
    for line in lines:
        if line.key is not None and line.key in entries:
            if line.key in pending:
                export = "export " if line.exported else ""
                out.append(f"{export}{line.key}={_dotenv_value(pending.pop(line.key))}")
            # a second line for the same key would shadow ours when sourced: drop it
            continue
        out.append(line.raw)
    out.extend(f"{key}={_dotenv_value(value)}" for key, value in pending.items())
    return "\n".join(out) + "\n"


def merge_json(text: str, path: Path, entries: dict[str, str]) -> str:
    if text.strip():
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise SecretSinkError(
                f"{path}:{error.lineno}:{error.colno}: not valid JSON; fix or move the file"
            ) from None
        if not isinstance(document, dict):
            raise SecretSinkError(f"{path}: expected a JSON object of NAME: secret pairs")
    else:
        document = {}
    document.update(entries)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read_dotenv(text: str, path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in _parse_dotenv(text, path):
        if line.key is not None:
            values[line.key] = _unquote(line.raw.split("=", 1)[1].strip())
    return values


def _unquote(value: str) -> str:
    if value[:1] == "'":
        return value[1 : value.index("'", 1)]
    if value[:1] != '"':
        return value.split(" #", 1)[0].strip()
    out: list[str] = []
    index = 1
    while index < len(value) and value[index] != '"':
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            index += 1
            char = "\n" if value[index] == "n" else value[index]
        out.append(char)
        index += 1
    return "".join(out)

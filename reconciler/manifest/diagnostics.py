"""Located diagnostics: what is wrong, where (file, line, column) and at which manifest path.

A diagnostic renders like a compiler message, ``file:line:col: <path>: <message>``, so editors
and CI annotations can jump to it; :func:`diagnostics_to_github` writes GitHub's own annotations.
File-level problems (missing file, empty file, size cap) are reported at line 1, column 1 and may
have an empty path, which the rendering then omits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.workflow_commands import annotation

Severity = Literal["error", "warning"]

#: A path inside a manifest document: mapping keys and list indices.
DataPath = tuple[str | int, ...]

#: Stripe secret/restricted keys and webhook signing secrets: never echoed in a diagnostic.
SECRET_PATTERN = re.compile(r"(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{6,}|whsec_[A-Za-z0-9+/=]{6,}")


def redact(text: str) -> str:
    """Replace anything that looks like a Stripe secret with ``(sensitive)``."""
    return SECRET_PATTERN.sub("(sensitive)", text)


@dataclass(frozen=True, order=True)
class Location:
    """Where something was written: 1-based line and column in ``file``."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the manifests."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # Messages quote the user's values; a pasted key must not travel on into CI logs.
        object.__setattr__(self, "message", redact(self.message))
        object.__setattr__(self, "path", redact(self.path))

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        if self.path:
            return f"{where}: {self.path}: {prefix}{self.message}"
        return f"{where}: {prefix}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


def format_path(path: Sequence[str | int]) -> str:
    """Render a data path: ``("webhook_endpoints", "orders", "enabled_events", 1)`` becomes
    ``webhook_endpoints.orders.enabled_events[1]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def diagnostics_to_json(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    """The ``--format json`` shape: objects with file, line, column, path, message, severity."""
    return [d.to_json() for d in diagnostics]


def diagnostics_to_github(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """The ``--format github`` lines: one ``::error`` or ``::warning`` workflow command per
    diagnostic, at its file, line and column, so GitHub shows it on that line of the diff."""
    return [
        annotation(
            d.severity,
            f"{d.path}: {d.message}" if d.path else d.message,
            file=d.file,
            line=d.line,
            col=d.column,
        )
        for d in diagnostics
    ]


def count_errors(diagnostics: Iterable[Diagnostic]) -> int:
    return sum(1 for d in diagnostics if d.severity == "error")

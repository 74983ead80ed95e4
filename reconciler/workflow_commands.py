"""GitHub Actions workflow commands (``::error file=…,line=…,col=…::message``), escaped once.

The runner reads an output line that starts with ``::`` as a command: an annotation (``error``,
``warning``, ``notice``) shown on the run's summary and, with ``file`` and ``line``, at that line
of the pull request's diff. A command's message ends at the end of its line and its properties at
``,`` or ``::``, so values are escaped as GitHub's own toolkit does (``@actions/core``,
``escapeData`` and ``escapeProperty``): ``%``, ``\\r`` and ``\\n`` everywhere, and ``:`` and
``,`` in properties too. Nothing a manifest or the live account holds can then end a line early
or add a command.

``validate --format github`` and ``drift --format github`` build their lines here; the library
returns them and the CLI prints them.
"""

from __future__ import annotations

from typing import Literal

Level = Literal["error", "warning", "notice"]

_DATA = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A"})
_PROPERTY = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C"})


def escape_data(text: str) -> str:
    """A command's message (after the second ``::``)."""
    return text.translate(_DATA)


def escape_property(text: str) -> str:
    """A property value (``file=…``, ``title=…``)."""
    return text.translate(_PROPERTY)


def annotation(
    level: Level,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> str:
    """One annotation line, without a line break; properties that are ``None`` are left out."""
    properties = {"file": file, "line": line, "col": col, "title": title}
    written = ",".join(
        f"{name}={escape_property(str(value))}"
        for name, value in properties.items()
        if value is not None
    )
    return f"::{level}{' ' if written else ''}{written}::{escape_data(message)}"

"""Markdown escaping for pull-request comments and job summaries: one implementation, shared by the
plan and drift renderers.

Their values come from the manifests and from the live account, where anyone with Dashboard
access writes descriptions, URLs and metadata (keys too, and the name an endpoint is tagged with,
which becomes its address). No value may change the document around it: end a table row (a line
break, a ``|``), close a code span early (a backtick), or open HTML such as ``</details>``.
Each place a value can go has its function:

* :func:`code`: an inline code span, in a table cell (``table=True``) or elsewhere;
* :func:`text`: prose in a table cell, list item or paragraph;
* :func:`html`: text inside the renderers' own raw HTML (``<summary>…</summary>``), where
  markdown is not parsed.

Every value is kept on one line: line breaks become spaces.
"""

from __future__ import annotations

import html as _html

_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " "})
#: Inside a code span only a backtick can end it; GitHub's tables also split on ``|`` there
#: (GFM splits cells before it reads code spans), so a table cell escapes it.
_CODE = str.maketrans({"`": "'", "\r": " ", "\n": " "})
#: Markdown punctuation that could start markup inside a line (code, links and images, table
#: cells, escapes) and the HTML specials (tags, entities); each is shown as written.
_TEXT = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "|": "\\|",
        "[": "\\[",
        "]": "\\]",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\r": " ",
        "\n": " ",
    }
)


def code(value: str, *, table: bool = False, limit: int | None = None) -> str:
    """``value`` as one inline code span, shortened to ``limit`` characters (with ``…``).

    A backtick is shown as ``'``: no escape exists inside a code span. In a table cell ``|`` is
    written ``\\|`` (GitHub shows ``|``); elsewhere that would show the backslash.
    """
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    shown = value.translate(_CODE)
    if table:
        shown = shown.replace("|", "\\|")
    return f"`{shown}`"


def text(value: str) -> str:
    """``value`` as plain text that renders exactly as written, on one line."""
    return value.translate(_TEXT)


def html(value: str) -> str:
    """``value`` inside raw HTML: entities for ``&``, ``<`` and ``>``, on one line (a blank line
    would end the HTML block and let markdown in)."""
    # quote: in element content `"` and `&quot;` show the same
    return _html.escape(value.translate(_LINE_BREAKS), quote=False)  # pragma: no mutate

"""Read rendered markdown back with a CommonMark parser (GFM tables on), for structure tests.

Plan and drift markdown carry values from the manifests and from the live account (anyone with
Dashboard access writes descriptions, URLs and metadata). Asserting on substrings cannot show
that such a value left the document's structure alone; parsing it as GitHub would can:
``markdown-it-py`` (a test dependency) follows CommonMark and GFM's table rules.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")
#: The HTML the renderers write themselves; anything else came from a value.
_OWN_TAGS = re.compile(r"</?(?:details|summary|code|sub)>")
#: Inline tokens a value must never produce (inline HTML is checked by :func:`stray_html`).
_FORBIDDEN = frozenset({"link_open", "image"})

#: One value with every hazard: a table pipe, backticks (a code span and a fence), line breaks
#: with a table row after them, HTML that closes and opens ``<details>``, script and image tags,
#: a markdown link and image, an entity.
HOSTILE = (
    "a | b `c` ``` \n| x | y |\n|---|---|\n</details><details><summary>pwned</summary> "
    "<img src=x onerror=alert(1)> <script>alert(1)</script> [l](https://evil.example) "
    "![i](https://evil.example/i.png) &amp; \\| done"
)
#: The same hazards in the shape of a URL (a live endpoint's URL can hold any of them).
HOSTILE_URL = "https://evil.example/a|b`c`/<details>?x=<img src=x>&y=[l](z)\n| p | q |"
#: And in the shape of a metadata key (it becomes part of a field path: ``metadata.<key>``).
HOSTILE_KEY = "k|`<b>`\n"

_TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}
_ENDPOINT = {"enabled_events": ["invoice.paid"], "status": "enabled", "url": HOSTILE_URL}
#: Manifests and a live account (plain dicts) that put the hostile values where the live account
#: can: an endpoint's description, URL, metadata values and keys, the name an endpoint is tagged
#: with (its address), and the URL of an endpoint nobody declared (a report).
HOSTILE_DESIRED = {
    "version": 1,
    "webhook_endpoints": {
        "orders": {
            "url": "https://example.com/orders",
            "enabled_events": ["invoice.paid"],
            "description": "Orders",
            "metadata": {"team": "payments"},
        }
    },
}
HOSTILE_LIVE = {
    "webhook_endpoints": [
        {
            **_ENDPOINT,
            "id": "we_orders",
            "description": HOSTILE,
            "metadata": {**_TAGS, "reconciler_name": "orders", "team": HOSTILE, HOSTILE_KEY: "v"},
        },
        {**_ENDPOINT, "id": "we_evil", "metadata": {**_TAGS, "reconciler_name": HOSTILE}},
        {**_ENDPOINT, "id": "we_hand", "description": HOSTILE, "metadata": {}},
    ]
}


def one_line(value: str) -> str:
    """How every value reads in markdown: on one line."""
    return value.replace("\r", " ").replace("\n", " ")


def as_code(value: str) -> str:
    """How a value reads in inline code: on one line, a backtick shown as ``'``."""
    return one_line(value).replace("`", "'")


@dataclass(frozen=True)
class Table:
    header: tuple[tuple[Token, ...], ...]
    rows: tuple[tuple[tuple[Token, ...], ...], ...]  # row → cell → inline tokens


def parse(markdown: str) -> list[Token]:
    return _PARSER.parse(markdown)


def _inline(tokens: list[Token]) -> list[Token]:
    return [child for token in tokens if token.type == "inline" for child in token.children or []]


def stray_html(tokens: list[Token]) -> list[str]:
    """HTML blocks and inline HTML beyond the renderers' own tags."""
    found = [t.content for t in tokens if t.type == "html_block"]
    found += [t.content for t in _inline(tokens) if t.type == "html_inline"]
    return [html for html in found if "<" in _OWN_TAGS.sub("", html)]


def html_tags(tokens: list[Token], tag: str) -> int:
    """How many times ``tag`` (e.g. ``<details>``) opens in raw HTML the parser passed through."""
    found = [t.content for t in tokens if t.type == "html_block"]
    found += [t.content for t in _inline(tokens) if t.type == "html_inline"]
    return sum(html.count(tag) for html in found)


def forbidden_inline(tokens: list[Token]) -> list[str]:
    """Links and images anywhere: values must render as text."""
    return [f"{t.type}: {t.content}" for t in _inline(tokens) if t.type in _FORBIDDEN]


def tables(tokens: list[Token]) -> list[Table]:
    found: list[Table] = []
    rows: list[tuple[tuple[Token, ...], ...]] = []
    cells: list[tuple[Token, ...]] | None = None
    for token in tokens:
        if token.type == "table_open":
            rows = []
        elif token.type == "tr_open":
            cells = []
        elif token.type == "inline" and cells is not None:
            cells.append(tuple(token.children or ()))
        elif token.type == "tr_close" and cells is not None:
            rows.append(tuple(cells))
            cells = None
        elif token.type == "table_close":
            found.append(Table(header=rows[0], rows=tuple(rows[1:])))
    return found


def cell_text(cell: tuple[Token, ...]) -> str:
    """A cell as it reads: text and code contents joined."""
    return "".join(t.content for t in cell)


def only_code(cell: tuple[Token, ...]) -> str:
    """The content of a cell that must be exactly one inline code span."""
    assert [t.type for t in cell] == ["code_inline"], [(t.type, t.content) for t in cell]
    return cell[0].content


def _reads(children: list[Token]) -> str:
    return "".join(" " if c.type == "softbreak" else c.content for c in children)


def list_items(tokens: list[Token]) -> list[str]:
    """Every bullet-list item as it reads (text and code contents; a line break as a space)."""
    items: list[str] = []
    inside = 0
    for token in tokens:
        if token.type == "list_item_open":
            inside += 1
        elif token.type == "list_item_close":
            inside -= 1
        elif token.type == "inline" and inside:
            items.append(_reads(token.children or []))
    return items


def paragraphs(tokens: list[Token]) -> list[str]:
    """Every paragraph outside lists and tables as it reads."""
    found: list[str] = []
    for before, token in itertools.pairwise(tokens):
        if token.type == "inline" and before.type == "paragraph_open" and not before.hidden:
            found.append(_reads(token.children or []))
    return found

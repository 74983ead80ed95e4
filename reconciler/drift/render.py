"""Renderers of a :class:`~reconciler.drift.model.DriftReport`: text, json, markdown, github.

Each renderer is a pure function of the (already masked) report and returns a string; the CLI
decides where it goes. Markdown escapes every value with the plan's own functions
(:mod:`reconciler.plan.markdown`), so a live description or URL cannot break its table. The JSON
document is the stable, versioned contract (README "Drift JSON format"); the alert payloads in
:mod:`reconciler.drift.alert` reuse it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.drift.model import (
    FORMAT_VERSION,
    DriftReport,
    FieldDrift,
    ResourceDrift,
    account_label,
    summary_line,
)
from reconciler.manifest.diagnostics import Location
from reconciler.plan import markdown
from reconciler.plan.render import format_value
from reconciler.workflow_commands import annotation

FORMATS = ("text", "json", "markdown", "github")

#: GitHub rejects comments and job summaries over 65,536 characters; stay below with a margin.
MARKDOWN_LIMIT = 60_000

_COLORS = {"~": "33", "!": "31", "-": "31", "+": "35", "?": "36", "…": "33"}


def describe_change(change: FieldDrift) -> str:
    """``url: declared "a", live "b"``; lists are compared as sets (what live adds or lacks)."""
    declared, live = change.declared, change.live
    if isinstance(declared, list) and isinstance(live, list):
        extra = sorted({format_value(v) for v in live} - {format_value(v) for v in declared})
        lacking = sorted({format_value(v) for v in declared} - {format_value(v) for v in live})
        parts = []
        if extra:
            parts.append(f"live adds {', '.join(extra)}")
        if lacking:
            parts.append(f"live lacks {', '.join(lacking)}")
        if parts:
            return f"{change.path}: {'; '.join(parts)}"
    path = change.path  # timestamps get their date, as in plan
    return f"{path}: declared {format_value(declared, path)}, live {format_value(live, path)}"


def _heading(item: ResourceDrift) -> str:
    where = f" ({item.live_id})" if item.live_id and item.live_id not in item.address else ""
    return f"{item.address}{where}: {item.drift.value}"


# -- text -----------------------------------------------------------------------------------------


def render_text(report: DriftReport, *, color: bool = False) -> str:
    """Terminal output: one block per drifted resource, then the summary line."""

    def paint(symbol: str, text: str) -> str:
        return f"\x1b[{_COLORS[symbol]}m{text}\x1b[0m" if color else text

    lines: list[str] = []
    if not report.in_sync:
        lines.append(f"Drift detected in {account_label(report)}:")
        lines.append("")
        for item in report.drift:
            symbol = item.drift.symbol
            lines.append(paint(symbol, f"{symbol} {_heading(item)}") + f" — {item.message}")
            lines.extend(f"    {describe_change(change)}" for change in item.changes)
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


# -- json -----------------------------------------------------------------------------------------


def report_document(report: DriftReport) -> dict[str, Any]:
    """The versioned JSON document (documented in README "Drift JSON format")."""
    return {
        "format_version": FORMAT_VERSION,
        "tool_version": report.tool_version,
        "checked_at": report.checked_at,
        "account": {
            "id": report.account_id,
            "mode": report.mode,
            "stripe_account": report.stripe_account,
        },
        "in_sync": report.in_sync,
        "summary": {
            "resources_checked": report.resources_checked,
            "drifted": len(report.drift),
            "by_drift": report.counts(),
        },
        "tax_settings_status": report.tax_settings_status,
        "drift": [drift_entry(item) for item in report.drift],
    }


def drift_entry(item: ResourceDrift) -> dict[str, Any]:
    return {
        "address": item.address,
        "kind": item.kind,
        "drift": item.drift.value,
        "id": item.live_id,
        "message": item.message,
        "changes": [{"path": c.path, "declared": c.declared, "live": c.live} for c in item.changes],
    }


def render_json(report: DriftReport) -> str:
    return json.dumps(report_document(report), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


# -- markdown -------------------------------------------------------------------------------------


def render_markdown(report: DriftReport, *, limit: int = MARKDOWN_LIMIT) -> str:
    """For issues, pull requests and job summaries: a table, then ``<details>`` per resource.

    Stays under ``limit`` characters: table rows, then details, are dropped from the end with a
    note saying how many are missing (the JSON format always has everything).
    """
    label = markdown.text(account_label(report))
    head = f"### Stripe drift — {label}\n\n**{summary_line(report)}**\n"
    if report.in_sync:
        return head
    rows = [
        f"| {markdown.code(i.address, table=True)} | {i.drift.value} "
        f"| {markdown.text(i.message)} |\n"
        for i in report.drift
    ]
    blocks = [_md_details(item) for item in report.drift]
    reserve = 160  # room for the truncation note

    out = head + "\n| resource | drift | what |\n|---|---|---|\n"
    for index, row in enumerate(rows):
        if len(out) + len(row) + reserve > limit:
            return out + _md_truncated(len(rows) - index, "rows", limit)
        out += row
    for index, block in enumerate(blocks):
        if len(out) + len(block) + reserve > limit:
            return out + _md_truncated(len(blocks) - index, "details", limit)
        out += block
    return out


def _md_details(item: ResourceDrift) -> str:
    summary = f"<code>{markdown.html(item.address)}</code> — {item.drift.value}"
    parts = [f"\n<details><summary>{summary}</summary>\n"]
    if item.live_id:
        parts.append(f"Stripe id: {markdown.code(item.live_id)}\n")
    parts.append(markdown.text(item.message) + "\n")
    if item.changes:
        changes = (f"- {markdown.code(describe_change(c))}" for c in item.changes)
        parts.append("\n".join(changes) + "\n")
    parts.append("</details>\n")
    return "\n".join(parts)


def _md_truncated(left: int, what: str, limit: int) -> str:
    return (
        f"\n_{left} more drifted resources not shown ({what}): output truncated at {limit} "
        "characters; use `--format json` for the full report._\n"
    )


# -- github ---------------------------------------------------------------------------------------


def render_github(
    report: DriftReport,
    *,
    locations: Mapping[str, Location] | None = None,
    account: str | None = None,
) -> str:
    """GitHub Actions workflow commands: one ``::warning`` per drifted resource, then the summary.

    ``locations`` maps the address of each declared resource to where the manifests declare it
    (:attr:`reconciler.manifest.DesiredState.locations`): its warning then carries that
    ``file``, ``line`` and ``col``, so GitHub shows it at the declaration. Live objects nobody
    declared (unmanaged, orphaned, a duplicate of a declared name) have no such line and no file.
    The job summary (``$GITHUB_STEP_SUMMARY``) is :func:`render_markdown`; the CLI appends it.
    ``account`` (a fleet's connected account) goes into each title.
    """
    who = f"{account} " if account else ""
    lines = []
    for item in report.drift:
        details = [item.message, *(describe_change(c) for c in item.changes)]
        where = (locations or {}).get(item.address)
        lines.append(
            annotation(
                "warning",
                "\n".join(details),
                file=where.file if where else None,
                line=where.line if where else None,
                col=where.column if where else None,
                title=f"Stripe drift: {who}{item.address} ({item.drift.value})",
            )
        )
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def render(
    report: DriftReport,
    output_format: str,
    *,
    color: bool = False,
    locations: Mapping[str, Location] | None = None,
) -> str:
    """Dispatch on one of :data:`FORMATS` (``locations`` is for github, see there)."""
    if output_format == "text":
        return render_text(report, color=color)
    if output_format == "json":
        return render_json(report)
    if output_format == "markdown":
        return render_markdown(report)
    if output_format == "github":
        return render_github(report, locations=locations)
    raise ValueError(f"unknown drift format {output_format!r}; choose one of {', '.join(FORMATS)}")

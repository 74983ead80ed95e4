"""One masked view of a plan, rendered three ways: text, markdown and JSON.

Masking happens once, in :func:`build_view`; the renderers only ever see the view, so no format
can leak an API key or a signing secret. Every value in markdown goes through
:mod:`reconciler.plan.markdown`, so none can break the comment's tables or HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.plan import markdown
from reconciler.plan.mask import mask
from reconciler.plan.model import FORMAT_VERSION, ActionType, Plan, Summary
from reconciler.timestamps import iso_utc

#: GitHub rejects comments of 65,536 characters or more
MARKDOWN_LIMIT = 65_536
_CELL_LIMIT = 300

_COLORS = {"+": "32", "~": "33", "-/+": "35", "-": "31", "x": "31", "?": "36", "!": "33"}


@dataclass(frozen=True)
class ChangeView:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ActionView:
    symbol: str
    action: str
    kind: str
    address: str
    live_id: str | None
    reason: str
    changes: tuple[ChangeView, ...]
    requests: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    kind: str
    address: str
    live_id: str | None
    message: str


@dataclass(frozen=True)
class PlanView:
    summary: Summary
    unchanged: int
    actions: tuple[ActionView, ...]
    reports: tuple[ReportView, ...]
    warnings: tuple[str, ...]
    checksum: str


def build_view(plan: Plan, *, secrets: tuple[str, ...] = ()) -> PlanView:
    """The plan with every sensitive value (and each exact string in ``secrets``) masked."""
    data = mask(plan.to_dict(), secrets)
    return PlanView(
        summary=plan.summary,
        unchanged=plan.unchanged,
        actions=tuple(
            ActionView(
                symbol=ActionType(a["action"]).symbol,
                action=a["action"],
                kind=a["kind"],
                address=a["address"],
                live_id=a["live_id"],
                reason=a["reason"],
                changes=tuple(ChangeView(c["path"], c["before"], c["after"]) for c in a["changes"]),
                requests=tuple(a["requests"]),
                warnings=tuple(a["warnings"]),
            )
            for a in data["actions"]
        ),
        reports=tuple(
            ReportView(r["kind"], r["address"], r["live_id"], r["message"]) for r in data["reports"]
        ),
        warnings=tuple(data["warnings"]),
        checksum=plan.checksum,
    )


_TIMESTAMP_FIELDS = ("active_from", "expires_at")


# a value of no field (drift's list items) is never read as a date, whatever the default path
def format_value(value: Any, path: str = "") -> str:  # pragma: no mutate
    """JSON for the value; unix timestamps also as UTC date-times so reviewers can read them.

    The one rendering of a field value for people: drift's renderers use it too.
    """
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    date = iso_utc(value) if path.endswith(_TIMESTAMP_FIELDS) else None
    return f"{text} ({date})" if date else text


def _target(action: ActionView) -> str:
    """`` (we_123)`` unless the address already names the live object."""
    if not action.live_id or action.live_id in action.address:
        return ""
    return f" ({action.live_id})"


def _paint(symbol: str, text: str, color: bool) -> str:
    return f"\x1b[{_COLORS[symbol]}m{text}\x1b[0m" if color else text


# -- text -------------------------------------------------------------------------------------
def render_text(view: PlanView, *, color: bool = False) -> str:
    lines: list[str] = []
    for action in view.actions:
        target = _target(action)
        head = f"{action.symbol} {action.address}"
        lines.append(f"  {_paint(action.symbol, head, color)}: {action.action}{target}")
        lines.append(f"      # {action.reason}")
        for item in action.changes:
            lines.append(
                f"      {item.path}: {format_value(item.before, item.path)} → "
                f"{format_value(item.after, item.path)}"
            )
        lines.append("")
    if view.reports:
        lines.append("Reported, no action:")
        lines.extend(f"  {_paint('?', '?', color)} {r.address}: {r.message}" for r in view.reports)
        lines.append("")
    if view.warnings:
        lines.append("Warnings:")
        lines.extend(f"  {_paint('!', '!', color)} {w}" for w in view.warnings)
        lines.append("")
    lines.append(view.summary.line())
    return "\n".join(lines) + "\n"


# -- markdown ---------------------------------------------------------------------------------
def _cell(value: Any, path: str) -> str:
    shown = "—" if value is None else format_value(value, path)
    return markdown.code(shown, table=True, limit=_CELL_LIMIT)


def markdown_details(action: ActionView) -> str:
    """One action as a ``<details>`` block (the plan comment's, and each account's in a fleet)."""
    target = _target(action)
    out = [
        f"<details><summary><code>{action.symbol}</code> "
        f"<code>{markdown.html(action.address)}</code>: "
        f"{action.action}{markdown.html(target)}</summary>",
        "",
        markdown.text(action.reason),
        "",
    ]
    if action.changes:
        out.append("| field | before | after |")
        out.append("|---|---|---|")
        out.extend(
            f"| {markdown.code(c.path, table=True)} | {_cell(c.before, c.path)} "
            f"| {_cell(c.after, c.path)} |"
            for c in action.changes
        )
        out.append("")
    out.extend(f"> ⚠️ {markdown.text(w)}" for w in action.warnings)
    out.append("</details>")
    out.append("")
    return "\n".join(out) + "\n"


def render_markdown(view: PlanView, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment, always shorter than ``limit`` characters."""
    s = view.summary
    head = (
        "### stripe-reconciler plan\n\n"
        f"**{s.line()}**\n\n"
        "| create | update | replace | delete | expire | unchanged |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
        f"| {s.create} | {s.update} | {s.replace} | {s.delete} | {s.expire} "
        f"| {view.unchanged} |\n\n"
    )
    tail_lines: list[str] = []
    if view.reports:
        tail_lines.append("**Reported, no action**\n")
        tail_lines.extend(
            f"- {markdown.code(r.address)}: {markdown.text(r.message)}" for r in view.reports
        )
        tail_lines.append("")
    if view.warnings:
        tail_lines.append("**Warnings**\n")
        tail_lines.extend(f"- ⚠️ {markdown.text(w)}" for w in view.warnings)
        tail_lines.append("")
    tail_lines.append(f"<sub>checksum `{view.checksum}`</sub>\n")
    tail = "\n".join(tail_lines)
    note_reserve = 300
    budget = limit - 1 - len(head) - note_reserve
    # reports and warnings take at most half the room, cut after the last line that fits whole
    half = budget // 2
    if len(tail) > half:
        cut = tail[:half].rsplit("\n", 1)[0]
        tail = f"{cut}\n- … (list truncated)\n\n<sub>checksum `{view.checksum}`</sub>\n"
    body: list[str] = []
    used = 0
    shown = 0
    for action in view.actions:
        block = markdown_details(action)
        if used + len(block) + len(tail) > budget:
            break
        body.append(block)
        used += len(block)
        shown += 1
    hidden = len(view.actions) - shown
    if hidden:
        body.append(
            f"> ✂️ Truncated: {hidden} of {len(view.actions)} resources not shown to keep this "
            "comment under 65,536 characters. Run `stripe-reconciler plan` for the full plan.\n\n"
        )
    return head + "".join(body) + tail


# -- json -------------------------------------------------------------------------------------
def view_to_dict(view: PlanView) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "summary": {**view.summary.to_dict(), "unchanged": view.unchanged},
        "summary_line": view.summary.line(),
        "actions": [
            {
                "action": a.action,
                "kind": a.kind,
                "address": a.address,
                "live_id": a.live_id,
                "reason": a.reason,
                "changes": [
                    {"path": c.path, "before": c.before, "after": c.after} for c in a.changes
                ],
                "requests": list(a.requests),
                "warnings": list(a.warnings),
            }
            for a in view.actions
        ],
        "reports": [
            {"kind": r.kind, "address": r.address, "live_id": r.live_id, "message": r.message}
            for r in view.reports
        ],
        "warnings": list(view.warnings),
        "checksum": view.checksum,
    }


def render_json(view: PlanView) -> str:
    return json.dumps(view_to_dict(view), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


RENDERERS = {"text", "json", "markdown"}


def render(view: PlanView, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return render_json(view)
    if fmt == "markdown":
        return render_markdown(view)
    return render_text(view, color=color)

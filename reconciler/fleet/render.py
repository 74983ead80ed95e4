"""A fleet's plan as text, markdown or JSON, and its apply report: one section per account.

Each account's plan is the single-account plan, rendered by :mod:`reconciler.plan.render` from
its masked view, so a fleet shows every account exactly as ``plan`` shows one. An account whose
plan changes nothing and reports nothing is not given a section: such accounts are listed on one
line (``No changes in N accounts: …``). The fleet's summary line comes last. An account's error
is shown where its section is; messages are masked as plans are.

JSON is one document (``format_version`` 1, keys sorted): the summary, and an entry per account
in account order with its ``status`` (``changes``, ``no_changes``, ``failed``), its plan (the
single-account plan document, or ``null``) and its error (``{"type", "message"}`` or ``null``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconciler.api import Planned
from reconciler.apply.session import ApplyOutcome
from reconciler.errors import ReconcilerError
from reconciler.fleet.results import FleetApply, FleetPlan
from reconciler.fleet.session import AccountRun
from reconciler.plan import markdown
from reconciler.plan.mask import mask_text
from reconciler.plan.model import FORMAT_VERSION
from reconciler.plan.render import (
    MARKDOWN_LIMIT,
    build_view,
    markdown_details,
    render_text,
    view_to_dict,
)

FORMATS = ("text", "json", "markdown")
#: How many ids the one line of accounts without changes shows in markdown.
_MARKDOWN_IDS = 200


def indent(text: str, prefix: str = "  ") -> str:
    """Every non-empty line of ``text`` behind ``prefix``."""
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


def error_text(error: ReconcilerError, secrets: Iterable[str] = ()) -> str:
    """The message the CLI would print for ``error``, masked."""
    return mask_text(str(error), tuple(secrets))


def quiet(run: AccountRun[Planned]) -> bool:
    """An account with nothing to show: planned, no changes, nothing reported, no warning."""
    plan = run.value.plan if run.value is not None else None
    return (
        run.error is None
        and plan is not None
        and not plan.has_changes
        and not plan.reports
        and not plan.warnings
    )


def status(run: AccountRun[Planned]) -> str:
    if run.error is not None:
        return "failed"
    assert run.value is not None
    return "changes" if run.value.has_changes else "no_changes"


def no_changes_line(accounts: list[str]) -> str:
    noun = "account" if len(accounts) == 1 else "accounts"
    return f"No changes in {len(accounts)} {noun}: {', '.join(accounts)}."


# -- text -----------------------------------------------------------------------------------------


def render_plan_text(
    fleet: FleetPlan, *, color: bool = False, secrets: tuple[str, ...] = ()
) -> str:
    sections: list[str] = []
    unchanged: list[str] = []
    for run in fleet.runs:
        if quiet(run):
            unchanged.append(run.stripe_account)
            continue
        sections.append(account_section(run, color=color, secrets=secrets))
    if unchanged:
        sections.append(no_changes_line(unchanged) + "\n")
    sections.append(fleet.summary_line() + "\n")
    return "\n".join(sections)


def account_section(
    run: AccountRun[Planned], *, color: bool = False, secrets: tuple[str, ...] = ()
) -> str:
    """``acct_…:`` and the account's plan (and error), indented."""
    head = f"{run.stripe_account}:" if run.value is not None else f"{run.stripe_account}: failed"
    body = ""
    if run.value is not None:
        body += indent(render_text(build_view(run.value.plan, secrets=secrets), color=color))
    if run.error is not None:
        body += indent(f"Error: {error_text(run.error, secrets)}\n")
    return f"{head}\n{body}"


# -- markdown -------------------------------------------------------------------------------------


def render_plan_markdown(
    fleet: FleetPlan, *, secrets: tuple[str, ...] = (), limit: int = MARKDOWN_LIMIT
) -> str:
    """A pull-request comment for the whole fleet, always shorter than ``limit`` characters: a
    table of the accounts with something to show, then their actions, as far as they fit."""
    shown = [run for run in fleet.runs if not quiet(run)]
    unchanged = [run.stripe_account for run in fleet.runs if quiet(run)]
    head = f"### stripe-reconciler fleet plan\n\n**{fleet.summary_line()}**\n\n"
    rows = []
    if shown:
        rows.append("| account | create | update | replace | delete | expire | |")
        rows.append("|---|---:|---:|---:|---:|---:|---|")
        for run in shown:
            cells = [markdown.code(run.stripe_account, table=True)]
            if run.value is not None:
                s = run.value.plan.summary
                cells += [str(n) for n in (s.create, s.update, s.replace, s.delete, s.expire)]
            else:
                cells += [""] * 5
            cells.append("failed" if run.error is not None else "")
            rows.append(" ".join(f"| {cell}" if cell else "|" for cell in cells) + " |")
        rows.append("")
    tail = ""
    if unchanged:
        listed = ", ".join(markdown.code(a) for a in unchanged[:_MARKDOWN_IDS])
        more = len(unchanged) - _MARKDOWN_IDS
        noun = "account" if len(unchanged) == 1 else "accounts"
        tail = f"No changes in {len(unchanged)} {noun}: {listed}"
        tail += f" and {more} more.\n" if more > 0 else ".\n"
    budget = limit - 1 - len(head) - len(tail) - 300
    table = "\n".join(rows) + "\n" if rows else ""
    if len(table) > budget:
        table = table[:budget].rsplit("\n", 1)[0] + "\n\n> ✂️ Table truncated.\n\n"
    body = [table]
    used = len(table)
    hidden = 0
    for run in shown:
        block = _account_markdown(run, secrets)
        if hidden or used + len(block) > budget:
            hidden += 1
            continue
        body.append(block)
        used += len(block)
    if hidden:
        body.append(
            f"> ✂️ Truncated: {hidden} of {len(shown)} accounts not shown to keep this comment "
            "under 65,536 characters. Run `stripe-reconciler plan --fleet …` for the full "
            "plan.\n\n"
        )
    return head + "".join(body) + tail


def _account_markdown(run: AccountRun[Planned], secrets: tuple[str, ...]) -> str:
    account = markdown.html(run.stripe_account)
    out = []
    if run.value is not None:
        view = build_view(run.value.plan, secrets=secrets)
        out.append(f"#### `{account}`: {markdown.text(view.summary.line())}\n\n")
        out.extend(markdown_details(action) for action in view.actions)
        out.extend(
            f"- {markdown.code(r.address)}: {markdown.text(r.message)}\n" for r in view.reports
        )
        out.extend(f"- ⚠️ {markdown.text(w)}\n" for w in view.warnings)
    else:
        out.append(f"#### `{account}`: failed\n\n")
    if run.error is not None:
        out.append(f"> ❌ {markdown.text(error_text(run.error, secrets))}\n")
    out.append("\n")
    return "".join(out)


# -- json -----------------------------------------------------------------------------------------


def plan_document(fleet: FleetPlan, *, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "summary": {
            "accounts": len(fleet.runs),
            "with_changes": len(fleet.with_changes),
            "failed": len(fleet.failed),
        },
        "summary_line": fleet.summary_line(),
        "accounts": [
            {
                "stripe_account": run.stripe_account,
                "status": status(run),
                "plan": None
                if run.value is None
                else view_to_dict(build_view(run.value.plan, secrets=secrets)),
                "error": error_document(run.error, secrets),
            }
            for run in fleet.runs
        ],
    }


def error_document(
    error: ReconcilerError | None, secrets: Iterable[str] = ()
) -> dict[str, str] | None:
    if error is None:
        return None
    return {"type": type(error).__name__, "message": error_text(error, secrets)}


def render_plan(
    fleet: FleetPlan, fmt: str, *, color: bool = False, secrets: tuple[str, ...] = ()
) -> str:
    """The fleet's plan in one of :data:`FORMATS`."""
    if fmt == "json":
        document = plan_document(fleet, secrets=secrets)
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_plan_markdown(fleet, secrets=secrets)
    return render_plan_text(fleet, color=color, secrets=secrets)


# -- apply ----------------------------------------------------------------------------------------


def render_apply_report(fleet: FleetApply, *, secrets: tuple[str, ...] = ()) -> str:
    """Each account's outcome (accounts with nothing to do on one line), then the summary."""
    lines: list[str] = []
    unchanged: list[str] = []
    for run in fleet.runs:
        outcome: ApplyOutcome | None = run.value
        if run.error is not None:
            lines.append(f"{run.stripe_account}: failed")
            lines.append(indent(error_text(run.error, secrets)).rstrip("\n"))
        elif outcome is not None and outcome.result is not None:
            lines.append(f"{run.stripe_account}: {outcome.result.summary_line()}")
        else:
            unchanged.append(run.stripe_account)
    if unchanged:
        lines.append(no_changes_line(unchanged))
    lines.append(fleet.summary_line())
    return "\n".join(lines) + "\n"

"""A fleet's drift: each drifted account's report, the accounts in sync on one line, and one
alert for the whole fleet.

Every account's report renders exactly as ``drift`` renders one (:mod:`reconciler.drift.render`,
masked when it was built); this module only arranges them. The alert is one POST listing the
accounts that drifted (and those that could not be read), never one per account: a nightly
check of a thousand accounts should wake someone once.

JSON (``format_version`` 1): ``{"format_version", "mode", "in_sync", "summary": {"accounts",
"drifted", "failed"}, "summary_line", "accounts": [{"stripe_account", "status" (in_sync,
drift, failed), "report" (the single-account drift document or null), "error"}]}``.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.drift.alert import slack_escape
from reconciler.drift.model import FORMAT_VERSION, DriftReport, summary_line
from reconciler.drift.render import (
    MARKDOWN_LIMIT,
    drift_entry,
    render_github,
    render_markdown,
    render_text,
    report_document,
)
from reconciler.errors import UsageError
from reconciler.fleet.render import error_document, error_text, indent
from reconciler.fleet.results import FleetDrift
from reconciler.fleet.session import AccountRun
from reconciler.plan import markdown
from reconciler.workflow_commands import annotation

#: Accounts the alert's text names one by one (the structured list has them all).
_ALERT_ACCOUNTS = 20


def _status(run: AccountRun[DriftReport]) -> str:
    if run.error is not None:
        return "failed"
    assert run.value is not None
    return "in_sync" if run.value.in_sync else "drift"


def _in_sync(fleet: FleetDrift) -> list[str]:
    return [run.stripe_account for run in fleet.runs if _status(run) == "in_sync"]


def _in_sync_line(accounts: list[str]) -> str:
    noun = "account" if len(accounts) == 1 else "accounts"
    return f"No drift in {len(accounts)} {noun}: {', '.join(accounts)}."


def render_drift_text(fleet: FleetDrift, *, color: bool = False) -> str:
    sections = []
    for run in fleet.runs:
        if run.error is not None:
            error = indent(f"Error: {error_text(run.error)}")
            sections.append(f"{run.stripe_account}: failed\n{error}\n")
        elif run.value is not None and not run.value.in_sync:
            sections.append(f"{run.stripe_account}:\n{indent(render_text(run.value, color=color))}")
    synced = _in_sync(fleet)
    if synced:
        sections.append(_in_sync_line(synced) + "\n")
    sections.append(fleet.summary_line() + "\n")
    return "\n".join(sections)


def drift_document(fleet: FleetDrift) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "mode": fleet.mode,
        "in_sync": fleet.in_sync,
        "summary": {
            "accounts": len(fleet.runs),
            "drifted": len(fleet.drifted),
            "failed": len(fleet.failed),
        },
        "summary_line": fleet.summary_line(),
        "accounts": [
            {
                "stripe_account": run.stripe_account,
                "status": _status(run),
                "report": None if run.value is None else report_document(run.value),
                "error": error_document(run.error),
            }
            for run in fleet.runs
        ],
    }


def render_drift_markdown(fleet: FleetDrift, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The drifted accounts' reports (each as ``drift --format markdown`` shows one), as many
    as fit under ``limit``."""
    out = f"### Stripe drift — fleet ({fleet.mode} mode)\n\n**{fleet.summary_line()}**\n\n"
    synced = _in_sync(fleet)
    tail = ""
    if synced:
        listed = ", ".join(markdown.code(a) for a in synced[:200])
        more = f" and {len(synced) - 200} more" if len(synced) > 200 else ""
        noun = "account" if len(synced) == 1 else "accounts"
        tail = f"No drift in {len(synced)} {noun}: {listed}{more}.\n"
    budget = limit - len(tail) - 300
    hidden = 0
    for run in fleet.runs:
        if _status(run) == "in_sync":
            continue
        if run.error is not None:
            why = markdown.text(error_text(run.error))
            block = f"#### `{run.stripe_account}`: failed\n\n> ❌ {why}\n\n"
        else:
            assert run.value is not None
            block = render_markdown(run.value, limit=max(1000, budget // 4)) + "\n"
        if hidden or len(out) + len(block) > budget:
            hidden += 1
            continue
        out += block
    if hidden:
        out += f"_{hidden} more accounts not shown; use `--format json` for the full report._\n\n"
    return out + tail


def render_drift_github(fleet: FleetDrift) -> str:
    """One ``::warning`` per drifted resource (at its manifest line, titled with the account),
    one ``::error`` per account that could not be read, then the summary."""
    lines = []
    for run in fleet.runs:
        if run.error is not None:
            lines.append(
                annotation(
                    "error",
                    error_text(run.error),
                    title=f"Stripe drift: {run.stripe_account} could not be read",
                )
            )
        elif run.value is not None and not run.value.in_sync:
            shown = render_github(
                run.value,
                locations=fleet.locations.get(run.stripe_account),
                account=run.stripe_account,
            )
            lines.extend(shown.splitlines()[:-1])  # not the account's own summary line
    lines.append(fleet.summary_line())
    return "\n".join(lines) + "\n"


def render_drift(fleet: FleetDrift, output_format: str, *, color: bool = False) -> str:
    """The fleet's drift in one of ``drift``'s formats (text, json, markdown, github)."""
    if output_format == "text":
        return render_drift_text(fleet, color=color)
    if output_format == "json":
        return json.dumps(drift_document(fleet), indent=2, ensure_ascii=False) + "\n"
    if output_format == "markdown":
        return render_drift_markdown(fleet)
    if output_format == "github":
        return render_drift_github(fleet)
    raise ValueError(f"unknown drift format {output_format!r}")


def fleet_alert_text(fleet: FleetDrift) -> str:
    """The Slack-compatible message: the fleet's summary, then each drifted or unreadable
    account with its own summary (the first :data:`_ALERT_ACCOUNTS`)."""
    lines = [f":warning: *Stripe drift* in a fleet ({fleet.mode} mode): {fleet.summary_line()}"]
    noisy = [run for run in fleet.runs if _status(run) != "in_sync"]
    for run in noisy[:_ALERT_ACCOUNTS]:
        if run.error is not None:
            lines.append(f"• `{run.stripe_account}` could not be read: {error_text(run.error)}")
        else:
            assert run.value is not None
            lines.append(f"• `{run.stripe_account}`: {summary_line(run.value)}")
    if len(noisy) > _ALERT_ACCOUNTS:
        lines.append(f"…and {len(noisy) - _ALERT_ACCOUNTS} more (see the `accounts` list).")
    return "\n".join(lines)


def build_fleet_payload(fleet: FleetDrift, alert_format: str = "slack") -> dict[str, Any]:
    """The one alert of a fleet: ``slack`` gives ``{"text", "accounts": [{"stripe_account",
    "drift"}]}`` for the accounts that drifted; ``json`` the fleet's whole drift document."""
    text = fleet_alert_text(fleet)
    if alert_format == "slack":
        return {
            "text": slack_escape(text),
            "accounts": [
                {
                    "stripe_account": run.stripe_account,
                    "drift": [drift_entry(d) for d in run.value.drift] if run.value else [],
                    "error": error_document(run.error),
                }
                for run in fleet.runs
                if _status(run) != "in_sync"
            ],
        }
    if alert_format == "json":
        return {"text": text, **drift_document(fleet)}
    raise UsageError(f"unknown alert format {alert_format!r}; choose slack or json.")

"""``stripe-reconciler drift PATHS…``: read-only comparison for schedules, with alerts.

Exit codes: 0 in sync, 2 drift, 1 error. Every failure to read the account (authentication,
network, a malformed answer) raises and exits 1: an unreadable account is never "in sync". When
an alert cannot be delivered, the report has already been printed and the exit code is 1, so the
scheduler notices the broken alerting as well.

Read-only by construction: the comparison (:func:`reconciler.api.drift_account`) is handed a
:class:`~reconciler.drift.readonly.ReadOnlyClient`, which refuses anything but GET.
"""

from __future__ import annotations

import logging
import os

import click

from reconciler.cli.common import connection, load_desired
from reconciler.cli.main import GlobalOptions
from reconciler.cli.options import (
    fleet_options,
    format_option,
    manifest_loading_options,
    paths_argument,
)
from reconciler.drift.alert import ALERT_FORMATS, build_payload, deliver_alert, validate_alert_url
from reconciler.drift.model import DriftReport
from reconciler.drift.render import FORMATS, render, render_markdown
from reconciler.errors import AlertError, UsageError

logger = logging.getLogger(__name__)

EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


def _append_step_summary(report: DriftReport) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(render_markdown(report) + "\n")
    except OSError as error:
        # The annotations and exit code still carry the result; a summary is a convenience.
        click.echo(f"Warning: could not append the job summary to {path}: {error}", err=True)


@click.command("drift")
@paths_argument(required=False)
@format_option(
    FORMATS,
    help="text, json (stable, versioned), markdown, or github (a warning at each resource's "
    "manifest line, and the markdown report appended to the job summary).",
)
@click.option(
    "--alert-url",
    envvar="STRIPE_RECONCILER_ALERT_URL",
    show_envvar=True,
    metavar="URL",
    help="POST a JSON alert here when drift is found (https; http only for loopback). "
    "Prefer the variable: webhook URLs are credentials.",
)
@click.option(
    "--alert-format",
    type=click.Choice(ALERT_FORMATS),
    default="slack",
    show_default=True,
    help="slack: {text, drift}; json: the drift JSON document plus text.",
)
@manifest_loading_options()
@fleet_options()
@click.pass_obj
def drift(
    options: GlobalOptions,
    paths: tuple[str, ...],
    output_format: str,
    alert_url: str | None,
    alert_format: str,
    recursive: bool,
    allow_unknown_events: bool,
    fleet_file: str | None,
    shard: str | None,
    accounts: tuple[str, ...],
) -> int:
    """Compare the account with the manifests without changing anything.

    Exit 0 in sync, 2 drift, 1 error (an unreadable account is never reported as in sync).
    """
    if alert_url:
        validate_alert_url(alert_url)  # a typo should fail now, not after the nightly check
    if fleet_file is not None or shard is not None or accounts:
        from reconciler.cli import fleet  # the fleet engine only when asked for

        chosen = fleet.selection(fleet_file, shard, accounts, paths=paths)
        assert chosen is not None  # without --fleet, selection refused the options
        return fleet.drift(
            options,
            chosen,
            output_format=output_format,
            alert_url=alert_url,
            alert_format=alert_format,
            recursive=recursive,
            allow_unknown_events=allow_unknown_events,
        )
    if not paths:
        raise UsageError("give manifest PATHS to compare, or --fleet FILE")
    desired = load_desired(paths, recursive=recursive, allow_unknown_events=allow_unknown_events)
    report = connection(options).drift(desired)
    shown = render(report, output_format, color=options.color, locations=desired.locations)
    click.echo(shown, nl=False)
    if output_format == "github":
        _append_step_summary(report)
    if report.in_sync:
        return EXIT_IN_SYNC
    if alert_url:
        try:
            deliver_alert(alert_url, build_payload(report, alert_format))
        except AlertError as error:
            click.echo(f"Error: {error}", err=True)
            return EXIT_ERROR
        click.echo("Drift alert sent.", err=True)
    return EXIT_DRIFT

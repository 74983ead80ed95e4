"""``stripe-reconciler drift PATHS…``: read-only comparison for schedules, with alerts.

Exit codes: 0 in sync, 2 drift, 1 error. Every failure to read the account (authentication,
network, a malformed answer) raises and exits 1: an unreadable account is never "in sync". When
an alert cannot be delivered, the report has already been printed and the exit code is 1, so the
scheduler notices the broken alerting as well.

Read-only by construction: the commands here never hold a client that can write. The Stripe
client lives inside :func:`read_only_session`, which hands out a
:class:`~reconciler.drift.readonly.ReadOnlyClient` only.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import click
import httpx

from reconciler.cli.common import check_account, client_config, guard_mode, load_desired
from reconciler.cli.main import GlobalOptions
from reconciler.cli.options import format_option, manifest_loading_options, paths_argument
from reconciler.drift.alert import ALERT_FORMATS, build_payload, deliver_alert, validate_alert_url
from reconciler.drift.check import check_drift
from reconciler.drift.model import DriftReport
from reconciler.drift.readonly import ReadOnlyClient
from reconciler.drift.render import FORMATS, render, render_markdown
from reconciler.errors import AlertError, PermissionDeniedError
from reconciler.manifest.model import Manifest
from reconciler.stripe import StripeClient, StripeConfig

logger = logging.getLogger(__name__)

EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


@dataclass(frozen=True)
class Session:
    """What a read-only command may use: GETs, and the account the key reaches."""

    client: ReadOnlyClient
    account_id: str | None
    stripe_account: str | None


@asynccontextmanager
async def read_only_session(
    config: StripeConfig,
    manifest: Manifest | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Session]:
    """Open a Stripe client, find the account (a GET), and expose only a read-only view.

    A pinned ``account.id`` is checked and a mismatch raises. Otherwise the account id only
    labels the report, so a restricted key without permission to read the account (403) still
    works; the report then says "account".
    """
    async with StripeClient(config, transport) as client:
        if manifest is not None and manifest.account.id is not None:
            account_id = await check_account(client, manifest, need_id=True)
        else:
            try:
                account_id = await client.whoami()
            except PermissionDeniedError:
                logger.info("the key may not read the account; reporting without its id")
                account_id = None
        yield Session(ReadOnlyClient(client), account_id, config.stripe_account)


async def _check(options: GlobalOptions, manifest: Manifest) -> DriftReport:
    mode = guard_mode(options.api_key, manifest, key_source=options.api_key_source)
    async with read_only_session(client_config(options, manifest), manifest) as session:
        return await check_drift(
            manifest,
            session.client,
            account_id=session.account_id,
            mode=mode,
            stripe_account=session.stripe_account,
        )


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
@paths_argument()
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
@click.pass_obj
def drift(
    options: GlobalOptions,
    paths: tuple[str, ...],
    output_format: str,
    alert_url: str | None,
    alert_format: str,
    recursive: bool,
    allow_unknown_events: bool,
) -> int:
    """Compare the account with the manifests without changing anything.

    Exit 0 in sync, 2 drift, 1 error (an unreadable account is never reported as in sync).
    """
    if alert_url:
        validate_alert_url(alert_url)  # a typo should fail now, not after the nightly check
    desired = load_desired(paths, recursive=recursive, allow_unknown_events=allow_unknown_events)
    report = asyncio.run(_check(options, desired.manifest))
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

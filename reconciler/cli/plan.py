"""``stripe-reconciler plan PATHS…``: fetch live state, diff, print the plan, optionally save it.

With ``--fleet FILE`` the same for every account of a fleet (:mod:`reconciler.cli.fleet`).

The plan goes to stdout in the chosen format; ``--out FILE`` also writes the self-contained plan
file that ``apply --plan`` executes. Exit codes: 0 ok, 1 error; with ``--detailed-exitcode`` 0 no
changes, 2 changes.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.atomic import write_text_atomically
from reconciler.cli.common import connection, load_desired
from reconciler.cli.main import GlobalOptions
from reconciler.cli.options import (
    fleet_options,
    force_option,
    format_option,
    manifest_loading_options,
    paths_argument,
    target_option,
)
from reconciler.errors import PlanFileError, UsageError
from reconciler.plan.render import build_view, render


@click.command("plan")
@paths_argument(required=False)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    help="Also save the plan to this file for `apply --plan` (no key or secret is stored).",
)
@format_option(
    ["text", "json", "markdown"],
    help="text for terminals, markdown for pull-request comments, json for tools.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are."
)
@target_option(
    help="Limit the plan to this address (e.g. webhook_endpoints.orders) or kind. Repeatable."
)
@manifest_loading_options()
@force_option()
@fleet_options()
@click.pass_obj
def plan(
    options: GlobalOptions,
    paths: tuple[str, ...],
    out: str | None,
    output_format: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    recursive: bool,
    allow_unknown_events: bool,
    force: bool,
    fleet_file: str | None,
    shard: str | None,
    accounts: tuple[str, ...],
) -> int:
    """Show what apply would change in Stripe to match the manifests."""
    if fleet_file is not None or shard is not None or accounts:
        from reconciler.cli import fleet  # the fleet engine only when asked for

        chosen = fleet.selection(fleet_file, shard, accounts, paths=paths)
        assert chosen is not None  # without --fleet, selection refused the options
        return fleet.plan(
            options,
            chosen,
            out=out,
            output_format=output_format,
            detailed_exitcode=detailed_exitcode,
            targets=targets,
            recursive=recursive,
            allow_unknown_events=allow_unknown_events,
            force=force,
        )
    if not paths:
        raise UsageError("give manifest PATHS to plan, or --fleet FILE")
    desired = load_desired(paths, recursive=recursive, allow_unknown_events=allow_unknown_events)
    planned = connection(options).plan(desired, targets=targets, need_account_id=out is not None)
    secrets = (options.api_key or "",)
    view = build_view(planned.plan, secrets=secrets)
    click.echo(render(view, output_format, color=options.color), nl=False)
    # shown first, refused after: the reviewer sees what the safety rule is about
    planned.check_safety(force=force)
    if out is not None:
        from reconciler.plan.planfile import dump_plan_file

        plan_file = planned.plan_file()
        _write_atomically(Path(out), dump_plan_file(plan_file, secrets=secrets))
        click.echo(f"Saved the plan to {out} (checksum {plan_file.checksum[:12]}).", err=True)
    return 2 if detailed_exitcode and planned.has_changes else 0


def _write_atomically(path: Path, text: str) -> None:
    try:
        write_text_atomically(path, text)
    except OSError as error:
        raise PlanFileError(f"cannot write the plan file {path}: {error.strerror}") from None

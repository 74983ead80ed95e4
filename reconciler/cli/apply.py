"""``stripe-reconciler apply PATHS…`` or ``apply --plan FILE``: execute, idempotently.

Without a saved plan, apply plans first, shows the plan and asks for ``yes`` on a terminal
(``--auto-approve`` for CI; without a terminal and without it, apply refuses). A saved plan was
reviewed already, so it runs without a prompt (as in Terraform) once it passes the account, mode
and staleness checks. Progress goes to stdout, one line per action as it starts and ends.
Exit codes: 0 applied (or nothing to do), 1 error, refusal or partial failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.api import secret_sinks
from reconciler.apply.progress import ProgressEvent
from reconciler.cli.common import connection, load_desired
from reconciler.cli.main import GlobalOptions
from reconciler.cli.options import (
    fleet_options,
    force_option,
    manifest_loading_options,
    paths_argument,
    target_option,
)
from reconciler.errors import PlanFileError, UsageError
from reconciler.manifest import DesiredState
from reconciler.plan.model import Plan
from reconciler.plan.planfile import PlanFile

if TYPE_CHECKING:
    from reconciler.fleet.planfile import FleetPlanFile
from reconciler.plan.render import build_view, render

_VERBS = {
    "create": ("Creating", "created"),
    "update": ("Updating", "updated"),
    "adopt": ("Adopting", "adopted"),
    "replace": ("Replacing", "replaced"),
    "delete": ("Deleting", "deleted"),
    "expire": ("Expiring", "expired"),
}


def _read_plan_file(path: str) -> PlanFile | FleetPlanFile:
    from reconciler.fleet.planfile import load_any_plan_file

    try:
        raw = Path(path).read_bytes()  # decoded (or refused) by load_plan_file
    except OSError as error:
        raise PlanFileError(f"cannot read the plan file {path}: {error.strerror}") from None
    return load_any_plan_file(raw)


def progress_line(event: ProgressEvent) -> tuple[str, bool]:
    """The line a progress event prints, and whether it goes to stderr (a failure)."""
    doing, done = _VERBS.get(event.action, (event.action, event.action))
    if event.event == "start":
        ident = f" {event.stripe_id}" if event.stripe_id else ""
        return f"{event.address}: {doing}{ident}...", False
    if event.event == "end":
        ident = f" [id={event.stripe_id}]" if event.stripe_id else ""
        return f"{event.address}: {done.capitalize()} after {event.elapsed or 0:.1f}s{ident}", False
    if event.event == "fail":
        # The reason is in the error apply ends with, which lists every failure; printing it
        # here too showed each (possibly long) message twice.
        return (
            f"{event.address}: {event.action} failed after {event.elapsed or 0:.1f}s "
            "(the error below says why)",
            True,
        )
    return f"{event.address}: {event.message}", False


def _print_event(event: ProgressEvent) -> None:
    line, to_stderr = progress_line(event)
    click.echo(line, err=to_stderr)


def _confirmer(auto_approve: bool, saved: bool) -> Callable[[Plan], bool]:
    def confirm(plan: Plan) -> bool:
        if auto_approve or saved:
            return True
        if not sys.stdin.isatty():
            raise UsageError(
                "refusing to apply without confirmation: stdin is not a terminal. Review the "
                "plan above and re-run with --auto-approve, or apply a saved plan with --plan"
            )
        answer = click.prompt(
            "Apply these changes? Only 'yes' is accepted",
            default="",
            show_default=False,
        )
        return bool(answer.strip() == "yes")

    return confirm


@click.command("apply")
@paths_argument(required=False)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=str),
    help="Apply this saved plan (from `plan --out`) instead of manifests; refused when stale.",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (for CI).")
@click.option(
    "--secrets-file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Merge new webhook signing secrets into this 0600 file (dotenv; JSON if *.json).",
)
@click.option(
    "--secrets-command",
    metavar="CMD",
    help="Run CMD (via the shell) for each new signing secret, with JSON on its stdin.",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="How many independent actions may write at the same time.",
)
@force_option()
@target_option(
    help="Limit apply to this address or kind (manifests only; a saved plan keeps its own)."
)
@manifest_loading_options()
@fleet_options()
@click.pass_obj
def apply(
    options: GlobalOptions,
    paths: tuple[str, ...],
    plan_path: str | None,
    auto_approve: bool,
    secrets_file: str | None,
    secrets_command: str | None,
    parallelism: int,
    force: bool,
    targets: tuple[str, ...],
    recursive: bool,
    allow_unknown_events: bool,
    fleet_file: str | None,
    shard: str | None,
    accounts: tuple[str, ...],
) -> int:
    """Change Stripe to match the manifests (or a saved, reviewed plan)."""
    from reconciler.cli import fleet
    from reconciler.fleet.planfile import FleetPlanFile

    if plan_path and (paths or fleet_file):
        raise UsageError("give either manifest PATHS, --fleet FILE or --plan FILE, not two")
    if not plan_path and not paths and not fleet_file:
        raise UsageError("give manifest PATHS to plan and apply, --fleet FILE, or --plan FILE")
    if plan_path and targets:
        raise UsageError("--target cannot change a saved plan; make the plan with --target")
    saved = _read_plan_file(plan_path) if plan_path else None
    sinks = secret_sinks(
        secrets_file=secrets_file, secrets_command=secrets_command, echo=click.echo
    )
    fleet_plan = saved is not None and not isinstance(saved, PlanFile)
    if fleet_file is not None or shard is not None or accounts or fleet_plan:
        from reconciler.cli import fleet  # the fleet engine only when asked for
        from reconciler.fleet.planfile import FleetPlanFile

        chosen = fleet.selection(fleet_file, shard, accounts, paths=paths, saved_plan=fleet_plan)
        assert chosen is not None  # without a fleet, selection refused the options
        return fleet.apply(
            options,
            chosen,
            saved=saved if isinstance(saved, FleetPlanFile) else None,
            sinks=sinks,
            auto_approve=auto_approve,
            parallelism=parallelism,
            force=force,
            targets=targets,
            recursive=recursive,
            allow_unknown_events=allow_unknown_events,
        )
    source: PlanFile | DesiredState
    if saved is not None:
        assert isinstance(saved, PlanFile)
        source = saved
    else:
        source = load_desired(paths, recursive=recursive, allow_unknown_events=allow_unknown_events)
    secrets = (options.api_key or "",)

    def show(plan: Plan) -> None:
        click.echo(render(build_view(plan, secrets=secrets), "text", color=options.color), nl=False)

    outcome = connection(options).apply(
        source,
        sinks=sinks,
        targets=targets,
        force=force,
        parallelism=parallelism,
        show_plan=show,
        confirm=_confirmer(auto_approve, isinstance(source, PlanFile)),
        on_event=_print_event,
    )
    if outcome.declined:
        click.echo("Apply cancelled; nothing was changed.", err=True)
        return 1
    if outcome.result is None:
        return 0
    if not outcome.result.ok:
        raise outcome.result.error()
    click.echo(outcome.result.summary_line())
    return 0

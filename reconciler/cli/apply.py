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

import click

from reconciler.api import secret_sinks
from reconciler.apply.progress import ProgressEvent
from reconciler.cli.common import connection, load_desired
from reconciler.cli.main import GlobalOptions
from reconciler.cli.options import (
    force_option,
    manifest_loading_options,
    paths_argument,
    target_option,
)
from reconciler.errors import PlanFileError, UsageError
from reconciler.manifest import DesiredState
from reconciler.plan.model import Plan
from reconciler.plan.planfile import PlanFile, load_plan_file
from reconciler.plan.render import build_view, render

_VERBS = {
    "create": ("Creating", "created"),
    "update": ("Updating", "updated"),
    "adopt": ("Adopting", "adopted"),
    "replace": ("Replacing", "replaced"),
    "delete": ("Deleting", "deleted"),
    "expire": ("Expiring", "expired"),
}


def _read_plan_file(path: str) -> PlanFile:
    try:
        raw = Path(path).read_bytes()  # decoded (or refused) by load_plan_file
    except OSError as error:
        raise PlanFileError(f"cannot read the plan file {path}: {error.strerror}") from None
    return load_plan_file(raw)


def _print_event(event: ProgressEvent) -> None:
    doing, done = _VERBS.get(event.action, (event.action, event.action))
    if event.event == "start":
        ident = f" {event.stripe_id}" if event.stripe_id else ""
        click.echo(f"{event.address}: {doing}{ident}...")
    elif event.event == "end":
        ident = f" [id={event.stripe_id}]" if event.stripe_id else ""
        click.echo(f"{event.address}: {done.capitalize()} after {event.elapsed or 0:.1f}s{ident}")
    elif event.event == "fail":
        # The reason is in the error apply ends with, which lists every failure; printing it
        # here too showed each (possibly long) message twice.
        click.echo(
            f"{event.address}: {event.action} failed after {event.elapsed or 0:.1f}s "
            "(the error below says why)",
            err=True,
        )
    else:
        click.echo(f"{event.address}: {event.message}")


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
) -> int:
    """Change Stripe to match the manifests (or a saved, reviewed plan)."""
    if plan_path and paths:
        raise UsageError("give either manifest PATHS or --plan FILE, not both")
    if not plan_path and not paths:
        raise UsageError("give manifest PATHS to plan and apply, or --plan FILE")
    if plan_path and targets:
        raise UsageError("--target cannot change a saved plan; make the plan with --target")
    source: PlanFile | DesiredState
    if plan_path:
        source = _read_plan_file(plan_path)
    else:
        source = load_desired(paths, recursive=recursive, allow_unknown_events=allow_unknown_events)
    secrets = (options.api_key or "",)

    def show(plan: Plan) -> None:
        click.echo(render(build_view(plan, secrets=secrets), "text", color=options.color), nl=False)

    outcome = connection(options).apply(
        source,
        sinks=secret_sinks(
            secrets_file=secrets_file, secrets_command=secrets_command, echo=click.echo
        ),
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

"""The ``--fleet FILE`` side of ``plan``, ``apply``, ``drift`` and ``export``.

Each function is the fleet twin of its command's body: it calls the fleet API
(:mod:`reconciler.fleet`), prints what it returns and maps the outcome to the command's exit
code. Accounts that fail are shown in the output where their section is; then one
:class:`~reconciler.errors.FleetError` names them, so the command exits 1 as any error does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler import fleet
from reconciler.cli.main import GlobalOptions
from reconciler.errors import AlertError, FleetError, PlanFileError, UsageError
from reconciler.fleet.select import Shard

if TYPE_CHECKING:  # the fleet engine is loaded when a fleet runs, not for every plan
    from reconciler.apply.progress import ProgressEvent
    from reconciler.apply.secrets import SecretSinks
    from reconciler.fleet.session import AccountRun
    from reconciler.manifest import Diagnostic
    from reconciler.plan.model import Plan


@dataclass(frozen=True)
class Selection:
    """The fleet options of a command: the fleet file (or None: a saved plan), a shard and
    accounts to narrow to."""

    fleet_file: str | None
    shard: Shard | None = None
    accounts: tuple[str, ...] = ()


def selection(
    fleet_file: str | None,
    shard: str | None,
    accounts: Sequence[str],
    *,
    paths: Sequence[str] = (),
    saved_plan: bool = False,
) -> Selection | None:
    """The parsed fleet options, or None for a single-account run (where they are refused)."""
    if fleet_file is None and not saved_plan:
        if shard is not None or accounts:
            raise UsageError(
                "--shard and --accounts choose accounts of a fleet; give --fleet FILE as well"
            )
        return None
    if fleet_file is not None and paths:
        raise UsageError("give either manifest PATHS or --fleet FILE, not both")
    return Selection(
        fleet_file,
        fleet.parse_shard(shard) if shard is not None else None,
        fleet.parse_accounts(accounts) if accounts else (),
    )


def _echo_warnings(warnings: Sequence[Diagnostic]) -> None:
    for warning in warnings:
        click.echo(str(warning), err=True)


def _failed(runs: Sequence[AccountRun[Any]], what: str) -> FleetError:
    names = ", ".join(run.stripe_account for run in runs[:10])
    more = f" and {len(runs) - 10} more" if len(runs) > 10 else ""
    noun = "account" if len(runs) == 1 else "accounts"
    return FleetError(f"{len(runs)} {noun} of the fleet {what}: {names}{more} (see above)")


def _load(selection: Selection) -> fleet.Fleet:
    assert selection.fleet_file is not None
    return fleet.load_fleet(selection.fleet_file)


# -- plan -----------------------------------------------------------------------------------------


def plan(
    options: GlobalOptions,
    selection: Selection,
    *,
    out: str | None,
    output_format: str,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    recursive: bool,
    allow_unknown_events: bool,
    force: bool,
) -> int:
    from reconciler.atomic import write_text_atomically
    from reconciler.cli.common import connection
    from reconciler.fleet.render import render_plan

    planned = fleet.plan(
        connection(options),
        _load(selection),
        accounts=selection.accounts,
        shard=selection.shard,
        targets=targets,
        need_account_id=out is not None,
        force=force,
        recursive=recursive,
        allow_unknown_events=allow_unknown_events,
        on_loaded=_echo_warnings,
    )
    secrets = (options.api_key or "",)
    click.echo(render_plan(planned, output_format, color=options.color, secrets=secrets), nl=False)
    if out is not None:
        saved = planned.plan_file()
        text = fleet.dump_fleet_plan_file(saved, secrets=secrets)
        try:
            write_text_atomically(Path(out), text)
        except OSError as error:
            raise PlanFileError(f"cannot write the plan file {out}: {error.strerror}") from None
        left_out = f" ({len(planned.failed)} failed, not in it)" if planned.failed else ""
        click.echo(
            f"Saved the plan of {len(saved.parts)} accounts to {out}{left_out} "
            f"(checksum {saved.checksum[:12]}).",
            err=True,
        )
    if planned.failed:
        raise _failed(planned.failed, "could not be planned or were refused")
    return 2 if detailed_exitcode and planned.has_changes else 0


# -- apply ----------------------------------------------------------------------------------------


def _progress(account: str, event: ProgressEvent) -> None:
    from reconciler.cli.apply import progress_line

    line, to_stderr = progress_line(event)
    click.echo(f"{account}: {line}", err=to_stderr)


def apply(
    options: GlobalOptions,
    selection: Selection,
    *,
    saved: fleet.FleetPlanFile | None,
    sinks: SecretSinks,
    auto_approve: bool,
    parallelism: int,
    force: bool,
    targets: tuple[str, ...],
    recursive: bool,
    allow_unknown_events: bool,
) -> int:
    """A saved fleet plan (each account's part refused alone when stale), or the fleet's
    manifests: with ``--auto-approve`` each account is planned and applied in one go; on a
    terminal the whole fleet is planned, shown and confirmed once, then applied as reviewed."""
    from reconciler.cli.common import connection
    from reconciler.fleet.render import indent, render_apply_report, render_plan
    from reconciler.plan.render import build_view, render_text

    platform = connection(options)
    secrets = (options.api_key or "",)
    source: fleet.Fleet | fleet.FleetPlan | fleet.FleetPlanFile
    unplanned: tuple[AccountRun[Any], ...] = ()
    if saved is not None:
        source = saved
    elif auto_approve:
        source = _load(selection)
    else:
        if not _is_terminal():
            raise UsageError(
                "refusing to apply without confirmation: stdin is not a terminal. Review the "
                "plan with plan --fleet and re-run with --auto-approve, or apply a saved plan "
                "with --plan"
            )
        planned = fleet.plan(
            platform,
            _load(selection),
            accounts=selection.accounts,
            shard=selection.shard,
            targets=targets,
            need_account_id=True,
            force=force,
            recursive=recursive,
            allow_unknown_events=allow_unknown_events,
            on_loaded=_echo_warnings,
        )
        click.echo(render_plan(planned, "text", color=options.color, secrets=secrets), nl=False)
        # the accounts that could not be planned are not applied, the others may be
        unplanned = planned.failed
        if not any(run.error is None for run in planned.with_changes):
            if unplanned:
                raise _failed(unplanned, "could not be planned or were refused")
            return 0
        answer = click.prompt(
            "Apply these changes to every account above that has a plan? Only 'yes' is accepted",
            default="",
            show_default=False,
        )
        if answer.strip() != "yes":
            click.echo("Apply cancelled; nothing was changed.", err=True)
            return 1
        source = planned

    def show(account: str, plan: Plan) -> None:
        if plan.has_changes and isinstance(source, fleet.Fleet):
            shown = render_text(build_view(plan, secrets=secrets), color=options.color)
            click.echo(f"{account}:\n{indent(shown)}")

    applied = fleet.apply(
        platform,
        source,
        sinks,
        accounts=selection.accounts if not isinstance(source, fleet.FleetPlan) else (),
        shard=selection.shard if not isinstance(source, fleet.FleetPlan) else None,
        targets=targets,
        force=force,
        parallelism=parallelism,
        show_plan=show,
        on_event=_progress,
        recursive=recursive,
        allow_unknown_events=allow_unknown_events,
        on_loaded=_echo_warnings,
    )
    click.echo(render_apply_report(applied, secrets=secrets), nl=False)
    if applied.failed or unplanned:
        raise _failed((*unplanned, *applied.failed), "did not apply")
    return 0


def _is_terminal() -> bool:
    """Whether a person can answer the confirmation (stdin is a terminal)."""
    return sys.stdin.isatty()


# -- drift ----------------------------------------------------------------------------------------


def drift(
    options: GlobalOptions,
    selection: Selection,
    *,
    output_format: str,
    alert_url: str | None,
    alert_format: str,
    recursive: bool,
    allow_unknown_events: bool,
) -> int:
    from reconciler.cli.common import connection
    from reconciler.drift.alert import deliver_alert
    from reconciler.fleet.drift_report import (
        build_fleet_payload,
        render_drift,
        render_drift_markdown,
    )

    checked = fleet.drift(
        connection(options),
        _load(selection),
        accounts=selection.accounts,
        shard=selection.shard,
        recursive=recursive,
        allow_unknown_events=allow_unknown_events,
        on_loaded=_echo_warnings,
    )
    click.echo(render_drift(checked, output_format, color=options.color), nl=False)
    if output_format == "github":
        _append_step_summary(render_drift_markdown(checked))
    if checked.in_sync:
        return 0
    if alert_url:
        try:
            deliver_alert(alert_url, build_fleet_payload(checked, alert_format))
        except AlertError as error:
            click.echo(f"Error: {error}", err=True)
            return 1
        click.echo("Drift alert sent.", err=True)
    if checked.failed:
        raise _failed(checked.failed, "could not be checked")
    return 2


def _append_step_summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(text + "\n")
    except OSError as error:
        click.echo(f"Warning: could not append the job summary to {path}: {error}", err=True)


# -- export ---------------------------------------------------------------------------------------


def export(
    options: GlobalOptions,
    selection: Selection,
    *,
    out: Path | None,
    kinds: tuple[str, ...],
    adopt: bool,
    force: bool,
) -> int:
    from reconciler.cli.common import connection
    from reconciler.cli.export import summary_text
    from reconciler.export.write import plan_files, write_files

    if out is None:
        raise UsageError("export --fleet writes a directory per account: pass --out DIRECTORY")
    exported = fleet.export(
        connection(options),
        _load(selection),
        accounts=selection.accounts,
        shard=selection.shard,
        kinds=kinds,
        adopt=adopt,
    )
    files: dict[Path, str] = {}
    for run in exported.runs:
        if run.value is not None:
            files.update(plan_files(run.value, kinds, out / run.stripe_account))
    written = write_files(files, force=force)
    for run in exported.runs:
        if run.value is not None:
            for warning in run.value.warnings:
                click.echo(f"Warning: {run.stripe_account}: {warning}", err=True)
            click.echo(f"{run.stripe_account}: {summary_text(run.value, kinds)}", err=True)
        elif run.error is not None:
            click.echo(f"{run.stripe_account}: failed: {run.error}", err=True)
    click.echo(f"Wrote {len(written)} files under {out}.", err=True)
    click.echo(exported.summary_line(), err=True)
    if exported.failed:
        raise _failed(exported.failed, "could not be exported")
    return 0

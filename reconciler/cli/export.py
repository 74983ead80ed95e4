"""``stripe-reconciler export``: manifests from the live account (adopting existing configuration).

Read-only like ``drift`` (:func:`reconciler.api.export_account` reads through a client that can
only send GETs). The
output plans back to ``No changes.`` against the same account; with ``--adopt``, untagged webhook
endpoints are declared too, and the plan adopts (tags) them. Existing files are never replaced
without ``--force``. Exit 0 written, 1 error.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import connection
from reconciler.cli.main import GlobalOptions
from reconciler.cli.options import fleet_options, force_option
from reconciler.errors import UsageError
from reconciler.export.build import KINDS, Export
from reconciler.export.write import plan_files, render_manifest, schema_ref, write_files


def parse_kinds(value: str) -> tuple[str, ...]:
    """``webhook_endpoints,tax_settings`` → the kinds, in canonical order; unknown ones refused."""
    asked = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [kind for kind in asked if kind not in KINDS]
    if unknown or not asked:
        raise UsageError(
            f"--kinds: unknown kind(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(KINDS)}"
        )
    return tuple(kind for kind in KINDS if kind in asked)


def summary_text(export: Export, kinds: tuple[str, ...]) -> str:
    """What export wrote, in one sentence (per account in a fleet)."""
    from reconciler.resources.registry import spec_of

    parts = []
    aside = []
    for kind in kinds:
        spec, section = spec_of(kind), export.section(kind)
        if spec.listed:
            parts.append(f"{len(section or {})} {spec.noun}(s)")
        else:
            parts.append(spec.noun if section is not None else f"no {spec.noun}")
        if export.untagged.get(kind):
            aside.append(f"{len(export.untagged[kind])} untagged {spec.short}(s)")
    text = "Exported " + ", ".join(parts)
    if aside:
        text += f"; {', '.join(aside)} left unmanaged (listed as comments; --adopt declares them)"
    return text + "."


@click.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="A .yaml/.yml file, or a directory (one file per kind). Default: stdout.",
)
@click.option(
    "--kinds",
    default=",".join(KINDS),
    show_default=True,
    help="Comma-separated kinds to export.",
)
@click.option(
    "--adopt",
    is_flag=True,
    help="Also declare untagged webhook endpoints (named from their URL); plan then adopts them.",
)
@force_option(help="Replace existing files at --out.")
@fleet_options()
@click.pass_obj
def export(
    options: GlobalOptions,
    out: Path | None,
    kinds: str,
    adopt: bool,
    force: bool,
    fleet_file: str | None,
    shard: str | None,
    accounts: tuple[str, ...],
) -> int:
    """Write manifests describing the live account, ready to commit and plan."""
    chosen = parse_kinds(kinds)
    if fleet_file is not None or shard is not None or accounts:
        from reconciler.cli import fleet  # the fleet engine only when asked for

        selected = fleet.selection(fleet_file, shard, accounts)
        assert selected is not None  # without --fleet, selection refused the options
        return fleet.export(options, selected, out=out, kinds=chosen, adopt=adopt, force=force)
    result = connection(options).export(kinds=chosen, adopt=adopt)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if out is None:
        click.echo(render_manifest(result, chosen, schema_ref(Path.cwd())), nl=False)
        click.echo(summary_text(result, chosen), err=True)
        return 0
    written = write_files(plan_files(result, chosen, out), force=force)
    click.echo(summary_text(result, chosen), err=True)
    for path in written:
        click.echo(f"Wrote {path}", err=True)
    return 0

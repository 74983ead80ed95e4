"""``stripe-reconciler schema [--fleet] [--out FILE]``: the JSON Schema of manifest files (or of
fleet files), generated from the models."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.atomic import write_text_atomically
from reconciler.errors import UsageError
from reconciler.manifest.schema import render_schema


@click.command("schema")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to FILE (atomically) instead of stdout.",
)
@click.option("--fleet", is_flag=True, help="The schema of fleet files instead of manifests.")
def schema(out: Path | None, fleet: bool) -> int:
    """Print (or write) the JSON Schema of manifest files, for editors and other tools."""
    if fleet:
        from reconciler.fleet.schema import render_fleet_schema

        text = render_fleet_schema()
    else:
        text = render_schema()
    if out is None:
        click.echo(text, nl=False)
        return 0
    try:
        write_text_atomically(out, text)
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(f"Wrote {out}", err=True)
    return 0

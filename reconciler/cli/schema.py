"""``stripe-reconciler schema [--out FILE]``: the manifest JSON Schema generated from the models."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

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
def schema(out: Path | None) -> int:
    """Print (or write) the JSON Schema of manifest files, for editors and other tools."""
    text = render_schema()
    if out is None:
        click.echo(text, nl=False)
        return 0
    directory = out.parent if str(out.parent) else Path(".")
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, out)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(f"Wrote {out}", err=True)
    return 0

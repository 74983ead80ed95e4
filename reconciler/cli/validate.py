"""``stripe-reconciler validate PATHS…``: load and validate manifests, no network.

Text output goes to stderr, one ``file:line:col: path: message`` per diagnostic, then a summary
line (compilers and CI annotators read stderr); ``--format json`` writes one JSON document to
stdout so it can be piped; ``--format github`` writes one GitHub annotation per diagnostic to
stdout (where the runner reads workflow commands) and the summary line to stderr. Exit 0 when
valid (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import json

import click

from reconciler.cli.options import format_option, manifest_loading_options, paths_argument
from reconciler.errors import ManifestError
from reconciler.manifest import (
    Diagnostic,
    count_errors,
    diagnostics_to_github,
    diagnostics_to_json,
    load_manifests,
)


@click.command("validate")
@paths_argument()
@format_option(
    ["text", "json", "github"],
    help="text: one diagnostic per line on stderr; json: a document on stdout; github: one "
    "::error/::warning annotation per diagnostic on stdout, at its file, line and column.",
)
@manifest_loading_options(recursive_help="Search directories recursively for *.yaml/*.yml.")
def validate(
    paths: tuple[str, ...], output_format: str, recursive: bool, allow_unknown_events: bool
) -> int:
    """Check manifests without contacting Stripe; every problem is reported with its location."""
    try:
        state = load_manifests(
            list(paths), recursive=recursive, allow_unknown_events=allow_unknown_events
        )
    except ManifestError as error:
        diagnostics = [d for d in error.diagnostics if isinstance(d, Diagnostic)]
        _report(diagnostics, output_format, valid=False, resources=0)
        return 1
    from reconciler.resources import KINDS  # every kind's declared resources

    resources = sum(len(spec.declared(state.manifest)) for spec in KINDS.values())
    _report(list(state.warnings), output_format, valid=True, resources=resources)
    return 0


def _report(
    diagnostics: list[Diagnostic], output_format: str, *, valid: bool, resources: int
) -> None:
    errors = count_errors(diagnostics)
    warnings = len(diagnostics) - errors
    if output_format == "json":
        document = {
            "valid": valid,
            "error_count": errors,
            "warning_count": warnings,
            "diagnostics": diagnostics_to_json(diagnostics),
        }
        click.echo(json.dumps(document, indent=2))
        return
    if output_format == "github":
        for line in diagnostics_to_github(diagnostics):
            click.echo(line)
    else:
        for diagnostic in diagnostics:
            click.echo(str(diagnostic), err=True)
    if valid:
        noun = "resource" if resources == 1 else "resources"
        tail = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        click.echo(f"Valid: {resources} {noun} declared{tail}.", err=True)
    else:
        click.echo(
            f"Invalid: {errors} error{'s' if errors != 1 else ''}"
            f", {warnings} warning{'s' if warnings != 1 else ''}.",
            err=True,
        )

"""Desired state: manifest loading, validation, diagnostics and the JSON Schema.

Public API::

    state = load_manifests(["manifests/"], recursive=False, environ=os.environ)
    state.manifest          # Manifest: the merge of every file
    state.locations         # "webhook_endpoints.orders" → Location(file, line, column)
    state.warnings          # tuple[Diagnostic, ...]

Invalid input raises :class:`reconciler.errors.ManifestError` whose ``diagnostics`` lists every
problem of the run (errors and warnings, sorted by file, line and column).
"""

from __future__ import annotations

from reconciler.manifest.checks import RESERVED_METADATA_KEYS
from reconciler.manifest.diagnostics import (
    Diagnostic,
    Location,
    count_errors,
    diagnostics_to_github,
    diagnostics_to_json,
    format_path,
)
from reconciler.manifest.loader import DesiredState, load_manifests
from reconciler.manifest.merge import NAME_PATTERN
from reconciler.manifest.schema import manifest_json_schema

__all__ = [
    "NAME_PATTERN",
    "RESERVED_METADATA_KEYS",
    "DesiredState",
    "Diagnostic",
    "Location",
    "count_errors",
    "diagnostics_to_github",
    "diagnostics_to_json",
    "format_path",
    "load_manifests",
    "manifest_json_schema",
]

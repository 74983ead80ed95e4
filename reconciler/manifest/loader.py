"""Load a manifest set: read, parse, validate each section, merge files, run semantic checks.

Each file is validated section by section (``account``, ``policy``, every endpoint, every
registration, ``tax_settings``: the sections of :class:`~reconciler.manifest.model.Manifest`) so
that one bad key does not hide the other problems: the user gets every diagnostic of the run at
once. Merge rules: a logical name may be declared once across
all files; ``tax_settings`` once; ``account`` and ``policy`` may repeat only with equal values;
every file needs ``version: 1``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from reconciler.errors import ManifestError
from reconciler.manifest.checks import check_manifest_set
from reconciler.manifest.diagnostics import Diagnostic, Location, count_errors, format_path
from reconciler.manifest.event_destination_checks import check_destinations
from reconciler.manifest.humanize import model_diagnostics
from reconciler.manifest.merge import Entry, ManifestSet
from reconciler.manifest.model import MANIFEST_VERSION, Manifest
from reconciler.manifest.sources import SourceText, discover, read_source
from reconciler.manifest.suggest import did_you_mean
from reconciler.manifest.yamlsource import SourceMap, YamlDocumentError, parse_yaml

logger = logging.getLogger(__name__)


def _sections() -> tuple[dict[str, type[BaseModel]], dict[str, type[BaseModel]]]:
    """The manifest's sections, read from :class:`Manifest` (the one place they are declared):
    single ones (``account``, ``tax_settings``) and named ones (``webhook_endpoints``: a mapping
    of logical names to entries), each with the model one entry is validated as."""
    single: dict[str, type[BaseModel]] = {}
    named: dict[str, type[BaseModel]] = {}
    for key, info in Manifest.model_fields.items():
        annotation = info.annotation
        if get_origin(annotation) is dict:
            named[key] = get_args(annotation)[1]
            continue
        models = [t for t in (annotation, *get_args(annotation)) if _is_model(t)]
        if models:
            single[key] = models[0]
    return single, named


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


_SINGLE, _NAMED = _sections()
TOP_LEVEL_KEYS = ("version", *_SINGLE, *_NAMED)


@dataclass(frozen=True)
class DesiredState:
    """The validated, merged manifest set and where each resource was declared."""

    manifest: Manifest
    locations: Mapping[str, Location] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[Diagnostic, ...] = ()


def load_manifests(
    paths: Sequence[str | Path],
    *,
    recursive: bool = False,
    environ: Mapping[str, str] | None = None,
    allow_unknown_events: bool = False,
) -> DesiredState:
    """Load, validate and merge the manifests at ``paths`` (files or directories).

    Raises :class:`~reconciler.errors.ManifestError` carrying every diagnostic (errors and
    warnings) when anything is wrong; otherwise returns the desired state with its warnings.
    """
    env = os.environ if environ is None else environ
    files, diagnostics = discover(paths, recursive=recursive)
    manifest_set = ManifestSet(single_keys=tuple(_SINGLE), named_keys=tuple(_NAMED))
    for file in files:
        source = read_source(file)
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            continue
        diagnostics.extend(_load_file(source, env, manifest_set))
    diagnostics.extend(check_manifest_set(manifest_set, allow_unknown_events=allow_unknown_events))
    diagnostics.extend(check_destinations(manifest_set, allow_unknown_events=allow_unknown_events))
    diagnostics = _tidy(diagnostics, files)
    if count_errors(diagnostics):
        logger.debug("manifests invalid: %d diagnostics", len(diagnostics))
        raise ManifestError(list(diagnostics))
    sections: dict[str, Any] = {
        key: _model(entry, _SINGLE[key]) for key, entry in manifest_set.singles.items()
    }
    for key, model in _NAMED.items():
        sections[key] = {
            name: _model(entry, model) for name, entry in manifest_set.section(key).items()
        }
    manifest = Manifest(version=MANIFEST_VERSION, **sections)
    return DesiredState(
        manifest=manifest,
        locations=MappingProxyType(manifest_set.locations()),
        warnings=tuple(diagnostics),
    )


def _model(entry: Entry, model: type[Any]) -> Any:
    assert isinstance(entry.model, model)
    return entry.model


def _load_file(
    source: SourceText, environ: Mapping[str, str], out: ManifestSet
) -> list[Diagnostic]:
    try:
        data, smap, problems = parse_yaml(source.text, source.file, environ)
    except YamlDocumentError as error:
        return list(error.diagnostics)
    if data is None:
        return [
            Diagnostic(source.file, 1, 1, "", "file is empty; a manifest starts with 'version: 1'")
        ]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return [
            *problems,
            smap.diagnostic((), f"a manifest is a mapping of top-level keys, not {kind}"),
        ]
    problems.extend(_check_version(data, smap))
    for key, value in data.items():
        path = (key,)
        if key == "version":
            continue
        if key in _SINGLE:
            if value is None:
                continue  # "tax_settings:" with nothing under it declares nothing
            entry = _validate(_SINGLE[key], value, smap, path, problems)
            out.add_single(key, entry, problems)
        elif key in _NAMED:
            if value is None:
                continue  # "webhook_endpoints:" with nothing under it declares nothing
            if not isinstance(value, dict):
                kind = "a list" if isinstance(value, list) else "a single value"
                message = f"expected a mapping of logical names to entries, got {kind}"
                problems.append(smap.diagnostic(path, message))
                continue
            for name, item in value.items():
                entry = _validate(_NAMED[key], item, smap, (key, name), problems)
                out.add_named(key, name, entry, problems)
        else:
            hint = did_you_mean(key, TOP_LEVEL_KEYS) or f"; allowed: {', '.join(TOP_LEVEL_KEYS)}"
            problems.append(smap.diagnostic(path, f"unknown key '{key}'{hint}", key=True))
    return problems


def _check_version(data: dict[str, Any], smap: SourceMap) -> list[Diagnostic]:
    if "version" not in data:
        return [
            smap.diagnostic(
                (),
                f"missing required key 'version' (add 'version: {MANIFEST_VERSION}')",
                label=("version",),
            )
        ]
    version = data["version"]
    if version == MANIFEST_VERSION and not isinstance(version, bool):
        return []
    if isinstance(version, str) and version.strip() == str(MANIFEST_VERSION):
        message = f"write the number {MANIFEST_VERSION} without quotes"
    else:
        message = (
            f"unsupported manifest version {version!r}; this tool reads version {MANIFEST_VERSION}"
        )
    return [smap.diagnostic(("version",), message)]


def _validate(
    model: type[BaseModel],
    raw: Any,
    smap: SourceMap,
    path: tuple[str, ...],
    problems: list[Diagnostic],
) -> Entry:
    try:
        instance: BaseModel | None = model.model_validate(raw)
    except ValidationError as error:
        instance = None
        problems.extend(_untainted(model_diagnostics(error, model, raw, smap, path), smap))
    return Entry(smap=smap, path=path, raw=raw, model=instance)


def _untainted(diagnostics: list[Diagnostic], smap: SourceMap) -> list[Diagnostic]:
    """Drop follow-up errors on values whose ``${VAR}`` expansion already failed."""
    tainted = {format_path(path) for path in smap.tainted}
    return [d for d in diagnostics if d.file != smap.file or d.path not in tainted]


def _tidy(diagnostics: list[Diagnostic], files: list[str]) -> list[Diagnostic]:
    """Dedupe, then sort by file (in load order), line, column."""
    order = {file: index for index, file in enumerate(files)}
    unique = dict.fromkeys(diagnostics)
    return sorted(
        unique, key=lambda d: (order.get(d.file, -1), d.line, d.column, d.path, d.message)
    )

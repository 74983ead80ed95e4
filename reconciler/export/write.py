"""Rendering an :class:`~reconciler.export.build.Export` as manifest YAML, and writing it safely.

Output forms (``--out``):

- none: one manifest on stdout;
- a path ending in ``.yaml``/``.yml``: one manifest file;
- anything else (a directory): ``<kind>.yaml`` (``webhook_endpoints.yaml``,
  ``event_destinations.yaml``, ``tax_settings.yaml``, ``tax_registrations.yaml``), one per
  exported kind that has anything to declare, each a complete manifest (``version`` and the same
  ``account``), which the loader merges.

Existing files are never overwritten without ``force``: an export is a starting point someone
edits, and silently replacing reviewed manifests with the raw account would lose that work. Every
file is written atomically (temporary file + rename), so a failure leaves the old one intact.
Every file starts with the ``# yaml-language-server: $schema=`` line for editors.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler import __version__
from reconciler.atomic import write_text_atomically
from reconciler.errors import UsageError
from reconciler.export.build import KINDS, Export
from reconciler.resources.registry import spec_of
from reconciler.timestamps import iso_utc

SCHEMA_RELPATH = Path("schemas") / "manifest.schema.json"
_KIND_FILES = {kind: f"{kind}.yaml" for kind in KINDS}


def schema_ref(target_dir: Path, *, cwd: Path | None = None) -> str:
    """Path to the JSON Schema relative to ``target_dir``.

    The nearest ``schemas/manifest.schema.json`` at or above ``target_dir`` wins (the repository
    layout); otherwise the one ``stripe-reconciler schema --out schemas/manifest.schema.json``
    would create in the working directory.
    """
    base = target_dir.resolve()
    for folder in (base, *base.parents):
        if (folder / SCHEMA_RELPATH).is_file():
            return Path(os.path.relpath(folder / SCHEMA_RELPATH, base)).as_posix()
    origin = (cwd or Path.cwd()).resolve()
    return Path(os.path.relpath(origin / SCHEMA_RELPATH, base)).as_posix()


class _Moment(int):
    """A unix timestamp to be written as the UTC date-time plan shows (``2026-01-01T00:00:00Z``);
    the loader reads that back as the same second."""


class _Dumper(yaml.SafeDumper):
    """``safe_dump`` that also writes :class:`_Moment` values as plain YAML timestamps."""


def _represent_moment(dumper: yaml.SafeDumper, value: _Moment) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", iso_utc(int(value)) or "")


_Dumper.add_representer(_Moment, _represent_moment)


def _dated(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A registration with its timestamps as :class:`_Moment` (one no date can show stays a
    number, which validate then refuses with its reason)."""
    out = dict(spec)
    for name in ("active_from", "expires_at"):
        value = out.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and iso_utc(value):
            out[name] = _Moment(value)
    return out


def _dump(data: Mapping[str, Any]) -> str:
    text: str = yaml.dump(
        dict(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def _header(export: Export, ref: str) -> list[str]:
    account = export.account
    who = account.get("id") or "the account"
    if account.get("stripe_account"):
        who = f"{who} (connected account {account['stripe_account']})"
    return [
        f"# yaml-language-server: $schema={ref}",
        f"# Exported by stripe-reconciler {__version__} from {who}, {account['mode']} mode.",
        "# `plan` against the same account shows no changes; review, then commit.",
    ]


def _untagged_comment(kind: str, untagged: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not untagged:
        return []
    spec = spec_of(kind)
    by = spec.identity.adoption()
    lines = [
        "",
        f"# Untagged {spec.noun}s, left unmanaged. To manage them, move them under",
        f"# {kind} (or re-run export with --adopt): plan then adopts them by {by}.",
        "# Until then, plan and drift report them as unmanaged (see policy.unmanaged).",
    ]
    body = _dump({kind: dict(untagged)}).splitlines()[1:]
    lines.extend(f"# {line}" for line in body)
    return lines


#: how a kind's entries are written, where not as they are (registration times as dates)
_ENTRY_WRITERS = {"tax_registrations": _dated}


def _section(kind: str, section: Any) -> Any:
    if not spec_of(kind).listed:
        return section
    write = _ENTRY_WRITERS.get(kind, dict)
    return {name: write(entry) for name, entry in section.items()}


def render_manifest(export: Export, kinds: Iterable[str], ref: str) -> str:
    """One manifest holding the sections of ``kinds`` (in the order of :data:`KINDS`)."""
    wanted = set(kinds)
    doc: dict[str, Any] = {"version": 1, "account": dict(export.account)}
    for kind in KINDS:
        section = export.section(kind)
        if kind in wanted and section:
            doc[kind] = _section(kind, section)
    lines = [*_header(export, ref), *_dump(doc).splitlines()]
    for kind in KINDS:
        if kind in wanted:
            lines.extend(_untagged_comment(kind, export.untagged.get(kind, {})))
    return "\n".join(lines) + "\n"


def is_single_file(out: Path) -> bool:
    return out.suffix.lower() in (".yaml", ".yml") and not out.is_dir()


def plan_files(export: Export, kinds: Iterable[str], out: Path) -> dict[Path, str]:
    """Target path → content for ``out`` (see the module docstring), without writing."""
    chosen = [k for k in KINDS if k in set(kinds)]
    if is_single_file(out):
        return {out: render_manifest(export, chosen, schema_ref(out.parent))}
    ref = schema_ref(out)
    # A file per kind that has something to say; an empty manifest would only confuse.
    return {
        out / _KIND_FILES[kind]: render_manifest(export, [kind], ref)
        for kind in chosen
        if export.section(kind) or export.untagged.get(kind)
    }


def write_files(files: Mapping[Path, str], *, force: bool) -> list[Path]:
    """Write every file atomically; refuse (before writing any) if one exists and not ``force``."""
    existing = sorted(str(path) for path in files if path.exists())
    if existing and not force:
        raise UsageError(
            f"refusing to overwrite {', '.join(existing)}: export writes a fresh starting point; "
            "pass --force to replace, or choose another --out"
        )
    written: list[Path] = []
    for path, text in files.items():
        _atomic_write(path, text)
        written.append(path)
    return written


def _atomic_write(path: Path, text: str) -> None:
    try:
        write_text_atomically(path, text, parents=True)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None

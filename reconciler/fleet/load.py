"""Read a fleet file, and load the manifests of its accounts, with located diagnostics.

The fleet file is parsed like a manifest (:func:`~reconciler.manifest.yamlsource.parse_yaml`:
``file:line:col`` for every problem, ``${VAR}`` from the environment) and validated by
:class:`~reconciler.fleet.model.FleetFile`. Manifest paths are relative to the fleet file.

Each account's manifests are its fleet's plus its own overlays, expanded with the environment
and its ``vars`` over it, and loaded as one manifest set (:func:`load_manifests`). Accounts with
the same paths and variables share one load. Every account is loaded before anything talks to
Stripe, and every problem of every account is reported at once; a problem that only some
accounts have names them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from reconciler.errors import ManifestError
from reconciler.fleet.model import FleetFile
from reconciler.manifest import DesiredState, Diagnostic, count_errors, load_manifests
from reconciler.manifest.humanize import model_diagnostics
from reconciler.manifest.sources import read_source
from reconciler.manifest.yamlsource import SourceMap, YamlDocumentError, parse_yaml

#: How many accounts a diagnostic names before it says "and N more".
_NAMED_ACCOUNTS = 5


@dataclass(frozen=True)
class Member:
    """One account of the fleet: its id, the manifest paths it gets and its variables."""

    stripe_account: str
    paths: tuple[str, ...]
    vars: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: named in the fleet file (False: found among the platform's connected accounts)
    named: bool = True


@dataclass(frozen=True)
class Fleet:
    """A validated fleet file: the accounts it names and the paths every account gets."""

    file: str
    spec: FleetFile
    manifests: tuple[str, ...]
    named: tuple[Member, ...]

    def member(self, stripe_account: str) -> Member:
        """The named account, or a connected account found by listing (fleet manifests only)."""
        for member in self.named:
            if member.stripe_account == stripe_account:
                return member
        return Member(stripe_account, self.manifests, named=False)


def load_fleet(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> Fleet:
    """Read and validate the fleet file at ``path``; :class:`ManifestError` lists every problem."""
    file = os.fspath(path)
    env = os.environ if environ is None else environ
    source = read_source(file)
    if isinstance(source, Diagnostic):
        raise ManifestError([source])
    try:
        data, smap, problems = parse_yaml(source.text, source.file, env)
    except YamlDocumentError as error:
        raise ManifestError(list(error.diagnostics)) from None
    if not isinstance(data, dict):
        message = "a fleet file is a mapping with version, manifests and accounts"
        raise ManifestError([*problems, smap.diagnostic((), message)])
    try:
        spec = FleetFile.model_validate(data)
    except ValidationError as error:
        problems.extend(model_diagnostics(error, FleetFile, data, smap, ()))
        raise ManifestError(_sorted(problems)) from None
    problems.extend(_check(spec, smap))
    if count_errors(problems):
        raise ManifestError(_sorted(problems))
    base = Path(file).parent
    manifests = tuple(_relative(base, entry) for entry in spec.manifests)
    named = tuple(
        Member(
            account.stripe_account,
            (*manifests, *(_relative(base, entry) for entry in account.manifests)),
            MappingProxyType(dict(account.vars)),
        )
        for account in spec.accounts
    )
    return Fleet(file=file, spec=spec, manifests=manifests, named=named)


def _check(spec: FleetFile, smap: SourceMap) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    if not spec.accounts and spec.connected_accounts is None:
        problems.append(
            smap.diagnostic(
                (),
                "a fleet needs accounts, connected_accounts or both",
                label=("accounts",),
            )
        )
    seen: dict[str, int] = {}
    for index, account in enumerate(spec.accounts):
        path = ("accounts", index, "stripe_account")
        first = seen.get(account.stripe_account.upper())
        if first is not None:
            earlier = spec.accounts[first].stripe_account
            same = "is" if earlier == account.stripe_account else "differs only in case from"
            problems.append(
                smap.diagnostic(
                    path,
                    f"{account.stripe_account} {same} accounts[{first}] ({earlier}); each "
                    "account once (secrets are stored under the upper-cased id)",
                )
            )
        else:
            seen[account.stripe_account.upper()] = index
        if not spec.manifests and not account.manifests:
            problems.append(
                smap.diagnostic(
                    ("accounts", index),
                    "no manifests for this account: give the fleet's manifests or its own",
                )
            )
    if spec.connected_accounts is not None and not spec.manifests:
        problems.append(
            smap.diagnostic(
                ("connected_accounts",),
                "connected accounts found by listing get the fleet's manifests; give manifests",
                key=True,
            )
        )
    return problems


def _relative(base: Path, entry: str) -> str:
    """A manifest path as written, relative to the fleet file's directory."""
    return entry if os.path.isabs(entry) else os.path.normpath(base / entry)


def _position(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return (diagnostic.file, diagnostic.line, diagnostic.column)


def _sorted(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """In file order."""
    return sorted(diagnostics, key=_position)


def load_members(
    members: Iterable[Member],
    *,
    recursive: bool = False,
    allow_unknown_events: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, DesiredState], tuple[Diagnostic, ...]]:
    """Each member's desired state, and the warnings of all (each once).

    Raises one :class:`ManifestError` with every error of every member; a diagnostic that not
    every member has names the accounts that have it.
    """
    env = os.environ if environ is None else environ
    loads: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], DesiredState | ManifestError]
    loads = {}
    found: dict[str, DesiredState] = {}
    failed: dict[str, list[Diagnostic]] = {}
    members = list(members)
    for member in members:
        key = (member.paths, tuple(sorted(member.vars.items())))
        if key not in loads:
            loads[key] = _load_one(member, recursive, allow_unknown_events, env)
        loaded = loads[key]
        if isinstance(loaded, ManifestError):
            failed[member.stripe_account] = [
                d for d in loaded.diagnostics if isinstance(d, Diagnostic)
            ]
        else:
            found[member.stripe_account] = loaded
    if failed:
        raise ManifestError(_sorted(_attributed(failed, len(members))))
    warnings = dict.fromkeys(w for state in found.values() for w in state.warnings)
    return found, tuple(warnings)


def _load_one(
    member: Member, recursive: bool, allow_unknown_events: bool, environ: Mapping[str, str]
) -> DesiredState | ManifestError:
    env = {**environ, **member.vars} if member.vars else environ
    try:
        state = load_manifests(
            list(member.paths),
            recursive=recursive,
            allow_unknown_events=allow_unknown_events,
            environ=env,
        )
    except ManifestError as error:
        return error
    pinned = state.manifest.account.stripe_account
    if pinned is not None:
        where = state.locations.get("account")
        file, line, column = (where.file, where.line, where.column) if where else ("", 1, 1)
        return ManifestError(
            [
                Diagnostic(
                    file,
                    line,
                    column,
                    "account.stripe_account",
                    f"manifests used in a fleet must not pin a connected account ({pinned}): "
                    "the fleet sets each account's; remove account.stripe_account",
                )
            ]
        )
    return state


def _attributed(failed: Mapping[str, Sequence[Diagnostic]], total: int) -> list[Diagnostic]:
    """Every distinct diagnostic once, naming the accounts it concerns unless it is all."""
    accounts: dict[Diagnostic, list[str]] = {}
    for account, diagnostics in failed.items():
        for diagnostic in diagnostics:
            accounts.setdefault(diagnostic, []).append(account)
    out = []
    for diagnostic, which in accounts.items():
        if len(which) == total:
            out.append(diagnostic)
            continue
        named = ", ".join(sorted(which)[:_NAMED_ACCOUNTS])
        more = len(which) - _NAMED_ACCOUNTS
        named += f" and {more} more" if more > 0 else ""
        noun = "account" if len(which) == 1 else "accounts"
        out.append(
            Diagnostic(
                diagnostic.file,
                diagnostic.line,
                diagnostic.column,
                diagnostic.path,
                f"{diagnostic.message} (fleet {noun} {named})",
                diagnostic.severity,
            )
        )
    return out

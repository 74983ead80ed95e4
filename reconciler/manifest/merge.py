"""Merging the sections of many manifest files into one set, with the merge rules.

A logical name may be declared once across all files (a second declaration cites the first);
a single resource section (``tax_settings``) once; ``account`` and ``policy`` may repeat only
with equal values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from reconciler.manifest.diagnostics import DataPath, Diagnostic, Location
from reconciler.manifest.yamlsource import SourceMap

#: Logical names become addresses and the suffix of ``STRIPE_WEBHOOK_SECRET_<NAME>``.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Entry:
    """One declared section or resource: where it came from, its raw value, its model if valid."""

    smap: SourceMap
    path: tuple[str, ...]
    raw: Any
    model: BaseModel | None

    @property
    def location(self) -> Location:
        line, column = self.smap.locate(self.path, key=True)
        return Location(self.smap.file, line, column)

    def diagnostic(
        self, rel: DataPath, message: str, *, key: bool = False, severity: str = "error"
    ) -> Diagnostic | None:
        path = (*self.path, *rel)
        if any(path[: i + 1] in self.smap.tainted for i in range(len(path))):
            return None  # its ${VAR} failed to expand; that error is already reported
        return self.smap.diagnostic(path, message, key=key, severity=severity)


#: single sections that may repeat across files with equal values (every other one is declared
#: once: a second one would be ambiguous)
REPEATABLE = ("account", "policy")


def _differences(here: BaseModel, there: BaseModel) -> str:
    """``mode: "live" here, "test" there``: which fields of two repeats differ (in a fleet, an
    overlay that pins ``stripe_account`` differs from a base that does not)."""
    mine, theirs = here.model_dump(mode="json"), there.model_dump(mode="json")
    return ", ".join(
        f"{name}: {_shown(mine.get(name))} here, {_shown(theirs.get(name))} there"
        for name in sorted(set(mine) | set(theirs))
        if mine.get(name) != theirs.get(name)
    )


def _shown(value: Any) -> str:
    return "unset" if value is None else json.dumps(value, sort_keys=True)


@dataclass
class ManifestSet:
    """Sections of every file, merged; duplicates are reported as they are added.

    ``single_keys``/``named_keys``: the sections, in the order locations are listed (the loader
    reads them from :class:`~reconciler.manifest.model.Manifest`).
    """

    single_keys: tuple[str, ...] = ()
    named_keys: tuple[str, ...] = ()
    singles: dict[str, Entry] = field(default_factory=dict)
    named: dict[str, dict[str, Entry]] = field(default_factory=dict)

    # -- views the semantic checks read -------------------------------------------------------
    @property
    def account(self) -> Entry | None:
        return self.singles.get("account")

    @property
    def policy(self) -> Entry | None:
        return self.singles.get("policy")

    @property
    def tax_settings(self) -> Entry | None:
        return self.singles.get("tax_settings")

    @property
    def endpoints(self) -> dict[str, Entry]:
        return self.section("webhook_endpoints")

    @property
    def destinations(self) -> dict[str, Entry]:
        return self.section("event_destinations")

    @property
    def registrations(self) -> dict[str, Entry]:
        return self.section("tax_registrations")

    def section(self, key: str) -> dict[str, Entry]:
        """The entries of a named section (``webhook_endpoints``), by logical name."""
        return self.named.setdefault(key, {})

    def add_single(self, key: str, entry: Entry, problems: list[Diagnostic]) -> None:
        first = self.singles.get(key)
        if first is None:
            self.singles[key] = entry
            return
        if key not in REPEATABLE:
            message = f"{key} is declared twice (first at {first.location}); keep one"
        elif first.model is None or entry.model is None or first.model == entry.model:
            return  # equal repeats are fine; invalid ones are already reported
        else:
            message = (
                f"{key} differs from the one at {first.location} "
                f"({_differences(entry.model, first.model)}); repeated {key} must be equal"
            )
        problems.append(entry.smap.diagnostic(entry.path, message, key=True))

    def add_named(self, kind: str, name: str, entry: Entry, problems: list[Diagnostic]) -> None:
        if not NAME_PATTERN.match(name):
            problems.append(
                entry.smap.diagnostic(
                    entry.path,
                    f"invalid name '{name}': use 1-63 lower-case letters, digits, '-' or '_', "
                    "starting with a letter or digit",
                    key=True,
                )
            )
        table = self.section(kind)
        first = table.get(name)
        if first is not None and first.smap.file != entry.smap.file:
            problems.append(
                entry.smap.diagnostic(
                    entry.path,
                    f"{kind}.{name} is already declared at {first.location}; names must be unique",
                    key=True,
                )
            )
            return
        table[name] = entry

    def locations(self) -> dict[str, Location]:
        found: dict[str, Location] = {}
        for key in self.single_keys:
            entry = self.singles.get(key)
            if entry is not None:
                found[key] = entry.location
        for kind in self.named_keys:
            for name, entry in self.section(kind).items():
                found[f"{kind}.{name}"] = entry.location
        return found

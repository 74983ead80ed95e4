"""Semantic checks across a merged manifest set: everything Stripe would reject, and more.

Checks read the raw (YAML-loaded) values, guarded by type tests, rather than the models, so that a
resource with one schema error still gets its other problems reported in the same run. The facts
(allowed events, per-country option shapes) come from :mod:`reconciler.data`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from reconciler import data
from reconciler.manifest.country_options import check_country, check_country_options
from reconciler.manifest.diagnostics import DataPath, Diagnostic, Location, format_path
from reconciler.manifest.model import TaxRegistration
from reconciler.manifest.suggest import did_you_mean
from reconciler.manifest.yamlsource import SourceMap

#: Logical names become addresses and the suffix of ``STRIPE_WEBHOOK_SECRET_<NAME>``.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: Metadata keys the tool writes on the endpoints it manages (PRODUCT.md §4.1).
RESERVED_METADATA_KEYS = ("managed_by", "reconciler_name", "reconciler_connect")
MAX_WEBHOOK_ENDPOINTS = 16
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WEBHOOK_IGNORABLE = ("url", "enabled_events", "description", "disabled", "metadata")
REGISTRATION_IGNORABLE = ("active_from", "expires_at")


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


@dataclass
class ManifestSet:
    """Sections of every file, merged; duplicates are reported as they are added."""

    account: Entry | None = None
    policy: Entry | None = None
    tax_settings: Entry | None = None
    endpoints: dict[str, Entry] = field(default_factory=dict)
    registrations: dict[str, Entry] = field(default_factory=dict)

    def add_single(self, key: str, entry: Entry, problems: list[Diagnostic]) -> None:
        first: Entry | None = getattr(self, key)
        if first is None:
            setattr(self, key, entry)
            return
        if key == "tax_settings":
            message = f"tax_settings is declared twice (first at {first.location}); keep one"
        elif first.model is None or entry.model is None or first.model == entry.model:
            return  # equal repeats are fine; invalid ones are already reported
        else:
            message = (
                f"{key} differs from the one at {first.location}; repeated {key} must be equal"
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
        table = self.endpoints if kind == "webhook_endpoints" else self.registrations
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
        for key in ("account", "policy", "tax_settings"):
            entry: Entry | None = getattr(self, key)
            if entry is not None:
                found[key] = entry.location
        for name, entry in self.endpoints.items():
            found[f"webhook_endpoints.{name}"] = entry.location
        for name, entry in self.registrations.items():
            found[f"tax_registrations.{name}"] = entry.location
        return found


def check_manifest_set(manifests: ManifestSet, *, allow_unknown_events: bool) -> list[Diagnostic]:
    """Every semantic diagnostic for the merged set."""
    out: list[Diagnostic | None] = []
    mode = "test"
    if manifests.account is not None and isinstance(manifests.account.raw, dict):
        raw_mode = manifests.account.raw.get("mode")
        mode = raw_mode if isinstance(raw_mode, str) else mode
    names = list(manifests.endpoints)
    if len(names) > MAX_WEBHOOK_ENDPOINTS:
        extra = manifests.endpoints[names[MAX_WEBHOOK_ENDPOINTS]]
        out.append(
            extra.diagnostic(
                (),
                f"{len(names)} webhook endpoints declared; Stripe allows at most "
                f"{MAX_WEBHOOK_ENDPOINTS} per account and mode",
                key=True,
            )
        )
    secret_names: dict[str, str] = {}
    for name, entry in manifests.endpoints.items():
        suffix = name.upper().replace("-", "_")
        if suffix in secret_names:
            out.append(
                entry.diagnostic(
                    (),
                    f"name maps to the same secret variable STRIPE_WEBHOOK_SECRET_{suffix} as "
                    f"'{secret_names[suffix]}'; rename one",
                    key=True,
                )
            )
        secret_names.setdefault(suffix, name)
        if isinstance(entry.raw, dict):
            out.extend(_check_endpoint(entry, entry.raw, mode, allow_unknown_events))
    for entry in manifests.registrations.values():
        if isinstance(entry.raw, dict):
            out.extend(_check_registration(entry, entry.raw))
    out.extend(_check_overlaps(manifests.registrations))
    return [d for d in out if d is not None]


def _check_endpoint(
    entry: Entry, raw: dict[str, Any], mode: str, allow_unknown_events: bool
) -> list[Diagnostic | None]:
    out: list[Diagnostic | None] = []
    url = raw.get("url")
    if isinstance(url, str):
        message = _url_problem(url, mode)
        if message:
            out.append(entry.diagnostic(("url",), message))
    events = raw.get("enabled_events")
    if isinstance(events, list):
        known = data.enabled_events()
        seen: set[str] = set()
        for index, event in enumerate(events):
            if not isinstance(event, str):
                continue
            if event in seen:
                out.append(
                    entry.diagnostic(
                        ("enabled_events", index), f"'{event}' is listed twice", severity="warning"
                    )
                )
            seen.add(event)
            if event not in known:
                hint = did_you_mean(event, known)
                if allow_unknown_events:
                    out.append(
                        entry.diagnostic(
                            ("enabled_events", index),
                            f"unknown event '{event}'{hint} (allowed by --allow-unknown-events)",
                            severity="warning",
                        )
                    )
                else:
                    out.append(
                        entry.diagnostic(
                            ("enabled_events", index),
                            f"unknown event '{event}'{hint} (if Stripe added it after API version "
                            f"{data.pinned_api_version()}, pass --allow-unknown-events)",
                        )
                    )
        if "*" in seen and len(seen) > 1:
            out.append(
                entry.diagnostic(
                    ("enabled_events",),
                    "'*' already enables every event; the other entries are redundant",
                    severity="warning",
                )
            )
    metadata = raw.get("metadata")
    if isinstance(metadata, dict):
        out.extend(_check_metadata(entry, metadata))
    out.extend(_check_ignore_changes(entry, raw, WEBHOOK_IGNORABLE, allow_metadata=True))
    return out


def _url_problem(url: str, mode: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:
        return f"invalid URL: {error}"
    if parts.scheme not in ("https", "http") or not host:
        return f"'{url}' is not an absolute https URL (e.g. https://example.com/stripe/webhooks)"
    if parts.scheme == "http":
        if host in LOOPBACK_HOSTS and mode == "test":
            return None
        if host in LOOPBACK_HOSTS:
            return "plain http is only allowed in test mode; use https"
        return (
            "Stripe delivers webhooks over https only "
            "(http is allowed just for localhost in test mode)"
        )
    return None


def _check_metadata(entry: Entry, metadata: dict[str, Any]) -> list[Diagnostic | None]:
    out: list[Diagnostic | None] = []
    if len(metadata) > MAX_METADATA_KEYS:
        out.append(
            entry.diagnostic(
                ("metadata",),
                f"has {len(metadata)} keys; Stripe allows at most {MAX_METADATA_KEYS}",
                key=True,
            )
        )
    for key, value in metadata.items():
        where = ("metadata", key)
        if key in RESERVED_METADATA_KEYS:
            out.append(
                entry.diagnostic(
                    where,
                    f"'{key}' is reserved: the tool sets it to track the endpoints it manages",
                    key=True,
                )
            )
        if len(key) > MAX_METADATA_KEY_LENGTH:
            out.append(
                entry.diagnostic(
                    where,
                    f"key is {len(key)} characters long; "
                    f"Stripe allows at most {MAX_METADATA_KEY_LENGTH}",
                    key=True,
                )
            )
        if "[" in key or "]" in key:
            out.append(entry.diagnostic(where, "metadata keys cannot contain '[' or ']'", key=True))
        if not key:
            out.append(entry.diagnostic(where, "metadata keys cannot be empty", key=True))
        if isinstance(value, str) and len(value) > MAX_METADATA_VALUE_LENGTH:
            out.append(
                entry.diagnostic(
                    where,
                    f"value is {len(value)} characters long; "
                    f"Stripe allows at most {MAX_METADATA_VALUE_LENGTH}",
                )
            )
    return out


def _check_ignore_changes(
    entry: Entry, raw: dict[str, Any], allowed: tuple[str, ...], *, allow_metadata: bool = False
) -> list[Diagnostic | None]:
    lifecycle = raw.get("lifecycle")
    if not isinstance(lifecycle, dict) or not isinstance(lifecycle.get("ignore_changes"), list):
        return []
    out: list[Diagnostic | None] = []
    for index, item in enumerate(lifecycle["ignore_changes"]):
        if not isinstance(item, str) or item in allowed:
            continue
        if allow_metadata and item.startswith("metadata.") and len(item) > len("metadata."):
            continue
        extra = ", metadata.<key>" if allow_metadata else ""
        out.append(
            entry.diagnostic(
                ("lifecycle", "ignore_changes", index),
                f"'{item}' is not one of {', '.join(allowed)}{extra}{did_you_mean(item, allowed)}",
            )
        )
    return out


def _check_registration(entry: Entry, raw: dict[str, Any]) -> list[Diagnostic | None]:
    country = raw.get("country")
    out: list[Diagnostic | None] = []
    for rel, message, key in [
        *check_country(country),
        *check_country_options(country, raw.get("country_options")),
    ]:
        out.append(entry.diagnostic(rel, message, key=key))
    model = entry.model
    if isinstance(model, TaxRegistration):
        start, end = model.active_from, model.expires_at
        if isinstance(start, int) and isinstance(end, int) and end <= start:
            out.append(
                entry.diagnostic(
                    ("expires_at",),
                    f"expires_at ({_iso(end)}) must be later than active_from ({_iso(start)})",
                )
            )
    out.extend(_check_ignore_changes(entry, raw, REGISTRATION_IGNORABLE))
    return out


def natural_key(registration: TaxRegistration) -> tuple[str, str, str] | None:
    """(country, type, jurisdiction) — the identity of a registration, or None if incomplete."""
    options = registration.country_options.get(registration.country.lower())
    if not isinstance(options, dict) or not isinstance(options.get("type"), str):
        return None
    kind: str = options["type"]
    jurisdiction = options.get("state")
    sub = options.get(kind)
    if isinstance(sub, dict):
        jurisdiction = sub.get("province", sub.get("jurisdiction", jurisdiction))
        if kind == "province_standard" or "jurisdiction" in sub:
            jurisdiction = f"{options.get('state', '')}/{jurisdiction}".strip("/")
    return (registration.country, kind, str(jurisdiction or ""))


def _check_overlaps(registrations: dict[str, Entry]) -> list[Diagnostic | None]:
    now = int(time.time())
    seen: dict[tuple[str, str, str], list[tuple[str, Entry, int, float]]] = {}
    out: list[Diagnostic | None] = []
    for name, entry in registrations.items():
        model = entry.model
        if not isinstance(model, TaxRegistration):
            continue
        key = natural_key(model)
        if key is None:
            continue
        start = now if model.active_from == "now" else model.active_from
        end: float = (
            float("inf")
            if model.expires_at is None
            else (now if model.expires_at == "now" else model.expires_at)
        )
        for other_name, other, other_start, other_end in seen.get(key, []):
            if start < other_end and other_start < end:
                what = " ".join(part for part in key if part)
                out.append(
                    entry.diagnostic(
                        (),
                        f"overlaps tax_registrations.{other_name} ({other.location}): "
                        f"both register {what} for overlapping periods; "
                        "end one with expires_at first",
                        key=True,
                    )
                )
                break
        seen.setdefault(key, []).append((name, entry, start, end))
    return out


def _iso(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "NAME_PATTERN",
    "RESERVED_METADATA_KEYS",
    "Entry",
    "ManifestSet",
    "check_manifest_set",
    "format_path",
    "natural_key",
]

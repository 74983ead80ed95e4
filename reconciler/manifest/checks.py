"""Semantic checks across a merged manifest set: everything Stripe would reject, and more.

Checks read the raw (YAML-loaded) values, guarded by type tests, rather than the models, so that a
resource with one schema error still gets its other problems reported in the same run. The facts
(allowed events, per-country option shapes) come from :mod:`reconciler.data`.
"""

from __future__ import annotations

import fnmatch
import re
import time
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel

from reconciler import data
from reconciler.manifest.country_options import (
    check_country,
    check_country_options,
    natural_key,
    newer_than_base,
)
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.merge import Entry, ManifestSet
from reconciler.manifest.model import TaxRegistration, WebhookEndpoint
from reconciler.manifest.names import secret_variable
from reconciler.manifest.suggest import did_you_mean
from reconciler.manifest.urls import url_problem
from reconciler.timestamps import iso_utc

#: Metadata keys the tool writes on the endpoints it manages (PRODUCT.md §4.1).
RESERVED_METADATA_KEYS = (
    "managed_by",
    "reconciler_name",
    "reconciler_connect",
    "reconciler_secret_pending",  # apply's marker of a not-yet-delivered signing secret
    "reconciler_protect",  # lifecycle.protect, recorded on the endpoint
)
_RESERVED_PATHS = frozenset(f"metadata.{key}" for key in RESERVED_METADATA_KEYS)
MAX_WEBHOOK_ENDPOINTS = 16
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500


@cache
def api_versions() -> frozenset[str]:
    """Stripe API versions up to the pinned (newest) one: the webhook ``api_version`` enum."""
    operation = data.spec()["paths"]["/v1/webhook_endpoints"]["post"]
    body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    return frozenset(body["properties"]["api_version"]["enum"])


def _check_api_version(
    entry: Entry, raw: dict[str, Any], key: str = "api_version"
) -> Diagnostic | None:
    version = raw.get(key)
    if not isinstance(version, str) or version in api_versions():
        return None
    return entry.diagnostic(
        (key,),
        f"unknown Stripe API version '{version}'{did_you_mean(version, api_versions(), n=1)}",
    )


def check_manifest_set(manifests: ManifestSet, *, allow_unknown_events: bool) -> list[Diagnostic]:
    """Every semantic diagnostic for the merged set."""
    out: list[Diagnostic | None] = []
    if manifests.account is not None and isinstance(manifests.account.raw, dict):
        out.append(_check_api_version(manifests.account, manifests.account.raw))
    settings = manifests.tax_settings
    if settings is not None and isinstance(settings.raw, dict):
        out.append(_check_head_office(settings, settings.raw))
    mode = account_mode(manifests)
    out.append(_check_endpoint_count(manifests))
    secret_names: dict[str, str] = {}
    for name, entry in manifests.endpoints.items():
        variable = secret_variable(name)
        if variable in secret_names:
            out.append(
                entry.diagnostic(
                    (),
                    f"name maps to the same secret variable {variable} as "
                    f"'{secret_names[variable]}'; rename one",
                    key=True,
                )
            )
        secret_names.setdefault(variable, name)
        if isinstance(entry.raw, dict):
            out.extend(_check_endpoint(entry, entry.raw, mode, allow_unknown_events))
    pinned = None
    if manifests.account is not None and isinstance(manifests.account.raw, dict):
        pinned = manifests.account.raw.get("api_version")
    for entry in manifests.registrations.values():
        if isinstance(entry.raw, dict):
            out.extend(_check_registration(entry, entry.raw))
            out.append(_check_newer_registration(entry, entry.raw, pinned))
    out.extend(_check_overlaps(manifests.registrations))
    return [d for d in out if d is not None]


def account_mode(manifests: ManifestSet) -> str:
    """The declared ``account.mode`` (``test`` unless a valid one says otherwise)."""
    if manifests.account is not None and isinstance(manifests.account.raw, dict):
        raw_mode = manifests.account.raw.get("mode")
        if isinstance(raw_mode, str):
            return raw_mode
    return "test"


def _check_endpoint_count(manifests: ManifestSet) -> Diagnostic | None:
    """At most 16 webhook endpoints, which event destinations count against too (the safer
    reading of a limit Stripe documents for endpoints only; see
    reconciler.resources.event_destination)."""
    entries = [*manifests.endpoints.values(), *manifests.destinations.values()]
    if len(entries) <= MAX_WEBHOOK_ENDPOINTS:
        return None
    extra = entries[MAX_WEBHOOK_ENDPOINTS]
    if not manifests.destinations:
        what, per = "webhook endpoints", "per account and mode"
    else:
        what = "webhook endpoints and event destinations"
        per = (
            "webhook endpoints per account and mode, and stripe-reconciler counts event "
            "destinations against that limit too"
        )
    return extra.diagnostic(
        (),
        f"{len(entries)} {what} declared; Stripe allows at most {MAX_WEBHOOK_ENDPOINTS} {per}",
        key=True,
    )


def _check_endpoint(
    entry: Entry, raw: dict[str, Any], mode: str, allow_unknown_events: bool
) -> list[Diagnostic | None]:
    out: list[Diagnostic | None] = [_check_api_version(entry, raw)]
    url = raw.get("url")
    if isinstance(url, str):
        message = url_problem(url, mode)
        if message:
            out.append(entry.diagnostic(("url",), message))
    # No warning for entries next to "*": it enables every event "except those that require
    # explicit selection" (FACTS.md §1; stripe-python 16.1.0
    # params/_webhook_endpoint_create_params.py), so they may be needed.
    out.extend(check_events(entry, raw, data.enabled_events(), allow_unknown_events))
    metadata = raw.get("metadata")
    if isinstance(metadata, dict):
        out.extend(_check_metadata(entry, metadata, own=_own_metadata_keys(raw)))
    out.extend(_check_ignore_changes(entry, raw, WebhookEndpoint))
    return out


def check_events(
    entry: Entry,
    raw: dict[str, Any],
    known: frozenset[str],
    allow_unknown_events: bool,
    what: str = "event",
) -> list[Diagnostic | None]:
    """``enabled_events``: every value in ``known``, none twice."""
    events = raw.get("enabled_events")
    if not isinstance(events, list):
        return []
    out: list[Diagnostic | None] = []
    seen: set[str] = set()
    for index, event in enumerate(events):
        if not isinstance(event, str):
            continue
        where = ("enabled_events", index)
        if event in seen:
            out.append(entry.diagnostic(where, f"'{event}' is listed twice", severity="warning"))
        seen.add(event)
        if event in known:
            continue
        hint = did_you_mean(event, known)
        if allow_unknown_events:
            message = f"unknown {what} '{event}'{hint} (allowed by --allow-unknown-events)"
            out.append(entry.diagnostic(where, message, severity="warning"))
        else:
            out.append(
                entry.diagnostic(
                    where,
                    f"unknown {what} '{event}'{hint} (if Stripe added it after API version "
                    f"{data.pinned_api_version()}, pass --allow-unknown-events)",
                )
            )
    return out


def _check_head_office(entry: Entry, raw: dict[str, Any]) -> Diagnostic | None:
    head_office = raw.get("head_office")
    address = head_office.get("address") if isinstance(head_office, dict) else None
    country = address.get("country") if isinstance(address, dict) else None
    if isinstance(country, str) and not re.fullmatch(r"[A-Z]{2}", country):
        return entry.diagnostic(
            ("head_office", "address", "country"),
            f"'{country}' is not an upper-case two-letter ISO 3166-1 country code (e.g. US)",
        )
    return None


def _own_metadata_keys(raw: dict[str, Any]) -> int:
    """How many metadata keys the tool adds to an endpoint: its three ownership tags, the
    secret-pending marker while a new endpoint's secret is delivered, and the recorded
    ``lifecycle.protect``."""
    lifecycle = raw.get("lifecycle")
    protect = isinstance(lifecycle, dict) and lifecycle.get("protect") is True
    return 4 + int(protect)


def _check_metadata(
    entry: Entry,
    metadata: dict[str, Any],
    *,
    own: int = 0,
    reserved: tuple[str, ...] = RESERVED_METADATA_KEYS,
    what: str = "endpoints",
) -> list[Diagnostic | None]:
    out: list[Diagnostic | None] = []
    allowed = MAX_METADATA_KEYS - own
    if len(metadata) > allowed:
        why = (
            f"Stripe allows at most {MAX_METADATA_KEYS}, and the tool adds {own} of its own "
            "(ownership tags, the secret-pending marker, a recorded protect)"
            if own
            else f"Stripe allows at most {MAX_METADATA_KEYS}"
        )
        out.append(
            entry.diagnostic(
                ("metadata",),
                f"has {len(metadata)} keys, more than {allowed}: {why}",
                key=True,
            )
        )
    for key, value in metadata.items():
        where = ("metadata", key)
        if key in reserved:
            out.append(
                entry.diagnostic(
                    where,
                    f"'{key}' is reserved: the tool sets it to track the {what} it manages",
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
        if value == "":
            out.append(
                entry.diagnostic(
                    where,
                    'empty value: Stripe treats an empty metadata value as "delete this key", '
                    "so it could never be kept; remove the key or give it a value",
                )
            )
        if isinstance(value, str) and len(value) > MAX_METADATA_VALUE_LENGTH:
            out.append(
                entry.diagnostic(
                    where,
                    f"value is {len(value)} characters long; "
                    f"Stripe allows at most {MAX_METADATA_VALUE_LENGTH}",
                )
            )
    return out


def _ignorable(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields whose drift ``lifecycle.ignore_changes`` may silence: every field but lifecycle,
    and the fields of a nested section (``webhook_endpoint.url``)."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        if name == "lifecycle":
            continue
        names.append(name)
        nested = [t for t in (info.annotation, *get_args(info.annotation)) if _is_model(t)]
        if nested:
            names.extend(f"{name}.{sub}" for sub in nested[0].model_fields)
    return tuple(names)


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _check_ignore_changes(
    entry: Entry,
    raw: dict[str, Any],
    model: type[BaseModel],
    reserved_paths: frozenset[str] = _RESERVED_PATHS,
) -> list[Diagnostic | None]:
    """Entries must name a field, a key below a mapping field, or a glob matching a field."""
    lifecycle = raw.get("lifecycle")
    if not isinstance(lifecycle, dict) or not isinstance(lifecycle.get("ignore_changes"), list):
        return []
    allowed = _ignorable(model)
    mappings = [name for name in allowed if name in ("metadata", "country_options")]
    out: list[Diagnostic | None] = []
    for index, item in enumerate(lifecycle["ignore_changes"]):
        if isinstance(item, str) and item in reserved_paths:
            # planning compares them regardless: hiding the secret-pending marker would lose a
            # signing secret for good, so saying "ignored" here would be a lie
            out.append(
                entry.diagnostic(
                    ("lifecycle", "ignore_changes", index),
                    f"'{item}' is reserved: the tool's own metadata keys are never ignored",
                )
            )
            continue
        if not isinstance(item, str) or item in allowed or fnmatch.filter(allowed, item):
            continue
        if any(item.startswith(f"{name}.") and len(item) > len(name) + 1 for name in mappings):
            continue
        extra = "".join(f", {name}.<key>" for name in mappings)
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
                    f"expires_at ({iso_utc(end)}) must be later than active_from "
                    f"({iso_utc(start)})",
                )
            )
    out.extend(_check_ignore_changes(entry, raw, TaxRegistration))
    return out


def _check_newer_registration(entry: Entry, raw: dict[str, Any], pinned: Any) -> Diagnostic | None:
    """Warn when ``account.api_version`` pins a version older than what the registration uses."""
    newest = data.pinned_api_version()
    country = raw.get("country")
    if not isinstance(pinned, str) or pinned >= newest or not isinstance(country, str):
        return None
    options = raw.get("country_options")
    chosen = options.get(country.lower()) if isinstance(options, dict) else None
    kind = chosen.get("type") if isinstance(chosen, dict) else None
    what = newer_than_base(country, kind)
    if what is None:
        return None
    return entry.diagnostic(
        ("country",) if what.startswith("registrations") else ("country_options",),
        f"{what} came with API version {newest}, but account.api_version pins {pinned}; "
        "Stripe may refuse it under that version",
        severity="warning",
    )


def _check_overlaps(registrations: dict[str, Entry]) -> list[Diagnostic | None]:
    now = int(time.time())
    seen: dict[str, list[tuple[str, Entry, int, float]]] = {}
    out: list[Diagnostic | None] = []
    for name, entry in registrations.items():
        model = entry.model
        if not isinstance(model, TaxRegistration):
            continue
        options = model.country_options.get(model.country.lower())
        if not isinstance(options, dict) or not isinstance(options.get("type"), str):
            continue  # reported by the shape checks; an incomplete key would match wrongly
        key = natural_key(model.country, model.country_options)
        start = now if model.active_from == "now" else model.active_from
        end: float = (
            float("inf")
            if model.expires_at is None
            else (now if model.expires_at == "now" else model.expires_at)
        )
        for other_name, other, other_start, other_end in seen.get(key, []):
            if start < other_end and other_start < end:
                what = key.replace("/", " ")
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

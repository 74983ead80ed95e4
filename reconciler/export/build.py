"""Live state → desired state: the manifest sections that describe what the account has now.

Pure functions over :class:`~reconciler.resources.base.LiveState` (no I/O). The result is built so
that planning it against the same account gives ``No changes.``: it uses the handlers' own
identity (``tagged_name``, ``natural_key``) and normalisation (``normalize_live``, ``drop_none``),
keeps only fields a manifest may declare, and drops server-only ones (``id``, ``status``,
``created``, ``livemode``, ``application``, ``secret``, the ownership tags).

Each kind has its section builder (:data:`SECTIONS`): tagged kinds share
:func:`reconciler.export.tagged.export_tagged`, whose untagged objects are declared only with
``adopt=True`` (declaring one makes the plan *adopt* it, which is a change) and otherwise kept
aside (:attr:`Export.untagged`) for the writer to show as comments.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.data import enabled_events
from reconciler.export.common import (
    Names,
    description_of,
    escape,
    exported_url,
    metadata_and_lifecycle,
    slug,
    unknown_events,
)
from reconciler.export.event_destinations import export_destinations
from reconciler.export.tagged import export_tagged
from reconciler.manifest.names import SECRET_VARIABLE_PREFIX
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveObject, LiveState
from reconciler.resources.registry import KIND_ORDER, spec_of
from reconciler.resources.tax_registration import CANDIDATE_STATUSES, drop_none, natural_key
from reconciler.resources.webhook_endpoint import RESERVED_KEYS

__all__ = ["KINDS", "SECTIONS", "Export", "build_export", "escape", "slug"]

#: the kinds export knows, in the registry's order (every registered kind)
KINDS = KIND_ORDER
#: kept for callers that import it from here
_Names = Names


@dataclass(frozen=True)
class Export:
    """Manifest sections (plain data, ready to dump) plus what the user should be told.

    ``sections``: kind → its section (named entries, or the singleton's mapping; ``None`` or
    empty when the account has nothing to declare). ``untagged``: kind → entries of untagged
    objects kept aside (shown as comments).
    """

    account: Mapping[str, Any]
    sections: Mapping[str, Any] = field(default_factory=dict)
    untagged: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def section(self, kind: str) -> Any:
        return self.sections.get(kind)

    def __getattr__(self, name: str) -> Any:
        """``export.webhook_endpoints``, ``export.tax_settings``, …: each registered kind's
        section by its name, as the Python API has always offered it (``{}`` for a list kind
        with nothing to declare, ``None`` for an absent singleton)."""
        if name.startswith("_") or name not in KIND_ORDER:
            raise AttributeError(name)
        section = self.sections.get(name)
        if section is None and spec_of(name).listed:
            return {}
        return section

    @property
    def resource_count(self) -> int:
        """How many resources the export declares (a singleton is one)."""
        count = 0
        for kind, section in self.sections.items():
            if section is None:
                continue
            count += len(section) if spec_of(kind).listed else 1
        return count


def name_from_url(url: str) -> str:
    """``https://www.example.com/stripe/webhooks`` → ``example-com-stripe-webhooks``."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
        path = parts.path
    except ValueError:
        host, path = "", url
    return slug(f"{host}/{path}", "endpoint")


def name_from_key(key: str) -> str:
    """``US/state_sales_tax/CA`` → ``us-state-sales-tax-ca``."""
    return slug(key, "registration")


def _endpoint(obj: LiveObject, label: str, warnings: list[str]) -> dict[str, Any]:
    """The manifest entry of one endpoint, without any secret (see
    :mod:`reconciler.export.common`)."""
    now = HANDLERS["webhook_endpoints"].normalize_live(obj)
    entry: dict[str, Any] = {
        "url": exported_url(str(now["url"]), label, warnings),
        "enabled_events": list(now["enabled_events"]),
    }
    unknown_events(now["enabled_events"], enabled_events(), label, warnings)
    ignored: list[str] = []
    description_of(entry, now["description"], ignored)
    if now["api_version"] is not None:
        entry["api_version"] = now["api_version"]
    if now["connect"]:
        entry["connect"] = True
    if now["disabled"]:
        entry["disabled"] = True
    metadata_and_lifecycle(entry, now["metadata"], RESERVED_KEYS, label, warnings, ignored)
    return entry


Section = tuple[Any, dict[str, dict[str, Any]], list[str]]


def export_endpoints(objects: Iterable[LiveObject], *, adopt: bool) -> Section:
    """(declared endpoints, untagged endpoints kept aside, warnings)."""
    found = export_tagged(
        HANDLERS["webhook_endpoints"],
        objects,
        adopt=adopt,
        entry=_endpoint,
        base_name=lambda obj: name_from_url(str(obj.get("url") or "")),
        prefix=SECRET_VARIABLE_PREFIX,
    )
    if found.adopted:
        found.warnings.append(
            f"{len(found.adopted)} untagged endpoint(s) declared for adoption "
            f"({', '.join(found.adopted)}): Stripe never returns `connect`, so they say "
            "connect: false; set connect: true on any that receives events from connected "
            "accounts before you apply"
        )
    return found.declared, found.aside, found.warnings


def export_tax_settings(obj: LiveObject | None) -> dict[str, Any] | None:
    """The settable fields Stripe has a value for; ``None`` when nothing is set."""
    if not obj:
        return None
    fields = HANDLERS["tax_settings"].normalize_live(obj)["fields"]
    settings: dict[str, Any] = {}
    for path, value in sorted(fields.items()):
        if value is None or value == "":
            continue
        node = settings
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return settings or None


def export_registrations(
    objects: Iterable[LiveObject],
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Active and scheduled registrations, named by natural key (expired ones are history)."""
    handler = HANDLERS["tax_registrations"]
    # Names are handed out in the order plan matches registrations of one natural key to
    # declared names (active before scheduled, then id; names sorted), so each name gets its twin.
    live = sorted(
        (o for o in objects if o.get("status") in CANDIDATE_STATUSES),
        key=lambda o: (CANDIDATE_STATUSES.index(str(o["status"])), str(o.get("id"))),
    )
    names = Names()
    out: dict[str, dict[str, Any]] = {}
    for obj in live:
        now = handler.normalize_live(obj)
        key = natural_key(now["country"], now["country_options"])
        spec: dict[str, Any] = {
            "country": now["country"],
            "country_options": drop_none(now["country_options"]),
            "active_from": now["active_from"],
        }
        if now["expires_at"] is not None:
            spec["expires_at"] = now["expires_at"]
        out[names.claim(name_from_key(key))] = escape(spec)
    return dict(sorted(out.items())), []


def _tax_settings(objects: Iterable[LiveObject], *, adopt: bool) -> Section:
    found = tuple(objects)
    return escape(export_tax_settings(found[0] if found else None)), {}, []


def _tax_registrations(objects: Iterable[LiveObject], *, adopt: bool) -> Section:
    declared, warnings = export_registrations(objects)
    return declared, {}, warnings


#: kind → its section builder: ``(objects, adopt=…)`` → (section, entries kept aside, warnings)
SECTIONS: dict[str, Callable[..., Section]] = {
    "tax_settings": _tax_settings,
    "webhook_endpoints": export_endpoints,
    "event_destinations": export_destinations,
    "tax_registrations": _tax_registrations,
}


def build_export(
    live: LiveState,
    *,
    kinds: Iterable[str] = KINDS,
    adopt: bool = False,
    mode: str,
    account_id: str | None = None,
    stripe_account: str | None = None,
) -> Export:
    """Manifest sections for ``kinds`` of ``live``; see the module docstring."""
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {', '.join(sorted(unknown))}")
    account: dict[str, Any] = {"mode": mode}
    if account_id:
        account["id"] = account_id
    if stripe_account:
        account["stripe_account"] = stripe_account
    warnings: list[str] = []
    sections: dict[str, Any] = {}
    untagged: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in KINDS:
        if kind not in wanted:
            continue
        section, aside, notes = SECTIONS[kind](live.of(kind), adopt=adopt)
        sections[kind] = section
        if aside:
            untagged[kind] = aside
        warnings.extend(notes)
    return Export(account=account, sections=sections, untagged=untagged, warnings=tuple(warnings))

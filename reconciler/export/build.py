"""Live state → desired state: the manifest sections that describe what the account has now.

Pure functions over :class:`~reconciler.resources.base.LiveState` (no I/O). The result is built so
that planning it against the same account gives ``No changes.``: it uses the handlers' own
identity (``tagged_name``, ``natural_key``) and normalisation (``normalize_live``, ``drop_none``),
keeps only fields a manifest may declare, and drops server-only ones (``id``, ``status``,
``created``, ``livemode``, ``application``, ``secret``, the ownership tags).

Untagged webhook endpoints are the exception: declaring one makes the plan *adopt* it (tag it),
which is a change. So they are declared only with ``adopt=True``; otherwise they are kept aside
(:attr:`Export.untagged`) for the writer to show as comments.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.data import enabled_events, pinned_api_version
from reconciler.manifest.names import secret_variable
from reconciler.plan.mask import mask_text
from reconciler.resources import HANDLERS
from reconciler.resources.base import LiveObject, LiveState
from reconciler.resources.registry import KIND_ORDER
from reconciler.resources.tax_registration import CANDIDATE_STATUSES, drop_none, natural_key
from reconciler.resources.webhook_endpoint import PROTECT_KEY, RESERVED_KEYS, tagged_name

#: the kinds export knows, in the registry's order (every registered kind)
KINDS = KIND_ORDER
_NAME_LIMIT = 63
_NON_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Export:
    """Manifest sections (plain data, ready to dump) plus what the user should be told."""

    account: Mapping[str, Any]
    webhook_endpoints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    untagged: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tax_settings: Mapping[str, Any] | None = None
    tax_registrations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def resource_count(self) -> int:
        settings = 0 if self.tax_settings is None else 1
        return len(self.webhook_endpoints) + len(self.tax_registrations) + settings


def slug(text: str, fallback: str) -> str:
    """A valid logical name (``^[a-z0-9][a-z0-9_-]{0,62}$``) made of ``text``."""
    name = _NON_NAME.sub("-", text.lower()).strip("-")[:_NAME_LIMIT].strip("-")
    return name or fallback


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


class _Names:
    """Hands out unique names; two names that map to the same secret variable also collide."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._used: set[str] = {secret_variable(name) for name in taken}

    def claim(self, base: str) -> str:
        candidate, n = base, 1
        while secret_variable(candidate) in self._used:
            n += 1
            suffix = f"-{n}"
            candidate = base[: _NAME_LIMIT - len(suffix)].rstrip("-_") + suffix
        self._used.add(secret_variable(candidate))
        return candidate


def _looks_sensitive(value: str) -> bool:
    return mask_text(value) != value


def _has_credentials(url: str) -> bool:
    try:
        return "@" in urllib.parse.urlsplit(url).netloc
    except ValueError:  # a live URL can be anything; this one is masked either way
        return False


def escape(value: Any) -> Any:
    """Escape ``$`` as ``$$`` in every string value, so ``${…}`` expansion gives it back as is."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, Mapping):
        return {k: escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    return value


def _endpoint(obj: LiveObject, label: str, warnings: list[str]) -> dict[str, Any]:
    """The manifest entry of one endpoint, without any secret.

    Manifests refuse secret-looking text, so such a description or metadata value is left out and
    put under ``lifecycle.ignore_changes`` (plan leaves it as it is), and such a URL is written as
    a ``${VAR}`` reference the user must set (plan refuses to run until then, so the endpoint is
    never mistaken for an undeclared one and deleted).
    """
    now = HANDLERS["webhook_endpoints"].normalize_live(obj)
    url = escape(now["url"])
    if _looks_sensitive(str(now["url"])):
        variable = "STRIPE_EXPORT_" + label.split(".", 1)[1].upper().replace("-", "_") + "_URL"
        url = f"${{{variable}}}"
        if _has_credentials(str(now["url"])):
            what = (
                "a user name or password, which manifests refuse; the manifest reads it from "
                f"${{{variable}}}: set that variable to the URL without them (plan then shows "
                "the change)"
            )
        else:
            what = (
                "something that looks like a key or signing secret; the manifest reads it from "
                f"${{{variable}}}: set that variable"
            )
        warnings.append(f"{label}: its URL contains {what} before plan or apply")
    spec: dict[str, Any] = {"url": url, "enabled_events": list(now["enabled_events"])}
    unknown = sorted(set(now["enabled_events"]) - enabled_events())
    if unknown:
        warnings.append(
            f"{label}: enabled_events {', '.join(unknown)} are not in the event list of API "
            f"version {pinned_api_version()}; pass --allow-unknown-events to validate and plan"
        )
    ignored: list[str] = []
    if now["description"]:
        if _looks_sensitive(now["description"]):
            ignored.append("description")
        else:
            spec["description"] = escape(now["description"])
    if now["api_version"] is not None:
        spec["api_version"] = now["api_version"]
    if now["connect"]:
        spec["connect"] = True
    if now["disabled"]:
        spec["disabled"] = True
    metadata: dict[str, str] = {}
    for key, value in now["metadata"].items():
        if key in RESERVED_KEYS:
            continue
        if _looks_sensitive(str(key)) or _looks_sensitive(str(value)):
            ignored.append(f"metadata.{key}" if not _looks_sensitive(str(key)) else "metadata")
        else:
            metadata[key] = escape(value)
    if metadata:
        spec["metadata"] = metadata
    lifecycle: dict[str, Any] = {}
    if now["metadata"].get(PROTECT_KEY) == "true":
        lifecycle["protect"] = True  # recorded by apply: the export keeps the protection
    if ignored:
        lifecycle["ignore_changes"] = sorted(set(ignored))
    if lifecycle:
        spec["lifecycle"] = lifecycle
    if ignored:
        warnings.append(
            f"{label}: {', '.join(sorted(set(ignored)))} looks like a key or signing secret; "
            "not exported, and kept as it is via lifecycle.ignore_changes"
        )
    return spec


def export_endpoints(
    objects: Iterable[LiveObject], *, adopt: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    """(declared endpoints, untagged endpoints kept aside, warnings)."""
    warnings: list[str] = []
    ordered = sorted(objects, key=lambda o: str(o.get("id")))
    tagged: dict[str, LiveObject] = {}
    untagged: list[LiveObject] = []
    for obj in ordered:
        name = tagged_name(obj)
        if name is None:
            untagged.append(obj)
        elif name in tagged:
            warnings.append(
                f"webhook_endpoints.{name}: {obj['id']} is tagged with the same name as "
                f"{tagged[name]['id']}; exported the latter only (plan will delete the duplicate)"
            )
        else:
            tagged[name] = obj
    names = _Names(tagged)
    declared: dict[str, dict[str, Any]] = {}
    for name in sorted(tagged):
        declared[name] = _endpoint(tagged[name], f"webhook_endpoints.{name}", warnings)
    aside: dict[str, dict[str, Any]] = {}
    url_count: dict[str, int] = {}
    for obj in untagged:
        url_count[str(obj.get("url"))] = url_count.get(str(obj.get("url")), 0) + 1
    for obj in sorted(untagged, key=lambda o: (str(o.get("url")), str(o.get("id")))):
        name = names.claim(name_from_url(str(obj.get("url") or "")))
        spec = _endpoint(obj, f"webhook_endpoints.{name}", warnings)
        shared = url_count[str(obj.get("url"))] > 1
        if adopt and shared:
            # The plan adopts a URL only when exactly one untagged endpoint uses it.
            warnings.append(
                f"webhook_endpoints.{name}: {obj['id']} shares its URL with another untagged "
                "endpoint; not adopted (plan could not tell them apart), listed as a comment"
            )
        (declared if adopt and not shared else aside)[name] = spec
    adopted = sorted(set(declared) - set(tagged))
    if adopted:
        warnings.append(
            f"{len(adopted)} untagged endpoint(s) declared for adoption ({', '.join(adopted)}): "
            "Stripe never returns `connect`, so they say connect: false; set connect: true on "
            "any that receives events from connected accounts before you apply"
        )
    return declared, aside, warnings


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
    names = _Names()
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
    endpoints: dict[str, dict[str, Any]] = {}
    aside: dict[str, dict[str, Any]] = {}
    if "webhook_endpoints" in wanted:
        endpoints, aside, notes = export_endpoints(live.of("webhook_endpoints"), adopt=adopt)
        warnings.extend(notes)
    settings = None
    if "tax_settings" in wanted:
        objs = live.of("tax_settings")
        settings = escape(export_tax_settings(objs[0] if objs else None))
    registrations: dict[str, dict[str, Any]] = {}
    if "tax_registrations" in wanted:
        registrations, notes = export_registrations(live.of("tax_registrations"))
        warnings.extend(notes)
    return Export(
        account=account,
        webhook_endpoints=endpoints,
        untagged=aside,
        tax_settings=settings,
        tax_registrations=registrations,
        warnings=tuple(warnings),
    )

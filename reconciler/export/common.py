"""What every section builder of export shares: names, escaping, and leaving secrets out.

Manifests refuse secret-looking text, so a live value that looks like a key or signing secret is
never exported: a description or metadata value is left out and put under
``lifecycle.ignore_changes`` (plan leaves it as it is), and a URL becomes a ``${VAR}``
reference the user must set (plan refuses to run until then, so the object is never mistaken
for an undeclared one and deleted).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.data import pinned_api_version
from reconciler.manifest.names import SECRET_VARIABLE_PREFIX, secret_variable
from reconciler.plan.mask import mask_text
from reconciler.resources.tagged import PROTECT_KEY

__all__ = [
    "Names",
    "description_of",
    "escape",
    "exported_url",
    "looks_sensitive",
    "metadata_and_lifecycle",
    "slug",
    "unknown_events",
]

_NAME_LIMIT = 63
_NON_NAME = re.compile(r"[^a-z0-9]+")


def slug(text: str, fallback: str) -> str:
    """A valid logical name (``^[a-z0-9][a-z0-9_-]{0,62}$``) made of ``text``."""
    name = _NON_NAME.sub("-", text.lower()).strip("-")[:_NAME_LIMIT].strip("-")
    return name or fallback


class Names:
    """Hands out unique names; two names that map to the same secret variable also collide."""

    def __init__(self, taken: Iterable[str] = (), *, prefix: str = SECRET_VARIABLE_PREFIX) -> None:
        self._prefix = prefix
        self._used: set[str] = {self._variable(name) for name in taken}

    def _variable(self, name: str) -> str:
        return secret_variable(name, prefix=self._prefix)

    def claim(self, base: str) -> str:
        candidate, n = base, 1
        while self._variable(candidate) in self._used:
            n += 1
            suffix = f"-{n}"
            candidate = base[: _NAME_LIMIT - len(suffix)].rstrip("-_") + suffix
        self._used.add(self._variable(candidate))
        return candidate


def looks_sensitive(value: str) -> bool:
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


def exported_url(url: str, label: str, warnings: list[str]) -> str:
    """The URL as a manifest writes it: escaped, or a ``${VAR}`` reference when it holds
    credentials or something secret-looking (with a warning saying what to set)."""
    if not looks_sensitive(url):
        return str(escape(url))
    variable = "STRIPE_EXPORT_" + label.split(".", 1)[1].upper().replace("-", "_") + "_URL"
    if _has_credentials(url):
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
    return f"${{{variable}}}"


def unknown_events(
    events: Iterable[str], known: frozenset[str], label: str, warnings: list[str]
) -> None:
    """Warn about enabled events the packaged list does not know (validate refuses them)."""
    unknown = sorted(set(events) - known)
    if unknown:
        warnings.append(
            f"{label}: enabled_events {', '.join(unknown)} are not in the event list of API "
            f"version {pinned_api_version()}; pass --allow-unknown-events to validate and plan"
        )


def description_of(entry: dict[str, Any], description: str, ignored: list[str]) -> None:
    """Add a live ``description`` to ``entry``, or to ``ignored`` when it looks secret."""
    if description:
        if looks_sensitive(description):
            ignored.append("description")
        else:
            entry["description"] = escape(description)


def metadata_and_lifecycle(
    entry: dict[str, Any],
    metadata: Mapping[str, Any],
    reserved: Iterable[str],
    label: str,
    warnings: list[str],
    ignored: list[str],
) -> None:
    """Add the user's ``metadata`` (not the tool's own keys) and the ``lifecycle`` the entry
    needs: a recorded protect is kept, and secret-looking values (``ignored``, with what
    :func:`description_of` found) are left out and ignored."""
    own = set(reserved)
    kept: dict[str, str] = {}
    for key, value in metadata.items():
        if key in own:
            continue
        if looks_sensitive(str(key)) or looks_sensitive(str(value)):
            ignored.append(f"metadata.{key}" if not looks_sensitive(str(key)) else "metadata")
        else:
            kept[key] = escape(value)
    if kept:
        entry["metadata"] = kept
    lifecycle: dict[str, Any] = {}
    if metadata.get(PROTECT_KEY) == "true":
        lifecycle["protect"] = True  # recorded by apply: the export keeps the protection
    if ignored:
        lifecycle["ignore_changes"] = sorted(set(ignored))
    if lifecycle:
        entry["lifecycle"] = lifecycle
    if ignored:
        warnings.append(
            f"{label}: {', '.join(sorted(set(ignored)))} looks like a key or signing secret; "
            "not exported, and kept as it is via lifecycle.ignore_changes"
        )

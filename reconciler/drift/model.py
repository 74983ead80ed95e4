"""The drift report: one typed, frozen view that every renderer and the alert payload read.

A report is built from the plan engine's actions (see :mod:`reconciler.drift.check`); this module
only holds the data. Masking (the plan's one rule, :mod:`reconciler.plan.mask`) happens here, once,
when a report is built, so no output format (text, json, markdown, github, alert payload) can leak
a key or a signing secret.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from reconciler.plan.mask import mask, mask_text
from reconciler.plan.model import KIND_ORDER

#: Bump only on an incompatible change of the JSON document (README "Drift JSON format").
FORMAT_VERSION = 1


class DriftKind(str, enum.Enum):
    """Why a resource counts as drifted. The value is what the JSON document carries."""

    CHANGED = "changed"  # declared and found, but fields differ
    DISABLED = "disabled"  # a declared, enabled endpoint is disabled live
    MISSING = "missing"  # declared but not found live (deleted, or registration expired)
    UNTAGGED = "untagged"  # declared and found by URL, but not tagged as ours (would be adopted)
    ORPHANED = "orphaned"  # tagged as ours but no longer declared
    UNMANAGED = "unmanaged"  # a live object the manifests do not declare
    PENDING = "pending"  # tax settings still `pending` (Stripe needs more fields)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    DriftKind.CHANGED: "~",
    DriftKind.DISABLED: "!",
    DriftKind.MISSING: "-",
    DriftKind.UNTAGGED: "~",
    DriftKind.ORPHANED: "+",
    DriftKind.UNMANAGED: "?",
    DriftKind.PENDING: "…",
}


@dataclass(frozen=True)
class FieldDrift:
    """One field that differs: ``declared`` is what the manifests say, ``live`` what Stripe has."""

    path: str
    declared: Any
    live: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "declared", mask(self.declared))
        object.__setattr__(self, "live", mask(self.live))


@dataclass(frozen=True)
class ResourceDrift:
    """One drifted resource.

    ``kind`` is the manifest section (``webhook_endpoints``), ``address`` the plan engine's address
    (``webhook_endpoints.orders``, or ``webhook_endpoints[we_123]`` for a live object nobody
    declared), ``drift`` why it counts as drift, ``message`` one human sentence.
    """

    address: str
    kind: str
    drift: DriftKind
    message: str
    live_id: str | None = None
    changes: tuple[FieldDrift, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", mask_text(self.message))

    @property
    def sort_key(self) -> tuple[int, str]:
        # Stable report order: the plan's kind order, then address.
        order = KIND_ORDER.index(self.kind) if self.kind in KIND_ORDER else len(KIND_ORDER)
        return (order, self.address)


@dataclass(frozen=True)
class DriftReport:
    """The outcome of one drift check. ``in_sync`` is true only when nothing drifted."""

    account_id: str | None
    mode: str
    stripe_account: str | None
    checked_at: str
    resources_checked: int
    drift: tuple[ResourceDrift, ...] = ()
    tax_settings_status: str | None = None
    tool_version: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "drift", tuple(sorted(self.drift, key=lambda d: d.sort_key)))

    @property
    def in_sync(self) -> bool:
        return not self.drift

    def counts(self) -> dict[str, int]:
        """Number of drifted resources per kind, in :class:`DriftKind` order, zeros omitted."""
        totals = {kind.value: 0 for kind in DriftKind}
        for item in self.drift:
            totals[item.drift.value] += 1
        return {name: n for name, n in totals.items() if n}


def summary_line(report: DriftReport) -> str:
    """``No drift: N resources in sync.`` or ``Drift: 1 changed, 2 missing.``"""
    if report.in_sync:
        noun = "resource" if report.resources_checked == 1 else "resources"
        return f"No drift: {report.resources_checked} {noun} in sync."
    parts = ", ".join(f"{n} {name}" for name, n in report.counts().items())
    return f"Drift: {parts}."


def account_label(report: DriftReport) -> str:
    """``acct_123 (test mode)``, ``acct_1 → acct_2 (live mode)`` for a connected account."""
    who = report.account_id or "account"
    if report.stripe_account and report.stripe_account != report.account_id:
        who = f"{who} → {report.stripe_account}"
    return f"{who} ({report.mode} mode)"

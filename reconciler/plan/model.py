"""The plan: frozen, ordered actions and reports, its summary and its checksum.

The value objects a plan is made of (:class:`Action`, :class:`FieldChange`, :class:`Request`,
:class:`Report`, :class:`ActionType`) are defined in :mod:`reconciler.resources.changes`, because
handlers build them, and are re-exported here as the plan's public vocabulary.

A :class:`Plan` is pure data with a deterministic order, so the same desired and live state always
give byte-identical JSON and the same checksum. Every :class:`Action` carries the exact requests
``apply`` must send (method, path, form params as a nested mapping that the client encodes with
Stripe's bracket notation), so apply needs nothing but the action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.resources.changes import (
    KIND_ORDER,
    NEW_ID,
    Action,
    ActionType,
    FieldChange,
    Report,
    Request,
    canonical_json,
    sha256_of,
)

#: Version of the plan JSON rendering and of the plan file's ``plan`` object.
FORMAT_VERSION = 1

__all__ = [
    "FORMAT_VERSION",
    "KIND_ORDER",
    "NEW_ID",
    "Action",
    "ActionType",
    "FieldChange",
    "Plan",
    "Report",
    "Request",
    "Summary",
    "canonical_json",
    "sha256_of",
]


@dataclass(frozen=True)
class Summary:
    create: int
    update: int
    replace: int
    delete: int
    expire: int

    @property
    def total(self) -> int:
        return self.create + self.update + self.replace + self.delete + self.expire

    def line(self) -> str:
        if not self.total:
            return "No changes."
        return (
            f"Plan: {self.create} to create, {self.update} to update, "
            f"{self.replace} to replace, {self.delete} to delete, {self.expire} to expire."
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "create": self.create,
            "update": self.update,
            "replace": self.replace,
            "delete": self.delete,
            "expire": self.expire,
        }


@dataclass(frozen=True)
class Plan:
    """Actions (sorted), reports (sorted), warnings and the count of unchanged resources."""

    actions: tuple[Action, ...] = ()
    reports: tuple[Report, ...] = ()
    warnings: tuple[str, ...] = ()
    unchanged: int = 0

    @classmethod
    def of(
        cls,
        actions: list[Action],
        reports: list[Report],
        warnings: list[str],
        unchanged: int,
    ) -> Plan:
        """Build a plan in canonical order (sorted, warnings de-duplicated)."""
        return cls(
            actions=tuple(sorted(actions, key=Action.sort_key)),
            reports=tuple(sorted(reports, key=Report.sort_key)),
            warnings=tuple(sorted(set(warnings))),
            unchanged=unchanged,
        )

    @property
    def summary(self) -> Summary:
        def count(*types: ActionType) -> int:
            return sum(1 for a in self.actions if a.action in types)

        return Summary(
            create=count(ActionType.CREATE),
            update=count(ActionType.UPDATE, ActionType.ADOPT),
            replace=count(ActionType.REPLACE),
            delete=count(ActionType.DELETE),
            expire=count(ActionType.EXPIRE),
        )

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @property
    def destructive(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.action.destructive)

    def to_dict(self) -> dict[str, Any]:
        """Canonical content (what the checksum covers)."""
        return {
            "actions": [a.to_dict() for a in self.actions],
            "reports": [r.to_dict() for r in self.reports],
            "warnings": list(self.warnings),
            "unchanged": self.unchanged,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """The plan :meth:`to_dict` gave: every key is there (the plan file's shape requires
        them all), so a missing one is a ``KeyError``, never a silently empty plan."""
        return cls(
            actions=tuple(Action.from_dict(a) for a in data["actions"]),
            reports=tuple(Report.from_dict(r) for r in data["reports"]),
            warnings=tuple(str(w) for w in data["warnings"]),
            unchanged=int(data["unchanged"]),
        )

    @property
    def checksum(self) -> str:
        return sha256_of(self.to_dict())

    def only(self, targets: tuple[str, ...]) -> Plan:
        """The plan restricted to ``--target`` addresses.

        A target is a kind; an address (and what is addressed under it:
        ``webhook_endpoints.orders`` covers ``webhook_endpoints.orders[we_…]``, the cleanup of
        endpoints tagged with that name); or a live object, as ``kind[id]`` or
        ``kind.name[id]``, which selects the action on that object. An action selected by its
        object brings the cleanup of its name along, so every form of a target ends where a
        full apply would for that name.
        """
        if not targets:
            return self

        def wanted(kind: str, address: str, live_id: str | None) -> bool:
            return not target_forms(kind, address, live_id).isdisjoint(targets)

        chosen = {a.address for a in self.actions if wanted(a.kind, a.address, a.live_id)}
        # Every chosen address is a target too, so a name chosen through one of its objects
        # brings its cleanup along; any other address selects only what was already chosen.
        targets = (*targets, *chosen)

        return Plan(
            actions=tuple(a for a in self.actions if wanted(a.kind, a.address, a.live_id)),
            reports=tuple(r for r in self.reports if wanted(r.kind, r.address, r.live_id)),
            warnings=self.warnings,
            unchanged=self.unchanged,
        )


def target_forms(kind: str, address: str, live_id: str | None) -> frozenset[str]:
    """Every ``--target`` that selects what sits at ``address`` (:meth:`Plan.only`).

    The kind and the address; for a live object also ``kind[id]``, its name (the address
    without its ``[id]``: a name covers its duplicates' cleanup) and the name with the id. The
    name is cut at the object's id, never at the first dot or bracket, because a name tagged in
    the Dashboard may hold either, and ``webhook_endpoints.a`` must not select the object tagged
    ``a.b`` or ``a[b``.
    """
    if live_id is None:
        return frozenset((kind, address))
    name = address.removesuffix(f"[{live_id}]")
    return frozenset((kind, address, name, f"{kind}[{live_id}]", f"{name}[{live_id}]"))

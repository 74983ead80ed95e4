"""Frozen plan objects: field changes, requests, actions, reports and the plan itself.

A :class:`Plan` is pure data with a deterministic order, so the same desired and live state always
give byte-identical JSON and the same checksum. Every :class:`Action` carries the exact requests
``apply`` must send (method, path, form params as a nested mapping that the client encodes with
Stripe's bracket notation), so apply needs nothing but the action.

Request paths may contain the placeholder ``{new_id}``: apply substitutes the id returned by the
first request of the same action (used to disable a webhook endpoint right after creating it,
since Stripe has no ``disabled`` parameter on create).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

#: Version of the plan JSON rendering and of the plan file's ``plan`` object.
FORMAT_VERSION = 1

#: Placeholder in a request path for the id created by the action's first request.
NEW_ID = "{new_id}"


class ActionType(str, Enum):
    """What happens to one resource. ``adopt`` counts as an update in summaries."""

    CREATE = "create"
    UPDATE = "update"
    ADOPT = "adopt"
    REPLACE = "replace"
    DELETE = "delete"
    EXPIRE = "expire"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def destructive(self) -> bool:
        """Counted against ``policy.max_destroy`` and blocked by ``lifecycle.protect``."""
        return self in (ActionType.REPLACE, ActionType.DELETE, ActionType.EXPIRE)


_SYMBOLS = {
    ActionType.CREATE: "+",
    ActionType.UPDATE: "~",
    ActionType.ADOPT: "~",
    ActionType.REPLACE: "-/+",
    ActionType.DELETE: "-",
    ActionType.EXPIRE: "x",
}

#: Display and file order of kinds; it is also the order apply handles them in.
KIND_ORDER = ("tax_settings", "webhook_endpoints", "tax_registrations")


def canonical_json(value: Any) -> str:
    """The one serialisation checksums are computed over: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FieldChange:
    """One field's ``before → after``. ``None`` means absent / null."""

    path: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Request:
    """One Stripe API call. ``step`` names its role (create, disable, update, delete, expire)."""

    step: str
    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "method": self.method,
            "path": self.path,
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Request:
        return cls(
            step=str(data["step"]),
            method=str(data["method"]),
            path=str(data["path"]),
            params=dict(data.get("params") or {}),
        )


@dataclass(frozen=True)
class Action:
    """One planned change to one resource.

    ``fingerprint`` is the sha256 of the normalised live object the action was computed from
    (``None`` for a create), so apply can tell whether live state moved since the plan was made.
    """

    kind: str
    address: str
    action: ActionType
    reason: str
    live_id: str | None = None
    changes: tuple[FieldChange, ...] = ()
    requests: tuple[Request, ...] = ()
    warnings: tuple[str, ...] = ()
    fingerprint: str | None = None
    protected: bool = False

    def sort_key(self) -> tuple[int, str, str]:
        return (KIND_ORDER.index(self.kind), self.address, self.live_id or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "action": self.action.value,
            "reason": self.reason,
            "live_id": self.live_id,
            "changes": [c.to_dict() for c in self.changes],
            "requests": [r.to_dict() for r in self.requests],
            "warnings": list(self.warnings),
            "fingerprint": self.fingerprint,
            "protected": self.protected,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            kind=str(data["kind"]),
            address=str(data["address"]),
            action=ActionType(data["action"]),
            reason=str(data["reason"]),
            live_id=data.get("live_id"),
            changes=tuple(
                FieldChange(str(c["path"]), c.get("before"), c.get("after"))
                for c in data.get("changes", ())
            ),
            requests=tuple(Request.from_dict(r) for r in data.get("requests", ())),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            fingerprint=data.get("fingerprint"),
            protected=bool(data.get("protected", False)),
        )


@dataclass(frozen=True)
class Report:
    """Something the plan shows but does not act on: an unmanaged object, a status note."""

    kind: str
    address: str
    message: str
    live_id: str | None = None

    def sort_key(self) -> tuple[int, str, str]:
        return (KIND_ORDER.index(self.kind), self.address, self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "live_id": self.live_id,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        return cls(
            kind=str(data["kind"]),
            address=str(data["address"]),
            message=str(data["message"]),
            live_id=data.get("live_id"),
        )


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
        return cls(
            actions=tuple(Action.from_dict(a) for a in data.get("actions", ())),
            reports=tuple(Report.from_dict(r) for r in data.get("reports", ())),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            unchanged=int(data.get("unchanged", 0)),
        )

    @property
    def checksum(self) -> str:
        return sha256_of(self.to_dict())

    def only(self, targets: tuple[str, ...]) -> Plan:
        """The plan restricted to ``--target`` addresses (an address or a whole kind)."""
        if not targets:
            return self

        def wanted(kind: str, address: str) -> bool:
            return any(
                t in (address, kind) or address.startswith(t + ".") or address.startswith(t + "[")
                for t in targets
            )

        return Plan(
            actions=tuple(a for a in self.actions if wanted(a.kind, a.address)),
            reports=tuple(r for r in self.reports if wanted(r.kind, r.address)),
            warnings=self.warnings,
            unchanged=self.unchanged,
        )

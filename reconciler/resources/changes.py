"""The value objects a handler's decisions are made of: field changes, requests, actions, reports.

They sit here, below :mod:`reconciler.plan`, because handlers build them while the plan package
builds on the handlers (STYLE.md: a package only knows the ones before it). They are frozen and
have a stable order, so the same inputs always give byte-identical plans and checksums; the
:class:`~reconciler.plan.model.Plan` that holds them, and its file format, live in ``plan/``.

Kinds sort in the registry's order (:func:`reconciler.resources.registry.rank`; ``KIND_ORDER``
is the same order as names), so no list of kinds is written here.

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

from reconciler.resources.registry import KIND_ORDER, rank

#: Placeholder in a request path for the id created by the action's first request.
NEW_ID = "{new_id}"

#: The step of a request that ends (deletes or expires) a duplicate of a declared resource whose
#: twin is kept: for an endpoint it finishes an interrupted replace (the twin is the new object),
#: so apply runs it before the creates, where it frees a place under Stripe's endpoint limit.
DUPLICATE_STEP = "end-duplicate"


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

__all__ = [
    "KIND_ORDER",
    "NEW_ID",
    "Action",
    "ActionType",
    "FieldChange",
    "Report",
    "Request",
    "canonical_json",
    "sha256_of",
]


def canonical_json(value: Any) -> str:
    """The one serialisation checksums are computed over: sorted keys, no whitespace."""
    # ensure_ascii: None is as false as False
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,  # pragma: no mutate
    )


def sha256_of(value: Any) -> str:
    # codec names are case-insensitive
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()  # pragma: no mutate


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
        # addresses are unique in a plan, so the id never decides
        return (rank(self.kind), self.address, self.live_id or "")  # pragma: no mutate

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
        """The action :meth:`to_dict` wrote (the plan file's shape requires every key)."""
        return cls(
            kind=str(data["kind"]),
            address=str(data["address"]),
            action=ActionType(data["action"]),
            reason=str(data["reason"]),
            live_id=data.get("live_id"),
            changes=tuple(
                FieldChange(str(c["path"]), c.get("before"), c.get("after"))
                for c in data["changes"]
            ),
            requests=tuple(Request.from_dict(r) for r in data["requests"]),
            warnings=tuple(str(w) for w in data["warnings"]),
            fingerprint=data.get("fingerprint"),
            protected=bool(data["protected"]),
        )


@dataclass(frozen=True)
class Report:
    """Something the plan shows but does not act on: an unmanaged object, a status note."""

    kind: str
    address: str
    message: str
    live_id: str | None = None

    def sort_key(self) -> tuple[int, str, str]:
        return (rank(self.kind), self.address, self.message)

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

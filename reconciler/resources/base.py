"""What every kind's planning works with: the client protocol, the live state, pairs, decisions.

The pipeline that drives a kind is :mod:`reconciler.resources.engine`; what a kind is, as data,
is :class:`reconciler.resources.kind.KindSpec`. Everything here is plain data: handlers decide,
they never fetch while deciding (pyinfra's facts vs operations), so every decision is a pure
function of plain dicts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.manifest.model import Lifecycle
from reconciler.resources.changes import Action, ActionType, FieldChange, Report, Request
from reconciler.resources.differ import ignored as _ignored

LiveObject = Mapping[str, Any]


class ApiClient(Protocol):
    """What handlers need from ``reconciler.stripe.StripeClient``."""

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]: ...

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class LiveState:
    """Raw live objects per kind, exactly as Stripe returned them (the singleton as one item)."""

    objects: Mapping[str, tuple[LiveObject, ...]] = field(default_factory=dict)

    def of(self, kind: str) -> tuple[LiveObject, ...]:
        return self.objects.get(kind, ())

    def ids(self) -> tuple[str, ...]:
        """The id of every live object that has one (the singleton has none), sorted."""
        return tuple(
            sorted(
                str(obj["id"])
                for objects in self.objects.values()
                for obj in objects
                if isinstance(obj.get("id"), str)
            )
        )


@dataclass(frozen=True)
class Pair:
    """A declared resource and the live object it corresponds to (``None``: not in Stripe)."""

    name: str
    desired: Any
    live: LiveObject | None
    adopted: bool = False


@dataclass(frozen=True)
class Matching:
    pairs: tuple[Pair, ...]
    #: live objects no declared resource claimed, with the reason they are left over
    leftovers: tuple[LiveObject, ...] = ()
    #: leftovers that carry our ownership tags (ours, no longer declared: always deleted)
    owned_leftovers: tuple[LiveObject, ...] = ()
    warnings: tuple[str, ...] = ()
    #: ids of owned leftovers that belong to a ``lifecycle.protect`` resource (duplicates)
    protected_ids: frozenset[str] = frozenset()
    #: id → why an owned leftover is destroyed, when not simply "no longer declared"
    reasons: Mapping[str, str] = field(default_factory=dict)
    #: ids of owned leftovers that duplicate a declared resource whose twin is kept: deleting
    #: one finishes an interrupted replace, so apply may do it first (``DUPLICATE_STEP``)
    duplicate_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """What one declared resource needs. ``action`` ``None`` means unchanged.

    ``requests``: the API calls, when they depend on the plan's clock and the handler built them
    while deciding (a registration whose declared start has passed is created as ``now``);
    empty means the engine builds them from the decision
    (:func:`reconciler.resources.engine.requests_for`).
    """

    action: ActionType | None
    changes: tuple[FieldChange, ...] = ()
    reason: str = ""
    warnings: tuple[str, ...] = ()
    requests: tuple[Request, ...] = ()


@dataclass(frozen=True)
class KindPlan:
    actions: tuple[Action, ...] = ()
    reports: tuple[Report, ...] = ()
    warnings: tuple[str, ...] = ()
    unchanged: int = 0


def change(path: str, before: Any, after: Any) -> FieldChange:
    """A field change for display (never sent); the plan builder masks it."""
    return FieldChange(path, before, after)


def ignored(path: str, lifecycle: Lifecycle) -> bool:
    """Whether ``lifecycle.ignore_changes`` covers ``path`` (exact, parent or glob)."""
    return _ignored(path, lifecycle.ignore_changes)

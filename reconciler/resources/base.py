"""The resource handler base class, the live state container and the client protocol.

A handler knows one kind of Stripe object. The base class drives the fixed pipeline
(octoDNS style); a subclass fills in the hooks:

Must override
    ``kind``                 manifest section name, also the address prefix (``webhook_endpoints``)
    ``fetch(client)``        read every live object of the kind with the fewest requests
    ``normalize_live(obj)``  a comparable, secret-free dict of one live object
    ``declared(manifest)``   logical name → desired model
    ``match(...)``           pair declared resources with live objects (:class:`Matching`)
    ``decide(...)``          the :class:`Decision` for one declared resource and its live twin
                             (both get ``now``, the plan's clock in unix seconds, so time windows
                             are judged without reading the clock)
    ``requests(...)``        the API calls an action needs

May override
    ``live_id(obj)``         how to read an object's id (default ``obj["id"]``)
    ``unmanaged(...)``       what to do with live objects nothing declared (default: follow
                             ``policy.unmanaged`` with ``destroy_action``)
    ``plan_kind(...)``       the whole pipeline, for kinds that do not fit it (the tax settings
                             singleton)

Handlers decide, they never fetch while deciding (pyinfra's facts vs operations): ``fetch`` is the
only method that does I/O, and everything else is a pure function of plain dicts.

Handlers put raw values in field changes, reasons and reports; the plan builder masks every one of
them once (:mod:`reconciler.plan.mask`), so no handler can forget to.
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

from reconciler.manifest.model import Lifecycle, Manifest
from reconciler.resources.changes import (
    DUPLICATE_STEP,
    Action,
    ActionType,
    FieldChange,
    Report,
    Request,
    sha256_of,
)

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
    empty means :meth:`ResourceHandler.requests` builds them.
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
    return any(
        path == pattern or path.startswith(pattern + ".") or fnmatch.fnmatchcase(path, pattern)
        for pattern in lifecycle.ignore_changes
    )


class ResourceHandler:
    """Base of every kind's handler; see the module docstring for the hooks."""

    kind: ClassVar[str]
    #: what ``policy.unmanaged: delete`` (and removal of an owned object) plans
    destroy_action: ClassVar[ActionType] = ActionType.DELETE

    # -- I/O --------------------------------------------------------------------------------
    async def fetch(self, client: ApiClient) -> tuple[LiveObject, ...]:
        raise NotImplementedError

    # -- hooks ------------------------------------------------------------------------------
    def normalize_live(self, obj: LiveObject) -> dict[str, Any]:
        raise NotImplementedError

    def declared(self, manifest: Manifest) -> Mapping[str, Any]:
        raise NotImplementedError

    def match(
        self, declared: Mapping[str, Any], live: tuple[LiveObject, ...], *, now: int
    ) -> Matching:
        raise NotImplementedError

    def decide(self, pair: Pair, *, now: int) -> Decision:
        raise NotImplementedError

    def requests(
        self, action: ActionType, name: str | None, desired: Any, live: LiveObject | None
    ) -> tuple[Request, ...]:
        raise NotImplementedError

    def live_id(self, obj: LiveObject) -> str:
        return str(obj["id"])

    def address(self, name: str) -> str:
        return f"{self.kind}.{name}"

    def live_address(self, obj: LiveObject) -> str:
        """Address of a live object nothing declares: ``kind[id]``."""
        return f"{self.kind}[{self.live_id(obj)}]"

    def describe(self, obj: LiveObject) -> str:
        """One line saying what an unmanaged live object is."""
        return self.live_id(obj)

    def fingerprint(self, obj: LiveObject | None) -> str | None:
        return None if obj is None else sha256_of(self.normalize_live(obj))

    # -- pipeline ---------------------------------------------------------------------------
    def plan_kind(self, manifest: Manifest, live: tuple[LiveObject, ...], *, now: int) -> KindPlan:
        declared = self.declared(manifest)
        matching = self.match(declared, live, now=now)
        actions: list[Action] = []
        warnings = list(matching.warnings)
        unchanged = 0
        for pair in matching.pairs:
            decision = self.decide(pair, now=now)
            warnings.extend(decision.warnings)
            if decision.action is None:
                unchanged += 1
                continue
            lifecycle = getattr(pair.desired, "lifecycle", None)
            actions.append(
                Action(
                    kind=self.kind,
                    address=self.address(pair.name),
                    action=decision.action,
                    reason=decision.reason,
                    live_id=None if pair.live is None else self.live_id(pair.live),
                    changes=decision.changes,
                    requests=decision.requests
                    or self.requests(decision.action, pair.name, pair.desired, pair.live),
                    warnings=decision.warnings,
                    fingerprint=self.fingerprint(pair.live),
                    protected=bool(lifecycle and lifecycle.protect),
                )
            )
        for obj in matching.owned_leftovers:
            live_id = self.live_id(obj)
            reason = matching.reasons.get(
                live_id, "tagged as managed by stripe-reconciler but no longer declared"
            )
            protected = live_id in matching.protected_ids
            duplicate = live_id in matching.duplicate_ids
            actions.append(self._destroy(obj, reason, protected=protected, duplicate=duplicate))
        extra_actions, extra_reports = self.unmanaged(manifest, matching.leftovers)
        return KindPlan(
            actions=(*actions, *extra_actions),
            reports=extra_reports,
            warnings=tuple(warnings),
            unchanged=unchanged,
        )

    def unmanaged(
        self, manifest: Manifest, leftovers: tuple[LiveObject, ...]
    ) -> tuple[tuple[Action, ...], tuple[Report, ...]]:
        policy = manifest.policy.unmanaged
        if policy == "ignore" or not leftovers:
            return (), ()
        if policy == "delete":
            return tuple(
                self._destroy(obj, "not declared and policy.unmanaged is delete")
                for obj in leftovers
            ), ()
        return (), tuple(
            Report(
                kind=self.kind,
                address=self.live_address(obj),
                live_id=self.live_id(obj),
                message=f"unmanaged: {self.describe(obj)} (policy.unmanaged: report)",
            )
            for obj in leftovers
        )

    def _destroy(
        self, obj: LiveObject, reason: str, *, protected: bool = False, duplicate: bool = False
    ) -> Action:
        requests = self.requests(self.destroy_action, None, None, obj)
        if duplicate:
            requests = tuple(replace(r, step=DUPLICATE_STEP) for r in requests)
        return Action(
            kind=self.kind,
            address=self.live_address(obj),
            action=self.destroy_action,
            reason=reason,
            live_id=self.live_id(obj),
            requests=requests,
            fingerprint=self.fingerprint(obj),
            protected=protected,
        )

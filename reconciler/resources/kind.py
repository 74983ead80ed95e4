"""A kind described as data: :class:`KindSpec`, its identity strategies and its optional hooks.

A kind module builds one ``KindSpec`` and :mod:`reconciler.resources` registers it
(:func:`reconciler.resources.registry.register`). The spec says, as data:

``name``, ``order``, ``noun``    manifest section, plan kind and address prefix; where it sorts;
                                 what messages call one (``webhook endpoint``)
``model``, ``schema``            the manifest model of one declared resource; the response schema
                                 component live objects are checked against
``path``, ``list_params``        the API collection (or the singleton's path) and how to list it
``identity``                     how declared resources find their live twins: :class:`Singleton`,
                                 :class:`~reconciler.resources.tagged.Tagged` (ownership tags,
                                 adoption by a field), or natural key and window (registrations)
``fields``                       :class:`~reconciler.resources.fields.Field`, in plan order
``destroy``                      what removing one plans (``delete``, or ``expire``)
``depends_on``, ``runs_first``   apply order: kinds whose failure stops this one; kinds applied
                                 before every other (settings the others need)
``limit``, ``limit_pool``         how many may exist per account (plan refuses more; apply orders
                                 creates within it); kinds naming the same pool share one count
                                 (webhook endpoints and event destinations)
``secret``                       :class:`~reconciler.resources.tagged.SecretDelivery` for kinds
                                 whose create returns a secret apply must hand to the sinks
``lookup``                       :class:`Lookup` for kinds without tags: apply looks for the object
                                 before creating it, and for a concurrent apply's twin after

Hooks (all optional; each is small and named for what is special about the kind):

``refine(pair, proposal, diff, now)``  the final :class:`~reconciler.resources.base.Decision`
                                 after the generic one (webhook secret-pending → replace;
                                 registration ``now`` handling and expire)
``create_requests(name, want)``  the create and its follow-ups (create, then disable)
``destroy_requests(obj)``        what removing a live object sends (default ``DELETE path/id``)
``normalize(obj)``               the normal form fingerprints are taken of (default: id, the
                                 fields' live values and ``extra_live`` keys)
``describe(obj)``                one line about an undeclared live object
``reports(manifest, live)``      status notes a plan shows (tax settings ``pending``)
``missing(name, desired, live)``  why a declared resource (logical ``name``) has no twin (drift)
``protected_update(action)``     an update ``lifecycle.protect`` blocks too, described
``check(actions, manifest, live, now)``  refuse a plan Stripe would refuse half-way
``needs(targeted, full, live)``  actions a ``--target`` plan must include, and why
``status(live)``                 the kind's account status (drift reports tax settings status)
``ended(obj)``                   whether a live object already is what ``destroy`` makes it
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from reconciler.resources.base import (
    ApiClient,
    Decision,
    KindPlan,
    LiveObject,
    LiveState,
    Matching,
    Pair,
)
from reconciler.resources.changes import Action, ActionType, Report, Request, sha256_of
from reconciler.resources.differ import Diff, have_document
from reconciler.resources.engine import plan_kind
from reconciler.resources.fields import Field

if TYPE_CHECKING:
    from reconciler.manifest.model import Manifest
    from reconciler.resources.tagged import SecretDelivery

__all__ = ["Identity", "KindSpec", "Lookup", "Singleton"]


class Identity:
    """How declared resources of a kind are named, addressed and paired with live objects."""

    #: the reason of a create (a declared resource without a live twin)
    create_reason = "declared but not found in Stripe"
    #: the reason of an adopt (a live twin claimed by something other than the tool's tags)
    adopt_reason = "adopted"

    def declared(self, spec: KindSpec, manifest: Manifest) -> Mapping[str, Any]:
        """Logical name → declared model (the manifest section of the same name)."""
        section: Mapping[str, Any] = getattr(manifest, spec.name)
        return section

    def match(
        self, spec: KindSpec, declared: Mapping[str, Any], live: tuple[LiveObject, ...], now: int
    ) -> Matching:
        raise NotImplementedError

    def address(self, spec: KindSpec, name: str) -> str:
        return f"{spec.name}.{name}"

    def live_id(self, spec: KindSpec, obj: LiveObject) -> str:
        return str(obj["id"])

    def action_live_id(self, spec: KindSpec, obj: LiveObject) -> str | None:
        """The ``live_id`` an action on ``obj`` carries."""
        return self.live_id(spec, obj)

    def live_address(self, spec: KindSpec, obj: LiveObject) -> str:
        """Address of a live object nothing declares: ``kind[id]``."""
        return f"{spec.name}[{self.live_id(spec, obj)}]"

    def object_path(self, spec: KindSpec, obj: LiveObject) -> str:
        return f"{spec.path}/{obj['id']}"

    def owner(self, obj: LiveObject) -> str | None:
        """The declared name a live object says it belongs to (only tagged kinds can say)."""
        return None

    def tags(self, name: str, desired: Any) -> Mapping[tuple[str, str], str]:
        """``(map field, key) → value`` the tool writes on the object to recognise it."""
        return {}

    def defaults(self, name: str) -> Mapping[str, Any]:
        """Field path → value for fields the manifest may leave out whose value follows from
        the logical name (an event destination's ``name`` defaults to it)."""
        return {}

    def label(self, obj: LiveObject) -> str:
        """How messages name a live object (its URL, its name); default: its id."""
        return str(obj.get("id"))

    def adoption(self) -> str:
        """What an untagged live object is adopted by, as messages say it (``URL``)."""
        return "key"

    def made_by(self, spec: KindSpec, name: str, create: Request | None, obj: LiveObject) -> bool:
        """Whether ``obj`` is what a create of ``name`` (sending ``create``) would make."""
        return False  # pragma: no mutate (read only for kinds that create: none is a singleton)


class Singleton(Identity):
    """One object per account (tax settings): declared once, addressed by its kind, never created
    or destroyed, only updated."""

    def declared(self, spec: KindSpec, manifest: Manifest) -> Mapping[str, Any]:
        value = getattr(manifest, spec.name)
        return {} if value is None else {spec.name: value}

    def match(
        self, spec: KindSpec, declared: Mapping[str, Any], live: tuple[LiveObject, ...], now: int
    ) -> Matching:
        obj: LiveObject = live[0] if live else {}
        return Matching(pairs=tuple(Pair(name, desired, obj) for name, desired in declared.items()))

    def address(self, spec: KindSpec, name: str) -> str:
        return spec.name

    def live_id(self, spec: KindSpec, obj: LiveObject) -> str:
        return spec.name

    def action_live_id(self, spec: KindSpec, obj: LiveObject) -> str | None:
        return None

    def object_path(self, spec: KindSpec, obj: LiveObject) -> str:
        return spec.path


class Lookup:
    """Apply-side identity of a kind without tags: find the object a create would make.

    Apply lists the kind before creating one and looks for a live object that already is it
    (created after the plan was made: another apply, or this plan's earlier run after the
    idempotency key expired), and after its creates looks for twins a concurrent apply of
    another plan made (:mod:`reconciler.apply.steps.lookups`).
    """

    def twins(
        self,
        params: Mapping[str, Any],
        live: Sequence[LiveObject],
        *,
        excluded: Collection[str],
        now: int,
    ) -> list[str]:
        """Ids of the live objects that are what create ``params`` makes."""
        raise NotImplementedError

    def gone(self, obj: LiveObject) -> str | None:
        """Why a replayed create's object no longer counts (``None``: it still does)."""
        return None

    def undo(self, obj: LiveObject, new_id: str) -> Request:
        """The request that takes back an object this apply created (it has a rival)."""
        raise NotImplementedError


Refine = Callable[[Pair, Decision, Diff, int], Decision]


def _no_hook(*_: Any) -> None:
    return None


def _never(obj: LiveObject) -> bool:
    return False  # pragma: no mutate (read only for kinds ended by expire, which say when)


@dataclass(frozen=True, eq=False)
class KindSpec:
    """One kind of Stripe object, described as data; see the module docstring."""

    name: str
    order: int
    noun: str
    model: type[BaseModel]
    schema: str
    path: str
    identity: Identity
    fields: tuple[Field, ...]
    destroy: ActionType = ActionType.DELETE
    depends_on: tuple[str, ...] = ()
    runs_first: bool = False
    list_params: Mapping[str, Any] = field(default_factory=lambda: {"limit": 100})
    limit: int | None = None
    limit_pool: str | None = None
    secret: SecretDelivery | None = None
    lookup: Lookup | None = None
    extra_live: tuple[str, ...] = ()
    # -- hooks ----------------------------------------------------------------------------------
    refine: Refine | None = None
    create_requests: Callable[[str, Mapping[str, Any]], tuple[Request, ...]] | None = None
    destroy_requests: Callable[[LiveObject], tuple[Request, ...]] | None = None
    normalize: Callable[[LiveObject], dict[str, Any]] | None = None
    describe_live: Callable[[LiveObject], str] | None = None
    reports: Callable[[Manifest, tuple[LiveObject, ...]], tuple[Report, ...]] | None = None
    missing: Callable[[str, Any, tuple[LiveObject, ...]], str | None] | None = None
    protected_update: Callable[[Action], str | None] = _no_hook
    check: Callable[[Sequence[Action], Manifest, LiveState, int], None] | None = None
    needs: (
        Callable[[Sequence[Action], Sequence[Action], LiveState], tuple[list[Action], str]] | None
    ) = None
    status: Callable[[tuple[LiveObject, ...]], str | None] = _no_hook
    ended: Callable[[LiveObject], bool] = _never
    fetch_live: Callable[[ApiClient], Awaitable[tuple[LiveObject, ...]]] | None = None

    # -- what the rest of the tool reads ------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.name

    @property
    def short(self) -> str:
        """The noun's last word, as messages say it (``endpoint``)."""
        return self.noun.rsplit(" ", 1)[-1]

    @property
    def pool(self) -> str:
        """The pool whose ``limit`` this kind's objects count against (default: its own)."""
        return self.limit_pool or self.name

    @property
    def listed(self) -> bool:
        """Whether live objects come from a list (and need an id); the singleton is read."""
        return not isinstance(self.identity, Singleton)

    def reserved_paths(self) -> frozenset[str]:
        """``metadata.managed_by``, …: the change paths of keys the tool writes itself."""
        return frozenset(f"{f.path}.{key}" for f in self.fields for key in f.reserved)

    def replaces_pending_secret(self, action: Action) -> bool:
        return self.secret is not None and self.secret.replaces_pending(action)

    async def fetch(self, client: ApiClient) -> tuple[LiveObject, ...]:
        """Every live object of the kind with the fewest requests (one list pass, or one GET)."""
        if self.fetch_live is not None:
            return await self.fetch_live(client)
        if not self.listed:
            return (await client.request("GET", self.path),)
        return tuple([obj async for obj in client.paginate(self.path, dict(self.list_params))])

    def normalize_live(
        self, obj: LiveObject, have: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A comparable, secret-free dict of one live object (what fingerprints are of): the
        ``normalize`` hook's, or the id, the fields' live values (``have``, when already read)
        and the ``extra_live`` keys."""
        if self.normalize is not None:
            return self.normalize(obj)
        return {
            "id": obj.get("id"),
            # `have` is that document, already read: reading it again gives the same
            **(have_document(self.fields, obj) if have is None else have),  # pragma: no mutate
            **{key: obj.get(key) for key in self.extra_live},
        }

    def fingerprint(
        self, obj: LiveObject | None, have: Mapping[str, Any] | None = None
    ) -> str | None:
        if obj is None:
            return None
        # `have` only saves reading the document again (see normalize_live)
        return sha256_of(self.normalize_live(obj, have))  # pragma: no mutate

    def declared(self, manifest: Manifest) -> Mapping[str, Any]:
        return self.identity.declared(self, manifest)

    def address(self, name: str) -> str:
        return self.identity.address(self, name)

    def live_id(self, obj: LiveObject) -> str:
        return self.identity.live_id(self, obj)

    def live_address(self, obj: LiveObject) -> str:
        return self.identity.live_address(self, obj)

    def describe(self, obj: LiveObject) -> str:
        """One line saying what an undeclared live object is."""
        return self.describe_live(obj) if self.describe_live else self.live_id(obj)

    def plan_kind(self, manifest: Manifest, live: tuple[LiveObject, ...], *, now: int) -> KindPlan:
        """This kind's part of a plan (:func:`reconciler.resources.engine.plan_kind`)."""
        return plan_kind(self, manifest, live, now=now)

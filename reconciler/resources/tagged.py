"""Identity by ownership tags, adoption by a declared field, and secret delivery.

For kinds whose objects carry a string map the tool can write (``metadata``): an object is ours
when it is tagged ``managed_by=stripe-reconciler`` and ``reconciler_name=<name>``
(PRODUCT.md §4.1). Untagged objects are adopted when exactly one has the declared value of the
adoption field (``url``). ``lifecycle.protect`` is recorded as a tag too, so that removing a
protected object from the manifests cannot delete it. A kind whose create returns a secret
(webhook signing secrets) marks new objects until apply delivered it (:class:`SecretDelivery`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from reconciler.manifest.names import SECRET_VARIABLE_PREFIX
from reconciler.resources.base import Decision, LiveObject, Matching, Pair
from reconciler.resources.changes import Action, ActionType, Request
from reconciler.resources.differ import Diff
from reconciler.resources.engine import compare
from reconciler.resources.fields import read_path
from reconciler.resources.kind import Identity

if TYPE_CHECKING:
    from reconciler.resources.kind import KindSpec

MANAGED_BY_KEY = "managed_by"
MANAGED_BY_VALUE = "stripe-reconciler"
NAME_KEY = "reconciler_name"
#: ``lifecycle.protect`` recorded on the object, so that removing a protected object from the
#: manifests cannot delete it: protection must be lifted in a reviewed change first
PROTECT_KEY = "reconciler_protect"
#: the tags :class:`Tagged` writes
TAG_KEYS = (MANAGED_BY_KEY, NAME_KEY, PROTECT_KEY)


def tagged_name(obj: LiveObject) -> str | None:
    """The logical name an object is tagged with, or ``None`` if it is not ours."""
    metadata = obj.get("metadata") or {}
    if metadata.get(MANAGED_BY_KEY) != MANAGED_BY_VALUE:
        return None
    name = metadata.get(NAME_KEY)
    return str(name) if name else None


def recorded_protect(obj: LiveObject) -> bool:
    """True when an object carries the recorded ``lifecycle.protect`` tag."""
    return (obj.get("metadata") or {}).get(PROTECT_KEY) == "true"


def _always(params: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class SecretDelivery:
    """A create that returns a secret only once (webhook signing secrets).

    Apply creates the object with ``pending_key=true`` in its string map, hands the secret to
    every sink, and only then removes the marker (:mod:`reconciler.apply.steps.secrets`). An
    object still marked has a secret nobody may have received; the next plan replaces it.

    ``response_field`` and ``url_field`` are dotted paths into the create's answer (v1's
    ``secret`` and ``url``; an event destination's ``webhook_endpoint.signing_secret`` and
    ``webhook_endpoint.url``). ``cleared`` is what removes the marker (``""`` in a v1 form,
    ``null`` in v2 JSON). ``expects`` tells from a create's params whether it returns a secret
    at all (an EventBridge destination has none: no marker, nothing to deliver).
    ``variable_prefix`` names the secret in the secrets file (:mod:`reconciler.manifest.names`).
    The texts say why a replace happens; ``{address}``, ``{live_id}`` are filled in.
    """

    pending_key: str
    #: what a ``lifecycle.protect`` that blocks that replace adds to the refusal
    protect_hint: str
    pending_reason: str = ""
    pending_warning: str = ""
    new_secret_warning: str = ""
    map_field: str = "metadata"
    response_field: str = "secret"
    url_field: str = "url"
    cleared: str | None = ""
    variable_prefix: str = SECRET_VARIABLE_PREFIX
    expects: Callable[[Mapping[str, Any]], bool] = field(default=_always, repr=False)

    def pending(self, obj: LiveObject) -> bool:
        return (obj.get(self.map_field) or {}).get(self.pending_key) == "true"

    def refine(self, address: str, pair: Pair, proposal: Decision, diff: Diff) -> Decision:
        """Secret-pending → replace (checked first: whatever else differs, the replace creates
        it as declared); the new-secret warning of a replace."""
        if pair.live is not None and self.pending(pair.live):
            reason = self.pending_reason
            if diff.replaced:
                reason += f"; create-only field changed too: {', '.join(diff.replaced)}"
            warning = self.pending_warning.format(address=address, live_id=pair.live["id"])
            return Decision(ActionType.REPLACE, diff.changes, reason, warnings=(warning,))
        if proposal.action is ActionType.REPLACE:
            return replace(proposal, warnings=(self.new_secret_warning.format(address=address),))
        return proposal

    def replaces_pending(self, action: Action) -> bool:
        """A planned replace of an object whose secret was never delivered, read from the
        action's changes (reserved keys are never ignored, so the marker's removal is among
        them), which is what a saved plan file carries too."""
        path = f"{self.map_field}.{self.pending_key}"
        return action.action is ActionType.REPLACE and any(
            c.path == path and c.before == "true" for c in action.changes
        )

    def marked(self, create: Request) -> Request:
        """The create, carrying the marker (unless it returns no secret)."""
        if not self.expects(create.params):
            return create
        params = dict(create.params)
        params[self.map_field] = {
            **dict(params.get(self.map_field) or {}),
            self.pending_key: "true",
        }
        return Request(create.step, create.method, create.path, params)

    def confirm(self, object_path: str) -> Request:
        """Removes the marker once every sink holds the secret."""
        return Request(
            "confirm", "POST", object_path, {self.map_field: {self.pending_key: self.cleared}}
        )

    def secret_of(self, created: Mapping[str, Any]) -> str | None:
        secret = read_path(created, self.response_field)
        return secret if isinstance(secret, str) and secret else None

    def url_of(self, created: Mapping[str, Any]) -> str:
        url = read_path(created, self.url_field)
        return url if isinstance(url, str) else ""


@dataclass(frozen=True, kw_only=True)
class Tagged(Identity):
    """Ours by tags; an untagged object is adopted by the declared value of ``adopt_by`` (a
    dotted path, the same in the manifest and in the live object: ``url``). ``named_by``: a
    field that defaults to the logical name when the manifest leaves it out (an event
    destination's ``name``); ``adopt_label`` is how messages call the adoption field."""

    adopt_by: str
    create_reason: str
    adopt_reason: str
    #: the destroy reason of a tagged object nothing declares that carries the protect tag
    protected_reason: str
    #: what a refusal to destroy such an object adds
    protected_hint: str
    map_field: str = "metadata"
    named_by: str | None = None
    adopt_label: str = ""

    def owner(self, obj: LiveObject) -> str | None:
        return tagged_name(obj)

    def defaults(self, name: str) -> Mapping[str, Any]:
        return {} if self.named_by is None else {self.named_by: name}

    def adopt_key(self, name: str, desired: Any) -> Any:
        """The declared value an untagged twin must have (or the logical name it defaults to)."""
        key = read_path(desired, self.adopt_by)
        return self.defaults(name).get(self.adopt_by) if key is None else key

    def label(self, obj: LiveObject) -> str:
        return str(read_path(obj, self.adopt_by))

    def adoption(self) -> str:
        return self.adopt_label or self.adopt_by

    def tags(self, name: str, desired: Any) -> Mapping[tuple[str, str], str]:
        """The tags of ``name`` (the protect tag only while ``lifecycle.protect`` is set, so
        unprotected objects keep their tags as they were)."""
        tags = {MANAGED_BY_KEY: MANAGED_BY_VALUE, NAME_KEY: name}
        if desired.lifecycle.protect:
            tags[PROTECT_KEY] = "true"
        return {(self.map_field, key): value for key, value in tags.items()}

    def live_address(self, spec: KindSpec, obj: LiveObject) -> str:
        """``<kind>.<name>[<id>]`` for an object tagged with a name, so that ``--target
        <kind>.<name>`` covers the cleanup of its own duplicates (and of a name no longer
        declared); ``<kind>[<id>]`` for an untagged one."""
        name = tagged_name(obj)
        if name is None:
            return super().live_address(spec, obj)
        return f"{spec.address(name)}[{self.live_id(spec, obj)}]"

    def made_by(self, spec: KindSpec, name: str, create: Request | None, obj: LiveObject) -> bool:
        return tagged_name(obj) == name

    def match(
        self, spec: KindSpec, declared: Mapping[str, Any], live: tuple[LiveObject, ...], now: int
    ) -> Matching:
        ordered = sorted(live, key=lambda o: str(o.get("id")))
        tagged: dict[str, list[LiveObject]] = {}
        untagged: list[LiveObject] = []
        for obj in ordered:
            tag = tagged_name(obj)
            if tag is None:
                untagged.append(obj)
            else:
                tagged.setdefault(tag, []).append(obj)
        pairs: list[Pair] = []
        warnings: list[str] = []
        adopted_ids: set[str] = set()
        owned_leftovers: list[LiveObject] = []
        protected_ids: set[str] = set()
        duplicate_ids: set[str] = set()
        reasons: dict[str, str] = {}
        what = spec.short
        for name in sorted(declared):
            desired = declared[name]
            adoptable = self._adoptable(name, desired, untagged, adopted_ids)
            if name in tagged and self._all_lost(spec, tagged[name]) and len(adoptable) == 1:
                # Every object tagged with the name lost its secret (an apply stopped after the
                # create) and one untagged object has the declared value: adopting it keeps an
                # object whose secret its maker holds, and the lost ones go as duplicates, so
                # the declared value is not served twice and nothing new is created.
                adopted = adoptable[0]
                adopted_ids.add(str(adopted["id"]))
                pairs.append(Pair(name, desired, adopted, adopted=True))
                lost = tagged.pop(name)
                ids = ", ".join(str(o["id"]) for o in lost)
                warnings.append(
                    f"{spec.address(name)}: the secrets of {ids} were never delivered; adopting "
                    f"untagged {adopted['id']} (same {self.adoption()}) and deleting them"
                )
                self._duplicates(
                    name,
                    desired,
                    str(adopted["id"]),
                    lost,
                    owned_leftovers,
                    reasons,
                    duplicate_ids,
                    protected_ids,
                )
                continue
            if name in tagged:
                first, *duplicates = (
                    sorted(tagged[name], key=partial(self._keep_order, spec, name, desired, now))
                    if len(tagged[name]) > 1
                    else tagged[name]
                )
                pairs.append(Pair(name, desired, first))
                if duplicates:
                    ids = ", ".join(str(d["id"]) for d in duplicates)
                    warnings.append(
                        f"{spec.address(name)}: more {what}s are tagged with this name "
                        f"({ids}); keeping {first['id']} and deleting the duplicates"
                    )
                    self._duplicates(
                        name,
                        desired,
                        str(first["id"]),
                        duplicates,
                        owned_leftovers,
                        reasons,
                        duplicate_ids,
                        protected_ids,
                    )
                continue
            key = self.adopt_key(name, desired)
            same = adoptable
            if len(same) == 1:
                adopted_ids.add(str(same[0]["id"]))
                pairs.append(Pair(name, desired, same[0], adopted=True))
                continue
            if same:  # several: the one match was adopted above
                ids = ", ".join(str(o["id"]) for o in same)
                warnings.append(
                    f"{spec.address(name)}: {len(same)} untagged {what}s already use "
                    f"{key} ({ids}); not adopting either, a new {what} will be created"
                )
            pairs.append(Pair(name, desired, None))
        for name in sorted(set(tagged) - set(declared)):
            owned_leftovers.extend(tagged[name])
            for obj in tagged[name]:
                if recorded_protect(obj):
                    protected_ids.add(str(obj["id"]))
                    reasons[str(obj["id"])] = self.protected_reason
        return Matching(
            pairs=tuple(pairs),
            leftovers=tuple(o for o in untagged if o["id"] not in adopted_ids),
            owned_leftovers=tuple(owned_leftovers),
            warnings=tuple(warnings),
            protected_ids=frozenset(protected_ids),
            reasons=reasons,
            duplicate_ids=frozenset(duplicate_ids),
        )

    def _adoptable(
        self, name: str, desired: Any, untagged: list[LiveObject], adopted_ids: set[str]
    ) -> list[LiveObject]:
        """The untagged objects not yet adopted that have the declared value of ``adopt_by``."""
        key = self.adopt_key(name, desired)
        return [
            o for o in untagged if read_path(o, self.adopt_by) == key and o["id"] not in adopted_ids
        ]

    @staticmethod
    def _all_lost(spec: KindSpec, objects: list[LiveObject]) -> bool:
        """Whether every one of ``objects`` still waits for a secret no sink ever received."""
        return spec.secret is not None and all(spec.secret.pending(o) for o in objects)

    @staticmethod
    def _duplicates(
        name: str,
        desired: Any,
        kept: str,
        duplicates: list[LiveObject],
        owned_leftovers: list[LiveObject],
        reasons: dict[str, str],
        duplicate_ids: set[str],
        protected_ids: set[str],
    ) -> None:
        """Record ``duplicates`` of ``name`` (the object ``kept`` stays) to be deleted."""
        owned_leftovers.extend(duplicates)
        for duplicate in duplicates:
            reasons[str(duplicate["id"])] = f"duplicate of {kept} ({name})"
            duplicate_ids.add(str(duplicate["id"]))
            # its secret may be the one consumers hold: protect covers it too
            if desired.lifecycle.protect:
                protected_ids.add(str(duplicate["id"]))

    @staticmethod
    def _keep_order(
        spec: KindSpec, name: str, desired: Any, now: int, obj: LiveObject
    ) -> tuple[Any, ...]:
        """Which of several objects tagged ``name`` to keep: the smallest key wins.

        Duplicates come from a replace that stopped after creating the new object, so the
        lowest id is usually the *old* one. Keep the one that needs no create-only change (the
        replacement already done), then one whose secret was delivered, then the newest; ties
        keep the id order :meth:`match` listed them in (``sorted`` is stable), for a stable plan.
        """
        # only `replaced` is read: the name's tags and the clock never make a replace
        difference = compare(spec, name, desired, obj, now=now)  # pragma: no mutate
        created = obj.get("created")
        # any value >= 0 sorts an object without `created` after every dated one
        newest_first = -created if isinstance(created, int) else 0  # pragma: no mutate
        pending = spec.secret is not None and spec.secret.pending(obj)
        return (bool(difference.replaced), pending, newest_first)

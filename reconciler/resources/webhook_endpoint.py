"""Webhook endpoints (``/v1/webhook_endpoints``): ownership tags, adoption by URL, set semantics.

Stripe never returns ``connect`` and returns the signing secret only on create, so identity and
the create-only ``connect`` flag live in metadata tags the tool writes itself (PRODUCT.md §4.1).
``api_version`` and ``connect`` are create-only: a change replaces the endpoint (new id and
secret). So does the marker of a signing secret an interrupted apply never delivered
(``SECRET_PENDING_KEY``): Stripe returns a secret only on create, so a replace is the only way to
get one, and the plan shows it as the replace apply will run.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

from reconciler.manifest.model import Manifest, WebhookEndpoint
from reconciler.resources.base import (
    ApiClient,
    Decision,
    LiveObject,
    Matching,
    Pair,
    ResourceHandler,
    change,
    ignored,
)
from reconciler.resources.changes import NEW_ID, Action, ActionType, FieldChange, Request

MANAGED_BY_KEY = "managed_by"
MANAGED_BY_VALUE = "stripe-reconciler"
NAME_KEY = "reconciler_name"
CONNECT_KEY = "reconciler_connect"
#: set by apply on a new endpoint until its signing secret is in every sink (apply/executor.py)
SECRET_PENDING_KEY = "reconciler_secret_pending"
#: ``lifecycle.protect`` recorded on the endpoint, so that removing a protected endpoint from the
#: manifests cannot delete it: protection must be lifted in a reviewed change first
PROTECT_KEY = "reconciler_protect"
#: metadata keys the tool owns; manifests may not set them
RESERVED_KEYS = (MANAGED_BY_KEY, NAME_KEY, CONNECT_KEY, SECRET_PENDING_KEY, PROTECT_KEY)

PATH = "/v1/webhook_endpoints"
NEW_SECRET_WARNING = (
    "{address}: replacing creates a new endpoint with a new signing secret; "
    "consumers must switch to the new secret"
)
PENDING_SECRET_REASON = (
    "its signing secret was never delivered (an earlier apply stopped after creating it): "
    "a new endpoint gets a new secret, and consumers must switch to it"
)
PENDING_SECRET_WARNING = (
    "{address}: the signing secret of {live_id} was never delivered to any sink, so it is lost; "
    "apply replaces the endpoint to get a new secret, and consumers must switch to it"
)
PENDING_SECRET_PROTECT_HINT = (
    "{addresses}: the signing secret was never delivered, and only a replace gets a new one. "
    "Either roll the secret in the Dashboard, hand it to the consumers and remove the metadata "
    f"key {SECRET_PENDING_KEY} from the endpoint yourself, or remove lifecycle.protect so apply "
    "can replace it"
)


PROTECTED_LEFTOVER_REASON = (
    "tagged as managed by stripe-reconciler but no longer declared; it is protected "
    f"({PROTECT_KEY}=true)"
)
PROTECTED_LEFTOVER_HINT = (
    "{addresses}: no longer declared, but lifecycle.protect is recorded on the endpoint. To "
    "delete it, declare it again without lifecycle.protect and apply that (a reviewed change "
    "that lifts the protection), then remove it"
)


def owner_tags(name: str, desired: WebhookEndpoint) -> dict[str, str]:
    """The metadata tags an endpoint declared as ``name`` carries (the protect tag only while
    ``lifecycle.protect`` is set, so unprotected endpoints keep their tags as they were)."""
    tags = {
        MANAGED_BY_KEY: MANAGED_BY_VALUE,
        NAME_KEY: name,
        CONNECT_KEY: "true" if desired.connect else "false",
    }
    if desired.lifecycle.protect:
        tags[PROTECT_KEY] = "true"
    return tags


def recorded_protect(obj: LiveObject) -> bool:
    """True when an endpoint carries the recorded ``lifecycle.protect`` tag."""
    return (obj.get("metadata") or {}).get(PROTECT_KEY) == "true"


def tagged_name(obj: LiveObject) -> str | None:
    """The logical name an endpoint is tagged with, or ``None`` if it is not ours."""
    metadata = obj.get("metadata") or {}
    if metadata.get(MANAGED_BY_KEY) != MANAGED_BY_VALUE:
        return None
    name = metadata.get(NAME_KEY)
    return str(name) if name else None


def secret_pending(obj: LiveObject) -> bool:
    """True when an endpoint still carries the marker of an undelivered signing secret."""
    return (obj.get("metadata") or {}).get(SECRET_PENDING_KEY) == "true"


_PENDING_PATH = f"metadata.{SECRET_PENDING_KEY}"


def replaces_pending_secret(action: Action) -> bool:
    """True for a planned replace of an endpoint whose signing secret was never delivered.

    Read from the action's own field changes (reserved keys are never ignored, so the marker's
    removal is always among them), which is what a saved plan file carries too.
    """
    return (
        action.kind == WebhookEndpointHandler.kind
        and action.action is ActionType.REPLACE
        and any(c.path == _PENDING_PATH and c.before == "true" for c in action.changes)
    )


class WebhookEndpointHandler(ResourceHandler):
    kind: ClassVar[str] = "webhook_endpoints"

    async def fetch(self, client: ApiClient) -> tuple[LiveObject, ...]:
        return tuple([obj async for obj in client.paginate(PATH, {"limit": 100})])

    def normalize_live(self, obj: LiveObject) -> dict[str, Any]:
        metadata = dict(obj.get("metadata") or {})
        connect_tag = metadata.get(CONNECT_KEY)
        return {
            "id": obj.get("id"),
            "url": obj.get("url"),
            "enabled_events": sorted(set(obj.get("enabled_events") or ())),
            "description": obj.get("description") or "",
            "disabled": obj.get("status") == "disabled",
            "api_version": obj.get("api_version"),
            "connect": None if connect_tag is None else connect_tag == "true",
            "metadata": {k: metadata[k] for k in sorted(metadata)},
        }

    def declared(self, manifest: Manifest) -> Mapping[str, WebhookEndpoint]:
        return manifest.webhook_endpoints

    def describe(self, obj: LiveObject) -> str:
        return f"{obj.get('url')} ({obj.get('status', 'enabled')})"

    def live_address(self, obj: LiveObject) -> str:
        """``webhook_endpoints.<name>[<id>]`` for an endpoint tagged with a name, so that
        ``--target webhook_endpoints.<name>`` covers the cleanup of its own duplicates (and of
        a name no longer declared); ``webhook_endpoints[<id>]`` for an untagged one."""
        name = tagged_name(obj)
        if name is None:
            return super().live_address(obj)
        return f"{self.address(name)}[{self.live_id(obj)}]"

    def match(
        self, declared: Mapping[str, Any], live: tuple[LiveObject, ...], *, now: int
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
        for name in sorted(declared):
            desired: WebhookEndpoint = declared[name]
            if name in tagged:
                first, *duplicates = sorted(
                    tagged[name], key=partial(self._keep_order, name, desired)
                )
                pairs.append(Pair(name, desired, first))
                if duplicates:
                    ids = ", ".join(str(d["id"]) for d in duplicates)
                    warnings.append(
                        f"{self.address(name)}: more endpoints are tagged with this name "
                        f"({ids}); keeping {first['id']} and deleting the duplicates"
                    )
                    owned_leftovers.extend(duplicates)
                    for duplicate in duplicates:
                        reasons[str(duplicate["id"])] = f"duplicate of {first['id']} ({name})"
                        duplicate_ids.add(str(duplicate["id"]))
                        # its secret may be the one consumers hold: protect covers it too
                        if desired.lifecycle.protect:
                            protected_ids.add(str(duplicate["id"]))
                continue
            same_url = [
                o for o in untagged if o.get("url") == desired.url and o["id"] not in adopted_ids
            ]
            if len(same_url) == 1:
                adopted_ids.add(str(same_url[0]["id"]))
                pairs.append(Pair(name, desired, same_url[0], adopted=True))
                continue
            if len(same_url) > 1:
                ids = ", ".join(str(o["id"]) for o in same_url)
                warnings.append(
                    f"{self.address(name)}: {len(same_url)} untagged endpoints already use "
                    f"{desired.url} ({ids}); not adopting either, a new endpoint will be created"
                )
            pairs.append(Pair(name, desired, None))
        for name in sorted(set(tagged) - set(declared)):
            owned_leftovers.extend(tagged[name])
            for obj in tagged[name]:
                if recorded_protect(obj):
                    protected_ids.add(str(obj["id"]))
                    reasons[str(obj["id"])] = PROTECTED_LEFTOVER_REASON
        leftovers = tuple(o for o in untagged if o["id"] not in adopted_ids)
        return Matching(
            pairs=tuple(pairs),
            leftovers=leftovers,
            owned_leftovers=tuple(owned_leftovers),
            warnings=tuple(warnings),
            protected_ids=frozenset(protected_ids),
            reasons=reasons,
            duplicate_ids=frozenset(duplicate_ids),
        )

    def _keep_order(self, name: str, desired: WebhookEndpoint, obj: LiveObject) -> tuple[Any, ...]:
        """Which of several endpoints tagged ``name`` to keep: the smallest key wins.

        Duplicates come from a replace that stopped after creating the new endpoint, so the
        lowest id is usually the *old* one. Keep the one that needs no create-only change (the
        replacement already done), then one whose secret was delivered, then the newest; the
        id only breaks ties, for a stable plan.
        """
        _, _, recreate = self._compare(name, desired, obj)
        created = obj.get("created")
        newest_first = -created if isinstance(created, int) else 0
        return (bool(recreate), secret_pending(obj), newest_first, str(obj.get("id")))

    # -- comparison -------------------------------------------------------------------------
    def _compare(
        self, name: str, desired: WebhookEndpoint, live: LiveObject
    ) -> tuple[list[FieldChange], dict[str, Any], list[str]]:
        """Field changes, the update params that fix them, and the create-only fields changed."""
        now = self.normalize_live(live)
        life = desired.lifecycle
        changes: list[FieldChange] = []
        params: dict[str, Any] = {}
        recreate: list[str] = []
        # api_version omitted means "not managed": an absent field must never force a replace
        api_version = desired.api_version
        if api_version not in (None, now["api_version"]) and not ignored("api_version", life):
            changes.append(change("api_version", now["api_version"], api_version))
            recreate.append("api_version")
        # connect is only known from our own tag; an adopted endpoint's value is unknowable
        connect_known = now["connect"] is not None
        if connect_known and now["connect"] != desired.connect and not ignored("connect", life):
            changes.append(change("connect", now["connect"], desired.connect))
            recreate.append("connect")
        if desired.url != now["url"] and not ignored("url", life):
            changes.append(change("url", now["url"], desired.url))
            params["url"] = desired.url
        events = sorted(set(desired.enabled_events))
        if events != now["enabled_events"] and not ignored("enabled_events", life):
            changes.append(change("enabled_events", now["enabled_events"], events))
            params["enabled_events"] = events
        description = desired.description or ""
        if description != now["description"] and not ignored("description", life):
            changes.append(change("description", now["description"], description))
            params["description"] = description
        if desired.disabled != now["disabled"] and not ignored("disabled", life):
            changes.append(change("disabled", now["disabled"], desired.disabled))
            params["disabled"] = desired.disabled
        want = {**desired.metadata, **owner_tags(name, desired)}
        have: dict[str, str] = now["metadata"]
        metadata_params: dict[str, str] = {}
        for key in sorted(set(want) | set(have)):
            # Reserved keys are the tool's bookkeeping, never the user's: ignoring the
            # secret-pending marker would hide an undelivered signing secret for good.
            if key not in RESERVED_KEYS and ignored(f"metadata.{key}", life):
                continue
            if want.get(key) != have.get(key):
                changes.append(change(f"metadata.{key}", have.get(key), want.get(key)))
                # an empty value is how Stripe unsets one metadata key
                metadata_params[key] = want.get(key, "")
        if metadata_params:
            params["metadata"] = metadata_params
        return changes, params, recreate

    def decide(self, pair: Pair, *, now: int) -> Decision:
        desired: WebhookEndpoint = pair.desired
        address = self.address(pair.name)
        if pair.live is None:
            return Decision(
                ActionType.CREATE,
                changes=tuple(self._create_changes(pair.name, desired)),
                reason="no endpoint is tagged with this name",
            )
        changes, _, recreate = self._compare(pair.name, desired, pair.live)
        if secret_pending(pair.live):
            # Checked first: whatever else differs, the replace creates it as declared.
            reason = PENDING_SECRET_REASON
            if recreate:
                reason += f"; create-only field changed too: {', '.join(recreate)}"
            return Decision(
                ActionType.REPLACE,
                changes=tuple(changes),
                reason=reason,
                warnings=(PENDING_SECRET_WARNING.format(address=address, live_id=pair.live["id"]),),
            )
        if recreate:
            return Decision(
                ActionType.REPLACE,
                changes=tuple(changes),
                reason=f"create-only field changed: {', '.join(recreate)}",
                warnings=(NEW_SECRET_WARNING.format(address=address),),
            )
        if pair.adopted:
            notes = [
                f"{address}: adopting {pair.live['id']}; its signing secret stays unknown to "
                "stripe-reconciler (roll it in the Dashboard to get one)"
            ]
            if desired.connect:
                notes.append(
                    f"{address}: Stripe never returns `connect`; recording the declared "
                    "value true without being able to check it"
                )
            return Decision(
                ActionType.ADOPT,
                changes=tuple(changes),
                reason="exactly one untagged endpoint has the declared URL",
                warnings=tuple(notes),
            )
        if changes:
            return Decision(ActionType.UPDATE, changes=tuple(changes), reason="fields differ")
        return Decision(None)

    def _create_changes(self, name: str, desired: WebhookEndpoint) -> list[FieldChange]:
        changes = [
            change("url", None, desired.url),
            change("enabled_events", None, sorted(set(desired.enabled_events))),
        ]
        if desired.description:
            changes.append(change("description", None, desired.description))
        if desired.api_version is not None:
            changes.append(change("api_version", None, desired.api_version))
        changes.append(change("connect", None, desired.connect))
        if desired.disabled:
            changes.append(change("disabled", None, True))
        metadata = {**desired.metadata, **owner_tags(name, desired)}
        changes.extend(change(f"metadata.{k}", None, metadata[k]) for k in sorted(metadata))
        return changes

    # -- requests ---------------------------------------------------------------------------
    def _create_requests(self, name: str, desired: WebhookEndpoint) -> list[Request]:
        params: dict[str, Any] = {
            "url": desired.url,
            "enabled_events": sorted(set(desired.enabled_events)),
            "connect": desired.connect,
            "metadata": {**desired.metadata, **owner_tags(name, desired)},
        }
        if desired.description:
            params["description"] = desired.description
        if desired.api_version is not None:
            params["api_version"] = desired.api_version
        requests = [Request("create", "POST", PATH, params)]
        if desired.disabled:
            # Stripe has no `disabled` on create: create, then disable the new endpoint
            requests.append(Request("disable", "POST", f"{PATH}/{NEW_ID}", {"disabled": True}))
        return requests

    def requests(
        self, action: ActionType, name: str | None, desired: Any, live: LiveObject | None
    ) -> tuple[Request, ...]:
        if action is ActionType.CREATE:
            assert name is not None
            return tuple(self._create_requests(name, desired))
        assert live is not None
        old = f"{PATH}/{live['id']}"
        if action is ActionType.DELETE:
            return (Request("delete", "DELETE", old),)
        assert name is not None
        if action is ActionType.REPLACE:
            return (*self._create_requests(name, desired), Request("delete", "DELETE", old))
        _, params, _ = self._compare(name, desired, live)
        return (Request("update", "POST", old, params),)

"""Running a plan against Stripe: order, parallelism, idempotency, lookups and secret delivery.

Order (PRODUCT.md §6): tax settings; then creates, updates and adopts; then replacements (new
before old); then deletes and expires. Actions within one phase are independent and run with at
most ``parallelism`` at a time. A failure stops only the work that depends on it (the later
phases of its kind, and registrations after tax settings, see :func:`blocked_by`); a secret
sink that fails stops every further new secret. The ones running finish, and the result lists
what was done, what failed and what never started (with what it waits for). Endpoint work is
ordered to stay within Stripe's 16-endpoint limit (:mod:`reconciler.apply.endpoint_budget`).

Every POST carries a deterministic ``Idempotency-Key`` (:mod:`reconciler.apply.idempotency`), so a
retried, repeated or concurrent apply of the same plan replays instead of duplicating. Before
creating a registration, apply lists them once per phase and looks it up by natural key and
window (:mod:`reconciler.apply.lookup`), which covers what the 24-hour key window does not.
Right after creating an endpoint it lists the ones tagged with that name: one it did not plan
for was created by a concurrent apply of another plan, so it deletes its own before handing out
the secret (see ``_yield_to_concurrent_create``). Registrations get the same treatment once per
phase: after the phase's creates, one listing; a registration this apply created that has a
twin it did not plan for (a concurrent apply of another plan) is expired again and its action
fails (``_yield_registrations_to_rivals``), so at most one of the twins survives.

Webhook signing secrets. A new endpoint is created with the metadata marker
``reconciler_secret_pending=true``; its secret goes to every sink before anything else happens to
it; only then is the marker removed. An endpoint still carrying the marker therefore has a secret
nobody may have received (the process died in between); the next plan replaces it
(``reconciler.resources.webhook_endpoint``), and that apply delivers a fresh secret.

A create's answer may be an idempotent replay of a create this plan made before; its object is
then fetched once, and if it was deleted or has expired since, the create is sent again under a
derived key (``Executor._create``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.apply.endpoint_budget import EndpointBudget
from reconciler.apply.idempotency import derived_key, idempotency_key
from reconciler.apply.listing import SharedListing
from reconciler.apply.lookup import same_registration, twins
from reconciler.apply.progress import (
    ActionResult,
    ApplyResult,
    EventCallback,
    ProgressEvent,
    Status,
    ignore_event,
)
from reconciler.apply.secrets import NewSecret, SecretSinks
from reconciler.errors import (
    ApplyError,
    LiveModeGuardError,
    MalformedResponseError,
    NotFoundError,
    ReconcilerError,
    SecretSinkError,
    StripeError,
)
from reconciler.plan.model import NEW_ID, Action, ActionType, Plan, Request
from reconciler.resources import HANDLERS
from reconciler.resources.base import ApiClient, LiveObject, LiveState
from reconciler.resources.changes import DUPLICATE_STEP
from reconciler.resources.tax_registration import CANDIDATE_STATUSES
from reconciler.resources.tax_registration import PATH as REGISTRATION_PATH
from reconciler.resources.webhook_endpoint import PATH as ENDPOINT_PATH
from reconciler.resources.webhook_endpoint import (
    SECRET_PENDING_KEY,
    replaces_pending_secret,
    tagged_name,
)
from reconciler.stripe.client import was_replayed

logger = logging.getLogger(__name__)

ENDPOINTS = "webhook_endpoints"
REGISTRATIONS = "tax_registrations"

#: The clock apply judges registration windows by; module-level so tests can replace it.
_now = time.time
_sleep = asyncio.sleep

#: Pauses between tries of a listing a decision depends on (see ``Executor._patiently``).
LISTING_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)

#: How many times one create is sent again with a derived key after its answer turned out to be
#: a replay of an object that is gone (deleted or expired since); each needs its own earlier loss
#: of an object this plan created within Stripe's 24-hour key window.
MAX_RECREATES = 25

#: Test hook: SIGKILL this process after the N-th completed write or secret delivery, so the
#: crash tests can stop apply at exact points. Never set it outside tests.
CRASH_HOOK_ENV = "STRIPE_RECONCILER_TEST_CRASH_AFTER"


@dataclass(frozen=True)
class ApplyTarget:
    """Where the plan is applied; every idempotency key is scoped by all of it."""

    account: str
    mode: str
    stripe_account: str | None
    plan_checksum: str


#: how many phases :func:`phase_of` numbers
PHASES = 5


def phase_of(action: Action) -> int:
    """0 tax settings; 1 the deletes that finish an interrupted replace (a duplicate whose
    twin is kept: ``DUPLICATE_STEP``), which free a place under the endpoint limit; 2 creates,
    updates and adopts; 3 replacements; 4 deletes and expires."""
    if action.kind == "tax_settings":
        return 0
    if action.action is ActionType.REPLACE:
        return 3
    if action.action in (ActionType.DELETE, ActionType.EXPIRE):
        finishing = bool(action.requests) and action.requests[0].step == DUPLICATE_STEP
        return 1 if finishing else 4
    return 2


#: kind → the kinds it needs: Stripe refuses a registration until tax settings hold a head office
DEPENDS_ON: Mapping[str, tuple[str, ...]] = {REGISTRATIONS: ("tax_settings",)}


def blocked_by(action: Action, failed: Sequence[Action]) -> Action | None:
    """The failed action that ``action`` must not run after, if any.

    Only dependent work stops (PRODUCT.md §6): the later phases of the same kind (a delete
    waits for the create that takes over, an expire for the successor) and the kinds that
    need the failed one. Everything else is independent and still runs.
    """
    phase = phase_of(action)
    for failure in failed:
        if failure.kind in DEPENDS_ON.get(action.kind, ()):
            return failure
        if failure.kind == action.kind and phase_of(failure) < phase:
            return failure
    return None


def interleave_kinds(batch: list[tuple[int, Action]]) -> list[tuple[int, Action]]:
    """The actions of one phase taking turns by kind, each kind in plan order.

    Under a per-operation rate limit tighter than the global one (Stripe's 25/s per endpoint
    against 100/s live), 150 registration creates need 6 s whatever else runs. Started in plan
    order, the endpoints would hold every parallel slot first while the registrations' budget
    sat idle; taking turns keeps every operation's budget in use. Actions of one phase are
    independent, so their start order is free.
    """
    by_kind: dict[str, list[tuple[int, Action]]] = {}
    for item in batch:
        by_kind.setdefault(item[1].kind, []).append(item)
    queues = list(by_kind.values())
    turns: list[tuple[int, Action]] = []
    for rank in range(max((len(queue) for queue in queues), default=0)):
        turns.extend(queue[rank] for queue in queues if rank < len(queue))
    return turns


def creates_endpoints(plan: Plan) -> tuple[Action, ...]:
    """Actions that will produce a new webhook signing secret (create or replace)."""
    return tuple(
        a
        for a in plan.actions
        if a.kind == ENDPOINTS and a.action in (ActionType.CREATE, ActionType.REPLACE)
    )


class Executor:
    """Applies one plan; use :func:`execute_plan`."""

    def __init__(
        self,
        client: ApiClient,
        target: ApplyTarget,
        sinks: SecretSinks,
        *,
        parallelism: int,
        on_event: EventCallback,
        live: LiveState | None = None,
        interleave: bool = False,
    ) -> None:
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        self._interleave = interleave
        self._client = client
        self._target = target
        self._sinks = sinks
        self._parallelism = parallelism
        self._on_event = on_event
        self._failed: list[Action] = []
        self._sink_failed = False
        self._budget = EndpointBudget(None if live is None else len(live.of(ENDPOINTS)))
        #: every object that existed when the plan was made: none of them can be a concurrent
        #: apply's creation (a duplicate the plan left out, e.g. under --target, is not one)
        self._seen_ids: frozenset[str] = frozenset(() if live is None else live.ids())
        self._lookups: dict[tuple[int, str], tuple[LiveObject, ...]] = {}
        self._lookup_lock = asyncio.Lock()
        self._phase = 0
        self._crash_after = int(os.environ.get(CRASH_HOOK_ENV, "0") or 0)
        self._milestones = 0
        self._planned_ids: frozenset[str] = frozenset()
        self._secret_actions: tuple[Action, ...] = ()
        self._endpoint_listing = SharedListing(self._list_endpoints)
        #: registrations this run created in the current phase: (action, new id, create request)
        self._new_registrations: list[tuple[Action, str, Request]] = []

    async def run(self, plan: Plan) -> ApplyResult:
        self._planned_ids = frozenset(a.live_id for a in plan.actions if a.live_id)
        self._secret_actions = creates_endpoints(plan)
        started = time.monotonic()
        results: dict[int, ActionResult] = {}
        indexed = list(enumerate(plan.actions))
        for phase in range(PHASES):
            batch = [(i, a) for i, a in indexed if phase_of(a) == phase]
            if self._interleave:
                batch = interleave_kinds(batch)
            if not batch:
                continue
            self._phase = phase
            await self._run_phase(batch, results)
            indexes = {action.address: index for index, action in batch}
            await self._yield_registrations_to_rivals(indexes, results)
        ordered = tuple(results.get(i) or self._not_started(a) for i, a in indexed)
        return ApplyResult(ordered, time.monotonic() - started)

    async def _run_phase(
        self, batch: list[tuple[int, Action]], results: dict[int, ActionResult]
    ) -> None:
        semaphore = asyncio.Semaphore(self._parallelism)

        async def one(index: int, action: Action) -> None:
            async with semaphore:
                if self._waits_for(action) is not None:
                    return  # reported as never started
                results[index] = await self._run_action(action)

        await asyncio.gather(*(one(i, a) for i, a in batch))

    def _waits_for(self, action: Action) -> str | None:
        """Why ``action`` must not start now (a failure it depends on), or ``None``."""
        failure = blocked_by(action, self._failed)
        if failure is not None:
            return f"waits for {failure.address}, which failed"
        if self._sink_failed and action in self._secret_actions:
            return "a new signing secret could not be delivered to the sinks"
        return None

    def _not_started(self, action: Action) -> ActionResult:
        return ActionResult(
            action.address,
            action.action.value,
            Status.NOT_STARTED,
            action.live_id,
            error=self._waits_for(action),
        )

    # -- one action ---------------------------------------------------------------------------
    async def _run_action(self, action: Action) -> ActionResult:
        name = action.action.value
        self._emit("start", action, action.live_id)
        started = time.monotonic()
        try:
            stripe_id = await self._perform(action)
        except ReconcilerError as error:
            self._failed.append(action)
            # a sink that cannot keep a secret fails every create alike: make no more secrets
            self._sink_failed = self._sink_failed or isinstance(error, SecretSinkError)
            elapsed = time.monotonic() - started
            self._emit("fail", action, action.live_id, elapsed, str(error))
            return ActionResult(
                action.address, name, Status.FAILED, action.live_id, elapsed, str(error)
            )
        elapsed = time.monotonic() - started
        self._emit("end", action, stripe_id, elapsed)
        return ActionResult(action.address, name, Status.DONE, stripe_id, elapsed)

    async def _perform(self, action: Action) -> str | None:
        requests = action.requests
        creating = bool(requests) and requests[0].step == "create"
        if action.kind == ENDPOINTS and creating:
            return await self._create_endpoint(action)
        if action.kind == REGISTRATIONS and action.action is ActionType.REPLACE:
            # expire the old one, then create its successor
            await self._expire_registration(action, requests[0])
            return await self._create_registration(action, 1)
        if action.kind == REGISTRATIONS and action.action is ActionType.EXPIRE:
            await self._expire_registration(action, requests[0])
            return action.live_id
        if action.kind == REGISTRATIONS and creating:
            return await self._create_registration(action, 0)
        for index, request in enumerate(requests):
            await self._send(action, index, request)
        if action.kind == ENDPOINTS and action.action is ActionType.DELETE:
            await self._budget.give()  # a place for the creates after a finishing delete
        return action.live_id

    async def _expire_registration(self, action: Action, request: Request) -> None:
        """End a registration as planned (``expires_at=now``, or a scheduled one's start).

        One that has expired since the plan was made (an earlier run of this plan, another
        apply, the Dashboard) is left alone: Stripe updates expired registrations too, and
        ``expires_at=now`` on one would move its end later.
        """
        live = next(
            (o for o in await self._lookup(REGISTRATIONS) if o.get("id") == action.live_id),
            None,
        )
        if live is not None and live.get("status") == "expired":
            self._note(action, f"{action.live_id} is already expired")
            return
        await self._send(action, 0, request)

    async def _create_registration(self, action: Action, index: int) -> str:
        request = action.requests[index]
        existing = same_registration(
            request.params,
            await self._lookup(REGISTRATIONS),
            excluded={*self._planned_ids, action.live_id or ""},
            now=int(_now()),
        )
        if existing is not None:
            self._note(action, f"already exists as {existing} (same natural key and window)")
            return existing
        created = await self._create(action, index, request, self._registration_gone)
        new_id = _id_of(created, request)
        self._new_registrations.append((action, new_id, request))
        return new_id

    async def _yield_registrations_to_rivals(
        self, indexes: Mapping[str, int], results: dict[int, ActionResult]
    ) -> None:
        """Keep at most one registration per window when applies of different plans race.

        The listing is sent after every create of the phase completed. A twin this run did
        not plan for, next to one it created, was created by another apply: the one this run
        created is expired again (in its first second, or where it starts if scheduled) and
        its action fails; run apply again. Of two twins at least one creator lists after both
        exist and yields, as for endpoints (``_yield_to_concurrent_create``): none may survive
        (the next apply creates one), never two.
        """
        created, self._new_registrations = self._new_registrations, []
        if not created:
            return
        try:
            listed = await self._patiently(lambda: HANDLERS[REGISTRATIONS].fetch(self._client))
        except ReconcilerError as error:
            # Registrations carry no tag, so a twin left now would never be told apart: with
            # no way to check, each one this phase created yields as to a rival.
            logger.warning("could not list registrations to check for twins: %s", error)
            listed = ()
            unverified = True
        else:
            unverified = False
        by_id = {str(obj.get("id")): obj for obj in listed}
        for action, new_id, request in created:
            rivals = twins(
                request.params,
                listed,
                excluded={new_id, *self._planned_ids, *self._seen_ids},
                now=int(_now()),
            )
            if not rivals and not unverified:
                continue
            own = by_id.get(new_id, {})
            ends: Any = own.get("active_from") if own.get("status") == "scheduled" else "now"
            path = f"{REGISTRATION_PATH}/{new_id}"
            why = (
                f"another apply created {action.address} at the same time ({', '.join(rivals)})"
                if rivals
                else f"registrations could not be listed to check that no other apply created "
                f"{action.address} at the same time"
            )
            message = (
                f"{why}; expired the one this apply created ({new_id}). Run apply again once "
                "the other apply has finished."
            )
            try:
                await self._send(action, 102, Request("expire", "POST", path, {"expires_at": ends}))
            except ReconcilerError as error:
                message = f"{message[: message.index('; expired')]}; expiring {new_id}: {error}"
            self._failed.append(action)
            self._emit("fail", action, new_id, None, message)
            index = indexes[action.address]
            results[index] = replace(results[index], status=Status.FAILED, error=message)

    async def _create(
        self,
        action: Action,
        index: int,
        request: Request,
        gone: Callable[[str], Awaitable[str | None]],
    ) -> dict[str, Any]:
        """Send a create; trust a replayed answer only while its object is still there.

        The key is the same for the same plan, so within Stripe's 24-hour window a re-run of a
        plan replays the first answer: after a crash that is how a new endpoint's secret comes
        back, but if the object was deleted (or the registration ended) since, the replay
        describes something that no longer exists. Then the create is sent again under a
        derived key. Only a replay costs the extra GET.
        """
        lost: tuple[str, ...] = ()
        for _ in range(MAX_RECREATES + 1):
            created = await self._send(action, index, request, lost=lost)
            if not was_replayed(created):
                return created
            replayed_id = _id_of(created, request)
            why = await gone(replayed_id)
            if why is None:
                return created
            self._note(
                action,
                f"Stripe replayed an earlier create of {replayed_id}, which {why} since; "
                "creating it again",
            )
            lost = (*lost, replayed_id)
        raise ApplyError(
            f"{action.address}: every create was answered with a replay of an object that is "
            f"gone ({MAX_RECREATES + 1} tries); run plan and apply again"
        )

    async def _endpoint_gone(self, endpoint_id: str) -> str | None:
        try:
            await self._client.request("GET", f"{ENDPOINT_PATH}/{endpoint_id}")
        except NotFoundError:
            return "was deleted"
        except ReconcilerError as error:
            # The replay carries the endpoint's secret: when it cannot be checked, keep it
            # rather than throw it away (a gone endpoint fails at its confirmation instead).
            logger.warning("could not look up the replayed endpoint %s: %s", endpoint_id, error)
        return None

    async def _registration_gone(self, registration_id: str) -> str | None:
        try:
            obj = await self._client.request("GET", f"{REGISTRATION_PATH}/{registration_id}")
        except NotFoundError:
            return "no longer exists"
        status = obj.get("status")
        return None if status in CANDIDATE_STATUSES else f"has become {status}"

    async def _create_endpoint(self, action: Action) -> str:
        """Create (or replace) an endpoint within the endpoint limit (:mod:`.endpoint_budget`).

        A replace creates the new endpoint, delivers its secret and only then deletes the old
        one. The old one of an endpoint whose secret was never delivered goes first when the
        account has no free place: its secret never left the create response.
        """
        old = [(i, r) for i, r in enumerate(action.requests) if r.method == "DELETE"]
        took = False
        if old and replaces_pending_secret(action):
            took = self._budget.try_take()
            if not took:
                for index, request in old:
                    await self._send(action, index, request)
                self._note(
                    action,
                    f"deleted {action.live_id} before creating its successor: its signing "
                    "secret was never delivered, and the account has no free place for both",
                )
                return await self._make_endpoint(action)
        if not took:
            await self._budget.take()
        replacing = self._budget.freeing() if old else contextlib.nullcontext()
        async with replacing:
            new_id = await self._make_endpoint(action)
            for index, request in old:
                # the old endpoint goes only after the new one is confirmed
                await self._send(action, index, request, new_id=new_id)
                await self._budget.give()
        return new_id

    async def _make_endpoint(self, action: Action) -> str:
        """Create the new endpoint, hand its secret to the sinks, then finish and confirm it.

        Once Stripe has answered the create, the secret is delivered whatever a follow-up
        check says: a listing that fails only skips the check for a concurrent apply's
        endpoint (a later plan deletes a duplicate), and a replay whose object cannot be
        looked up is trusted. Only a rival found by a successful listing stops it, before
        its secret goes anywhere.
        """
        name = action.address.split(".", 1)[1]
        create, *rest = action.requests
        params = dict(create.params)
        params["metadata"] = {**dict(params.get("metadata") or {}), SECRET_PENDING_KEY: "true"}
        # Within the key window Stripe replays the original answer to the same create (a retry,
        # or a concurrent apply of the same plan), which is the only way to get its secret back.
        created, listed = await self._endpoint_listing.create_then_list(
            self._create(action, 0, replace(create, params=params), self._endpoint_gone)
        )
        new_id = _id_of(created, create)
        secret = created.get("secret")
        if not isinstance(secret, str) or not secret:
            raise StripeError(f"Stripe returned no signing secret for the new endpoint {new_id}")
        if listed is None:
            # The secret is held, not thrown away: the check that no concurrent apply created
            # this name too (so no sink is ever handed two secrets for one name) is retried
            # until it can be made or the command's deadline ends.
            self._note(action, f"listing endpoints failed after creating {new_id}; retrying")
            listed = await self._patiently(self._list_endpoints)
        await self._yield_to_concurrent_create(action, name, new_id, create.path, listed)
        await self._deliver(action, name, new_id, str(created.get("url") or ""), secret)
        for offset, request in enumerate(rest, start=1):
            if request.method != "DELETE":
                await self._send(action, offset, request, new_id=new_id)
        confirm = Request(
            "confirm", "POST", f"{create.path}/{new_id}", {"metadata": {SECRET_PENDING_KEY: ""}}
        )
        await self._send(action, len(action.requests), confirm)
        return new_id

    async def _yield_to_concurrent_create(
        self, action: Action, name: str, new_id: str, path: str, listed: Sequence[LiveObject]
    ) -> None:
        """Keep at most one endpoint per name when applies of different plans race.

        Different plans use different idempotency keys, so two applies can both create ``name``.
        Right after its create, before the secret goes anywhere, each lists the endpoints tagged
        ``name`` (``listed``: sent after the create completed, and shared by the creates that
        finished together, see :mod:`reconciler.apply.listing`); one it did not plan for means
        another apply got there, so it deletes its own and fails (run apply again). An endpoint
        is only ever deleted here by its own creator, before its secret goes anywhere, and a
        survivor has seen no rival after its create, so at most one survives (none, when both
        see each other; the next apply then creates one) and no sink is handed the secret of an
        endpoint that is then deleted.
        """
        known = {new_id, *self._planned_ids, *self._seen_ids}
        others = sorted(
            str(obj.get("id"))
            for obj in listed
            if tagged_name(obj) == name and str(obj.get("id")) not in known
        )
        if not others:
            return
        await self._send(action, 101, Request("delete", "DELETE", f"{path}/{new_id}"))
        raise ApplyError(
            f"another apply created {action.address} at the same time ({', '.join(others)}); "
            f"deleted the one this apply created ({new_id}) before its secret was handed out. "
            "Run apply again once the other apply has finished."
        )

    # -- helpers ------------------------------------------------------------------------------
    async def _deliver(
        self, action: Action, name: str, endpoint_id: str, url: str, secret: str
    ) -> None:
        new = NewSecret(
            name=name,
            address=action.address,
            webhook_endpoint_id=endpoint_id,
            url=url,
            secret=secret,
        )
        await asyncio.to_thread(self._sinks.deliver, new)
        self._note(action, f"signing secret of {endpoint_id} delivered to {self._sinks.describe()}")
        self._milestone()

    async def _send(
        self,
        action: Action,
        index: int,
        request: Request,
        *,
        new_id: str | None = None,
        lost: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        path = request.path.replace(NEW_ID, new_id) if new_id else request.path
        if NEW_ID in path:
            raise StripeError(f"{action.address}: request path {path} needs a created id")
        params: Mapping[str, Any] | None = dict(request.params) or None
        key = None
        if request.method.upper() == "POST":
            key = idempotency_key(
                account=self._target.account,
                mode=self._target.mode,
                stripe_account=self._target.stripe_account,
                plan_checksum=self._target.plan_checksum,
                address=action.address,
                action=f"{action.action.value}/{request.step}#{index}",
                method=request.method,
                path=path,
                params=params,
            )
            for gone_id in lost:
                # A create sent again after its replay described an object gone since: the
                # key follows the chain of lost objects, so every apply of this plan (after a
                # crash, or concurrently) takes the same path, and each loss within Stripe's
                # key window leads to a key of its own, never one used up by an earlier loss.
                key = derived_key(key, gone_id)
        try:
            response = await self._client.request(request.method, path, params, idempotency_key=key)
        except NotFoundError:
            if request.method.upper() != "DELETE":
                raise
            # already gone: a retry after a dropped answer, or a concurrent apply got there first
            logger.info("%s: %s was already deleted", action.address, path)
            response = {}
        self._milestone()
        return response

    async def _patiently(
        self, fetch: Callable[[], Awaitable[tuple[LiveObject, ...]]]
    ) -> tuple[LiveObject, ...]:
        """A listing that a decision depends on, tried again after a pause while it fails
        (each try is already a client request with its retries); the client's deadline still
        ends it, and the last failure is raised."""
        for pause in LISTING_PAUSES:
            try:
                return await fetch()
            except ReconcilerError as error:
                logger.warning("listing failed (%s); trying again in %.1fs", error, pause)
            await _sleep(pause)
        return await fetch()

    async def _list_endpoints(self) -> tuple[LiveObject, ...]:
        return await HANDLERS[ENDPOINTS].fetch(self._client)

    async def _lookup(self, kind: str) -> tuple[LiveObject, ...]:
        """Live objects of ``kind``, listed once per phase (creates of one phase share it)."""
        async with self._lookup_lock:
            cache_key = (self._phase, kind)
            if cache_key not in self._lookups:
                self._lookups[cache_key] = await HANDLERS[kind].fetch(self._client)
            return self._lookups[cache_key]

    def _emit(
        self,
        event: str,
        action: Action,
        stripe_id: str | None,
        elapsed: float | None = None,
        message: str = "",
    ) -> None:
        self._on_event(
            ProgressEvent(event, action.address, action.action.value, stripe_id, elapsed, message)
        )

    def _note(self, action: Action, message: str) -> None:
        logger.info("%s: %s", action.address, message)
        self._emit("note", action, None, None, message)

    def _milestone(self) -> None:
        self._milestones += 1
        if self._crash_after and self._milestones == self._crash_after:
            os.kill(os.getpid(), signal.SIGKILL)


def _id_of(created: Mapping[str, Any], request: Request) -> str:
    value = created.get("id")
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"{request.method} {request.path} returned no object id")
    return value


async def execute_plan(
    plan: Plan,
    client: ApiClient,
    target: ApplyTarget,
    sinks: SecretSinks,
    *,
    parallelism: int = 4,
    on_event: EventCallback = ignore_event,
    live: LiveState | None = None,
    interleave: bool = False,
) -> ApplyResult:
    """Apply ``plan`` in order; never raises for a failed action (see :class:`ApplyResult`).

    ``live`` is the live state the plan was made from: with it, apply orders endpoint work to
    stay within Stripe's limit (:mod:`.endpoint_budget`), and knows that nothing in it was
    created by a concurrent apply.
    ``interleave``: start the actions of a phase taking turns by kind (:func:`interleave_kinds`),
    for a client whose per-operation rate limit is tighter than its global one. Otherwise plan
    order, which lets more endpoint creates share one listing when the global limit binds.
    """
    keyed = getattr(client, "mode", None)
    if isinstance(keyed, str) and keyed != target.mode:
        # the live-mode guard below every entry point: the key decides, not the caller's word
        raise LiveModeGuardError(
            f"refusing to apply a plan for {target.mode} mode with a {keyed}-mode key"
        )
    executor = Executor(
        client,
        target,
        sinks,
        parallelism=parallelism,
        on_event=on_event,
        live=live,
        interleave=interleave,
    )
    return await executor.run(plan)

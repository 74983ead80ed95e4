"""Running a plan against Stripe: order, parallelism, idempotency and per-kind steps.

Order (PRODUCT.md §6): kinds that ``run first`` (tax settings); then the deletes that finish an
interrupted replace (a duplicate whose twin is kept, which frees a place under a kind's limit);
then creates, updates and adopts; then replacements (new before old); then deletes and expires.
Actions within one phase are independent and run with at most ``parallelism`` at a time. A
failure stops only the work that depends on it (the later phases of its kind, and the kinds that
depend on it, see :func:`blocked_by`); a secret sink that fails stops every further new secret.
The ones running finish, and the result lists what was done, what failed and what never
started (with what it waits for).

Every POST carries a deterministic ``Idempotency-Key`` (:mod:`reconciler.apply.idempotency`), so a
retried, repeated or concurrent apply of the same plan replays instead of duplicating. A
create's answer may be an idempotent replay of a create this plan made before; its object is
then fetched once, and if it was deleted or has expired since, the create is sent again under a
derived key (:meth:`Executor.create`).

What a kind needs beyond sending its requests in order is reached through its spec
(:mod:`reconciler.apply.steps`): secret delivery for kinds whose create returns a secret
(webhook endpoints and event destinations: :mod:`.steps.secrets`, within Stripe's 16-endpoint
limit, which they share, see :mod:`reconciler.apply.endpoint_budget`), lookups before and after
creates for kinds without tags (registrations: :mod:`.steps.lookups`). The executor never
branches on a kind's name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.apply.endpoint_budget import EndpointBudget
from reconciler.apply.idempotency import derived_key, idempotency_key
from reconciler.apply.progress import (
    ActionResult,
    ApplyResult,
    EventCallback,
    ProgressEvent,
    Status,
    ignore_event,
)
from reconciler.apply.secrets import SecretSinks
from reconciler.apply.steps import Steps, steps_for
from reconciler.apply.steps.base import Gone, id_of
from reconciler.errors import (
    ApplyError,
    LiveModeGuardError,
    NotFoundError,
    ReconcilerError,
    SecretSinkError,
    StripeError,
)
from reconciler.plan.model import NEW_ID, Action, ActionType, Plan, Request
from reconciler.resources.base import ApiClient, LiveObject, LiveState
from reconciler.resources.changes import DUPLICATE_STEP
from reconciler.resources.kind import KindSpec
from reconciler.resources.registry import pools, spec_of
from reconciler.stripe.client import was_replayed

logger = logging.getLogger(__name__)

#: The clock apply judges registration windows by, and the pause between tries of a listing;
#: module-level so tests can replace them.
_now = time.time
_sleep = asyncio.sleep

#: How many times one create is sent again with a derived key after its answer turned out to be
#: a replay of an object that is gone (deleted or expired since); each needs its own earlier loss
#: of an object this plan created within Stripe's 24-hour key window.
MAX_RECREATES = 25

#: Pauses between tries of a listing a decision depends on (see ``Executor.patiently``).
LISTING_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)

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
    """0 kinds that run first (tax settings); 1 the deletes that finish an interrupted replace
    (a duplicate whose twin is kept: ``DUPLICATE_STEP``), which free a place under a kind's
    limit; 2 creates, updates and adopts; 3 replacements; 4 deletes and expires."""
    if spec_of(action.kind).runs_first:
        return 0
    if action.action is ActionType.REPLACE:
        return 3
    if action.action in (ActionType.DELETE, ActionType.EXPIRE):
        finishing = bool(action.requests) and action.requests[0].step == DUPLICATE_STEP
        return 1 if finishing else 4
    return 2


def blocked_by(action: Action, failed: Sequence[Action]) -> Action | None:
    """The failed action that ``action`` must not run after, if any.

    Only dependent work stops (PRODUCT.md §6): the later phases of the same kind (a delete
    waits for the create that takes over, an expire for the successor) and the kinds that
    need the failed one. Everything else is independent and still runs.
    """
    phase = phase_of(action)
    needs = spec_of(action.kind).depends_on
    for failure in failed:
        if failure.kind in needs:
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
    """Actions that will produce a new secret, such as a webhook signing secret: a create or
    replace of a kind with ``spec.secret`` whose create returns one (an EventBridge event
    destination has none)."""
    return tuple(
        a
        for a in plan.actions
        if (secret := spec_of(a.kind).secret) is not None
        and a.action in (ActionType.CREATE, ActionType.REPLACE)
        and all(secret.expects(r.params) for r in a.requests if r.step == "create")
    )


def limited_count(live: LiveState, pool: str) -> int:
    """How many live objects count against ``pool``'s limit (its budget's start)."""
    return sum(len(live.of(spec.name)) for spec in pools().get(pool, ()))


class Executor:
    """Applies one plan; use :func:`execute_plan`. Implements what kind steps may ask of it
    (:class:`reconciler.apply.steps.Runner`)."""

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
        self.client = client
        self._target = target
        self.sinks = sinks
        self._parallelism = parallelism
        self._on_event = on_event
        self._failed: list[Action] = []
        self._sink_failed = False
        #: one budget per limit pool (webhook endpoints and event destinations share one)
        self._budgets = {
            pool: EndpointBudget(None if live is None else limited_count(live, pool))
            for pool in pools()
        }
        #: every object that existed when the plan was made: none of them can be a concurrent
        #: apply's creation (a duplicate the plan left out, e.g. under --target, is not one)
        self.seen_ids: frozenset[str] = frozenset(() if live is None else live.ids())
        self._lookups: dict[tuple[int, str], tuple[LiveObject, ...]] = {}
        self._lookup_lock = asyncio.Lock()
        self._phase = 0
        self._crash_after = int(os.environ.get(CRASH_HOOK_ENV, "0") or 0)
        self._milestones = 0
        self.planned_ids: frozenset[str] = frozenset()
        self._secret_actions: tuple[Action, ...] = ()
        self._steps: dict[str, Steps] = {}

    def budget_for(self, spec: KindSpec) -> EndpointBudget | None:
        """The budget of the limit ``spec`` counts against, or ``None`` for a kind without."""
        return self._budgets.get(spec.pool) if spec.limit is not None else None

    def _steps_of(self, kind: str) -> Steps:
        if kind not in self._steps:
            self._steps[kind] = steps_for(spec_of(kind), self)
        return self._steps[kind]

    async def run(self, plan: Plan) -> ApplyResult:
        self.planned_ids = frozenset(a.live_id for a in plan.actions if a.live_id)
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
            for kind in dict.fromkeys(action.kind for _, action in batch):
                await self._steps_of(kind).after_phase(indexes, results)
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
            stripe_id = await self._steps_of(action.kind).perform(action)
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

    # -- what steps use (reconciler.apply.steps.Runner) ---------------------------------------
    def now(self) -> int:
        """The clock apply judges windows by (:data:`_now`, which tests replace)."""
        return int(_now())

    async def create(
        self, action: Action, index: int, request: Request, gone: Gone
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
            created = await self.send(action, index, request, lost=lost)
            if not was_replayed(created):
                return created
            replayed_id = id_of(created, request)
            why = await gone(replayed_id)
            if why is None:
                return created
            self.note(
                action,
                f"Stripe replayed an earlier create of {replayed_id}, which {why} since; "
                "creating it again",
            )
            lost = (*lost, replayed_id)
        raise ApplyError(
            f"{action.address}: every create was answered with a replay of an object that is "
            f"gone ({MAX_RECREATES + 1} tries); run plan and apply again"
        )

    async def send(
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
            response = await self.client.request(request.method, path, params, idempotency_key=key)
        except NotFoundError:
            if request.method.upper() != "DELETE":
                raise
            # already gone: a retry after a dropped answer, or a concurrent apply got there first
            logger.info("%s: %s was already deleted", action.address, path)
            response = {}
        self.milestone()
        return response

    async def patiently(
        self, fetch: Callable[[], Awaitable[tuple[LiveObject, ...]]]
    ) -> tuple[LiveObject, ...]:
        """A listing that a decision depends on, tried again after a pause while it fails
        (each try is already a client request with its retries); the last failure is raised,
        at once when the client's deadline would end before the next try could start."""
        # a client without a deadline (a test double) waits out every pause
        time_left: Callable[[], float] | None = getattr(self.client, "time_left", None)
        for pause in LISTING_PAUSES:
            try:
                return await fetch()
            except ReconcilerError as error:
                if time_left is not None and time_left() <= pause:
                    raise
                logger.warning("listing failed (%s); trying again in %.1fs", error, pause)
            await _sleep(pause)
        return await fetch()

    async def lookup(self, kind: str) -> tuple[LiveObject, ...]:
        """Live objects of ``kind``, listed once per phase (creates of one phase share it)."""
        async with self._lookup_lock:
            cache_key = (self._phase, kind)
            if cache_key not in self._lookups:
                self._lookups[cache_key] = await spec_of(kind).fetch(self.client)
            return self._lookups[cache_key]

    def note(self, action: Action, message: str) -> None:
        logger.info("%s: %s", action.address, message)
        self._emit("note", action, None, None, message)

    def fail(self, action: Action, stripe_id: str | None, message: str) -> None:
        """Mark a finished action failed after the fact (its object was taken back)."""
        self._failed.append(action)
        self._emit("fail", action, stripe_id, None, message)

    def milestone(self) -> None:
        """A completed write or secret delivery (the crash tests stop apply at exact ones)."""
        self._milestones += 1
        if self._crash_after and self._milestones == self._crash_after:
            os.kill(os.getpid(), signal.SIGKILL)

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

    ``live`` is the live state the plan was made from: with it, apply orders work on a kind
    with a ``limit`` to stay within it (:mod:`.endpoint_budget`), and knows that nothing in it
    was created by a concurrent apply.
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

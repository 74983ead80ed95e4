"""The apply steps every kind shares, and what steps may ask of the executor.

:class:`Steps` runs an action's requests in order. What differs between kinds is reached
through the kind's spec, never its name: a kind whose creates return a secret gets
:class:`~reconciler.apply.steps.secrets.SecretSteps`, a kind without tags that apply must look
up before creating gets :class:`~reconciler.apply.steps.lookups.LookupSteps`
(:func:`reconciler.apply.steps.steps_for`). A destroy that is an update (a registration's
expire) is skipped when the object already is what it makes (``spec.ended``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from reconciler.apply.endpoint_budget import EndpointBudget
from reconciler.apply.progress import ActionResult
from reconciler.apply.secrets import SecretSinks
from reconciler.errors import MalformedResponseError, NotFoundError
from reconciler.plan.model import Action, ActionType, Request
from reconciler.resources.base import ApiClient, LiveObject
from reconciler.resources.changes import DUPLICATE_STEP
from reconciler.resources.kind import KindSpec

Gone = Callable[[str], Awaitable[str | None]]


class Runner(Protocol):
    """What steps use of the executor (:class:`reconciler.apply.executor.Executor`)."""

    client: ApiClient
    sinks: SecretSinks
    planned_ids: frozenset[str]
    #: every object that existed when the plan was made (never a concurrent apply's creation)
    seen_ids: frozenset[str]

    def now(self) -> int: ...

    def budget_for(self, spec: KindSpec) -> EndpointBudget | None: ...

    async def send(
        self,
        action: Action,
        index: int,
        request: Request,
        *,
        new_id: str | None = None,
        lost: tuple[str, ...] = (),
    ) -> dict[str, Any]: ...

    async def patiently(
        self, fetch: Callable[[], Awaitable[tuple[LiveObject, ...]]]
    ) -> tuple[LiveObject, ...]: ...

    async def create(
        self, action: Action, index: int, request: Request, gone: Gone
    ) -> dict[str, Any]: ...

    async def lookup(self, kind: str) -> tuple[LiveObject, ...]: ...

    def note(self, action: Action, message: str) -> None: ...

    def fail(self, action: Action, stripe_id: str | None, message: str) -> None: ...

    def milestone(self) -> None: ...


class Steps:
    """Send an action's requests in order; a create returns the new object's id."""

    def __init__(self, spec: KindSpec, run: Runner) -> None:
        self.spec = spec
        self.run = run

    async def perform(self, action: Action) -> str | None:
        new_id: str | None = None
        for index, request in enumerate(action.requests):
            if request.step == "create":
                new_id = await self.create(action, index, request)
            elif request.step in (
                self.spec.destroy.value,
                DUPLICATE_STEP,
            ) and self.spec.destroy is not (ActionType.DELETE):
                await self.end(action, index, request)
            else:
                await self.run.send(action, index, request, new_id=new_id)
                budget = self.run.budget_for(self.spec)
                if request.method == "DELETE" and budget is not None:
                    await budget.give()  # a place for the creates after it
        return new_id or action.live_id

    async def create(self, action: Action, index: int, request: Request) -> str:
        created = await self.run.create(action, index, request, self.gone)
        return id_of(created, request)

    async def gone(self, object_id: str) -> str | None:
        """Why a replayed create's object no longer counts (deleted since), or ``None``."""
        try:
            await self.run.client.request("GET", f"{self.spec.path}/{object_id}")
        except NotFoundError:
            return "was deleted"
        return None

    async def end(self, action: Action, index: int, request: Request) -> None:
        """Destroy by update (expire) as planned, unless the object already is what it makes.

        One that has ended since the plan was made (an earlier run of this plan, another
        apply, the Dashboard) is left alone: Stripe updates expired registrations too, and
        ``expires_at=now`` on one would move its end later.
        """
        live = next(
            (o for o in await self.run.lookup(self.spec.name) if o.get("id") == action.live_id),
            None,
        )
        if live is not None and self.spec.ended(live):
            self.run.note(action, f"{action.live_id} is already {self.spec.destroy.value}d")
            return
        await self.run.send(action, index, request)

    async def after_phase(
        self, indexes: Mapping[str, int], results: dict[int, ActionResult]
    ) -> None:
        """Checks once every action of a phase finished (a concurrent apply's twins)."""


def id_of(created: Mapping[str, Any], request: Request) -> str:
    value = created.get("id")
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"{request.method} {request.path} returned no object id")
    return value

"""Creating objects of a kind without tags (registrations): look before creating, and after.

Before creating, apply lists the kind once per phase and looks the object up by the spec's
:class:`~reconciler.resources.kind.Lookup` (for registrations: natural key and window,
:mod:`reconciler.resources.tax_registration_windows`), which covers what the 24-hour idempotency
key window does not. After the phase's creates, one listing: an object this apply created that
has a twin it did not plan for (a concurrent apply of another plan) is taken back again and its
action fails (:meth:`LookupSteps.after_phase`), so at most one of the twins survives.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from reconciler.apply.progress import ActionResult, Status
from reconciler.apply.steps.base import Runner, Steps, id_of
from reconciler.errors import NotFoundError, ReconcilerError
from reconciler.plan.model import Action, Request
from reconciler.resources.kind import KindSpec, Lookup

logger = logging.getLogger(__name__)


class LookupSteps(Steps):
    """Creates of a kind with ``spec.lookup``; the rest as :class:`Steps`."""

    def __init__(self, spec: KindSpec, run: Runner) -> None:
        super().__init__(spec, run)
        assert spec.lookup is not None
        self.lookup: Lookup = spec.lookup
        #: objects this run created in the current phase: (action, new id, create request)
        self._created: list[tuple[Action, str, Request]] = []

    async def create(self, action: Action, index: int, request: Request) -> str:
        found = self.lookup.twins(
            request.params,
            await self.run.lookup(self.spec.name),
            excluded={*self.run.planned_ids, action.live_id or ""},
            now=self.run.now(),
        )
        if found:
            self.run.note(action, f"already exists as {found[0]} (same natural key and window)")
            return found[0]
        created = await self.run.create(action, index, request, self.gone)
        new_id = id_of(created, request)
        self._created.append((action, new_id, request))
        return new_id

    async def gone(self, object_id: str) -> str | None:
        try:
            obj = await self.run.client.request("GET", f"{self.spec.path}/{object_id}")
        except NotFoundError:
            return "no longer exists"
        return self.lookup.gone(obj)

    async def after_phase(
        self, indexes: Mapping[str, int], results: dict[int, ActionResult]
    ) -> None:
        """Keep at most one object per identity when applies of different plans race.

        The listing is sent after every create of the phase completed. A twin this run did
        not plan for, next to one it created, was created by another apply: the one this run
        created is taken back (a registration expires in its first second, or where it starts
        if scheduled) and its action fails; run apply again. Of two twins at least one creator
        lists after both exist and yields, as for secrets (``SecretSteps``): none may survive
        (the next apply creates one), never two.
        """
        created, self._created = self._created, []
        if not created:
            return
        try:
            listed = await self.run.patiently(lambda: self.spec.fetch(self.run.client))
        except ReconcilerError as error:
            # Without tags a twin left now would never be told apart: with no way to check,
            # each one this phase created yields as to a rival.
            logger.warning("could not list %ss to check for twins: %s", self.spec.noun, error)
            listed, unverified = (), True
        else:
            unverified = False
        by_id = {str(obj.get("id")): obj for obj in listed}
        for action, new_id, request in created:
            rivals = self.lookup.twins(
                request.params,
                listed,
                excluded={new_id, *self.run.planned_ids, *self.run.seen_ids},
                now=self.run.now(),
            )
            if not rivals and not unverified:
                continue
            why = (
                f"another apply created {action.address} at the same time ({', '.join(rivals)})"
                if rivals
                else f"{self.spec.noun}s could not be listed to check that no other apply "
                f"created {action.address} at the same time"
            )
            message = (
                f"{why}; expired the one this apply created ({new_id}). Run apply again once "
                "the other apply has finished."
            )
            try:
                await self.run.send(action, 102, self.lookup.undo(by_id.get(new_id, {}), new_id))
            except ReconcilerError as error:
                message = f"{message[: message.index('; expired')]}; expiring {new_id}: {error}"
            self.run.fail(action, new_id, message)
            index = indexes[action.address]
            results[index] = replace(results[index], status=Status.FAILED, error=message)

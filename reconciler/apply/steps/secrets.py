"""Creating objects whose create returns a secret (webhook signing secrets).

A new object is created with the spec's pending marker (``reconciler_secret_pending=true``); its
secret goes to every sink before anything else happens to it; only then is the marker removed.
An object still carrying the marker therefore has a secret nobody may have received (the
process died in between); the next plan replaces it, and that apply delivers a fresh secret.

Right after the create, apply lists the objects tagged with that name: one it did not plan for
was created by a concurrent apply of another plan, so it deletes its own before handing out the
secret (:meth:`SecretSteps._yield_to_concurrent_create`). A kind with a ``limit`` (16 webhook
endpoints) creates within it (:mod:`reconciler.apply.endpoint_budget`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from reconciler.apply.listing import SharedListing
from reconciler.apply.secrets import NewSecret
from reconciler.apply.steps.base import Runner, Steps, id_of
from reconciler.errors import ApplyError, NotFoundError, ReconcilerError, StripeError
from reconciler.plan.model import Action, Request
from reconciler.resources.base import LiveObject
from reconciler.resources.kind import KindSpec
from reconciler.resources.tagged import SecretDelivery

logger = logging.getLogger(__name__)


class SecretSteps(Steps):
    """Creates and replaces of a kind with ``spec.secret``; the rest as :class:`Steps`."""

    def __init__(self, spec: KindSpec, run: Runner) -> None:
        super().__init__(spec, run)
        assert spec.secret is not None
        self.secret: SecretDelivery = spec.secret
        self._listing = SharedListing(lambda: spec.fetch(run.client), what=f"{spec.noun}s")

    async def perform(self, action: Action) -> str | None:
        requests = action.requests
        if requests and requests[0].step == "create":
            return await self._create_within_limit(action)
        return await super().perform(action)

    async def gone(self, object_id: str) -> str | None:
        try:
            await self.run.client.request("GET", f"{self.spec.path}/{object_id}")
        except NotFoundError:
            return "was deleted"
        except ReconcilerError as error:
            # The replay carries the object's secret: when it cannot be checked, keep it
            # rather than throw it away (a gone object fails at its confirmation instead).
            logger.warning(
                "could not look up the replayed %s %s: %s", self.spec.short, object_id, error
            )
        return None

    async def _create_within_limit(self, action: Action) -> str:
        """Create (or replace) within the kind's limit (:mod:`.endpoint_budget`).

        A replace creates the new object, delivers its secret and only then deletes the old
        one. The old one of an object whose secret was never delivered goes first when the
        account has no free place: its secret never left the create response.
        """
        budget = self.run.budget_for(self.spec)
        old = [(i, r) for i, r in enumerate(action.requests) if r.method == "DELETE"]
        took = False
        if budget is not None and old and self.secret.replaces_pending(action):
            took = budget.try_take()
            if not took:
                for index, request in old:
                    await self.run.send(action, index, request)
                self.run.note(
                    action,
                    f"deleted {action.live_id} before creating its successor: its signing "
                    "secret was never delivered, and the account has no free place for both",
                )
                return await self._make(action)
        if budget is not None and not took:
            await budget.take()
        replacing = budget.freeing() if budget is not None and old else contextlib.nullcontext()
        async with replacing:
            new_id = await self._make(action)
            for index, request in old:
                # the old object goes only after the new one is confirmed
                await self.run.send(action, index, request, new_id=new_id)
                if budget is not None:
                    await budget.give()
        return new_id

    async def _make(self, action: Action) -> str:
        """Create the new object, hand its secret to the sinks, then finish and confirm it.

        Once Stripe has answered the create, its secret is never thrown away for a follow-up
        check: a listing that fails is tried again (the secret held) until it works or the
        command's deadline ends, and a replay whose object cannot be looked up is trusted.
        Only a rival found by the listing stops it, before its secret goes anywhere.
        """
        name = action.address.split(".", 1)[1]
        create, *rest = action.requests
        # Within the key window Stripe replays the original answer to the same create (a retry,
        # or a concurrent apply of the same plan), which is the only way to get its secret back.
        created, listed = await self._listing.create_then_list(
            self.run.create(action, 0, self.secret.marked(create), self.gone)
        )
        new_id = id_of(created, create)
        expected = self.secret.expects(create.params)
        secret = self.secret.secret_of(created)
        if expected and secret is None:
            raise StripeError(
                f"Stripe returned no signing secret for the new {self.spec.short} {new_id}"
            )
        if listed is None:
            # The secret is held, not thrown away: the check that no concurrent apply created
            # this name too (so no sink is ever handed two secrets for one name) is retried
            # until it can be made or the command's deadline ends.
            self.run.note(
                action, f"listing {self.spec.short}s failed after creating {new_id}; retrying"
            )
            listed = await self.run.patiently(lambda: self.spec.fetch(self.run.client))
        await self._yield_to_concurrent_create(action, name, new_id, create.path, listed)
        if secret is not None:
            await self._deliver(action, name, new_id, self.secret.url_of(created), secret)
        for offset, request in enumerate(rest, start=1):
            if request.method != "DELETE":
                await self.run.send(action, offset, request, new_id=new_id)
        if expected:  # only a create that returns a secret carries the marker
            confirm = self.secret.confirm(f"{create.path}/{new_id}")
            await self.run.send(action, len(action.requests), confirm)
        return new_id

    async def _yield_to_concurrent_create(
        self, action: Action, name: str, new_id: str, path: str, listed: Sequence[LiveObject]
    ) -> None:
        """Keep at most one object per name when applies of different plans race.

        Different plans use different idempotency keys, so two applies can both create ``name``.
        Right after its create, before the secret goes anywhere, each lists the objects tagged
        ``name`` (``listed``: sent after the create completed, and shared by the creates that
        finished together, see :mod:`reconciler.apply.listing`); one it did not plan for means
        another apply got there, so it deletes its own and fails (run apply again). An object
        is only ever deleted here by its own creator, before its secret goes anywhere, and a
        survivor has seen no rival after its create, so at most one survives (none, when both
        see each other; the next apply then creates one) and no sink is handed the secret of an
        object that is then deleted.
        """
        known = {new_id, *self.run.planned_ids, *self.run.seen_ids}
        others = sorted(
            str(obj.get("id"))
            for obj in listed
            if self.spec.identity.owner(obj) == name and str(obj.get("id")) not in known
        )
        if not others:
            return
        await self.run.send(action, 101, Request("delete", "DELETE", f"{path}/{new_id}"))
        raise ApplyError(
            f"another apply created {action.address} at the same time ({', '.join(others)}); "
            f"deleted the one this apply created ({new_id}) before its secret was handed out. "
            "Run apply again once the other apply has finished."
        )

    async def _deliver(
        self, action: Action, name: str, object_id: str, url: str, secret: str
    ) -> None:
        new = NewSecret(
            name=name,
            address=action.address,
            webhook_endpoint_id=object_id,
            url=url,
            secret=secret,
            prefix=self.secret.variable_prefix,
        )
        # The sinks' time is not Stripe's: a secrets command, and in a fleet the wait for
        # other accounts' deliveries (they take turns), must not use up the client's deadline.
        # A client without a deadline (a test double) has nothing to pause.
        paused = getattr(self.run.client, "deadline_paused", contextlib.nullcontext)
        with paused():
            await asyncio.to_thread(self.run.sinks.deliver, new)
        self.run.note(
            action, f"signing secret of {object_id} delivered to {self.run.sinks.describe()}"
        )
        self.run.milestone()

"""One apply from start to end: account checks, live read, plan (or staleness check), safety,
sink checks, confirmation, execution.

Everything that can refuse does so before the first write: the account and mode of a saved plan,
a stale plan, the safety policy, a plan that creates or replaces an endpoint without a sink to
keep its secret, a sink that cannot work, and a declined confirmation. The terminal is reached
only through the callbacks the CLI passes (``show_plan``, ``confirm``, ``on_event``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from reconciler.apply.executor import (
    ApplyTarget,
    creates_endpoints,
    execute_plan,
)
from reconciler.apply.progress import ApplyResult, EventCallback, ignore_event
from reconciler.apply.secrets import SecretSinks
from reconciler.apply.staleness import check_consistent, check_not_stale, own_objects
from reconciler.errors import AccountMismatchError, SecretSinkError
from reconciler.guard import check_mode
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan, check_safety
from reconciler.plan.model import Plan
from reconciler.plan.planfile import PlanFile
from reconciler.plan.targets import check_targets
from reconciler.resources import fetch_live
from reconciler.resources.registry import spec_of
from reconciler.stripe import StripeClient, StripeConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyOutcome:
    """What happened: the plan that was (or would have been) run and, if run, its result."""

    account_id: str
    plan: Plan
    result: ApplyResult | None
    declined: bool = False


def _check_saved_account(saved: PlanFile, account_id: str, config: StripeConfig) -> None:
    """Refuse a plan made for another mode, connected account or account, saying how to reach
    the right one. The connected account is compared first: under ``Stripe-Account`` the
    account the key "reaches" is the connected one, whose fix is ``--stripe-account`` with the
    platform's key, not another key."""
    if saved.mode != config.mode:
        raise AccountMismatchError(
            f"the plan was made in {saved.mode} mode but the key is a {config.mode}-mode key; "
            "use the key the plan was made with"
        )
    planned, acting = saved.stripe_account, config.stripe_account
    if planned != acting:
        if planned is None:
            raise AccountMismatchError(
                f"the plan was made for the key's own account but this run acts on connected "
                f"account {acting} (--stripe-account or STRIPE_ACCOUNT); unset it to apply this "
                f"plan, or make a new plan for {acting}"
            )
        here = f"connected account {acting}" if acting else "the key's own account"
        raise AccountMismatchError(
            f"the plan was made for connected account {planned} but this run acts on {here}; "
            f"pass --stripe-account {planned} (or set STRIPE_ACCOUNT) with the platform's key "
            "to apply it, or make a new plan"
        )
    if saved.account_id is None:
        # plan --out always records the account it read; a file without one was edited
        raise AccountMismatchError(
            "the plan file records no account (plan --out always records the one it was made "
            "for, so the file was edited); make a new plan with plan --out"
        )
    if saved.account_id != account_id:
        raise AccountMismatchError(
            f"the plan was made for account {saved.account_id} but the key reaches "
            f"{account_id}; use the key of {saved.account_id} or make a new plan with this one"
        )


def check_pinned_account(manifest: Manifest, account_id: str, stripe_account: str | None) -> None:
    """Refuse a key that reaches another account than ``account.id`` pins.

    Under ``Stripe-Account`` Stripe answers the account lookup with the connected account, so
    that one is accepted too. Shared by apply and by the CLI's plan and drift.
    """
    pinned = manifest.account.id
    if pinned is None or account_id in {pinned, stripe_account}:
        return
    raise AccountMismatchError(
        f"the API key reaches account {account_id} but the manifests pin account.id {pinned}; "
        f"use the key of {pinned} (or, if {pinned} is a connected account, the platform's key "
        f"with account.stripe_account or --stripe-account {pinned}), or change account.id"
    )


def require_sink(plan: Plan, sinks: SecretSinks) -> None:
    """Refuse a plan that would create signing secrets with nowhere to keep them."""
    making = creates_endpoints(plan)
    if making and not sinks.stores_secrets:
        listed = ", ".join(a.address for a in making)
        counts: dict[str, int] = {}
        for action in making:
            noun = spec_of(action.kind).noun
            counts[noun] = counts.get(noun, 0) + 1
        what = " and ".join(f"{count} {noun}(s)" for noun, count in counts.items())
        raise SecretSinkError(
            f"the plan creates or replaces {what} ({listed}) and "
            "Stripe returns a signing secret only once, at creation; pass --secrets-file PATH "
            "or --secrets-command CMD so it is kept. Nothing was applied."
        )


async def apply_session(
    config: StripeConfig,
    manifest: Manifest,
    sinks: SecretSinks,
    *,
    saved: PlanFile | None = None,
    targets: tuple[str, ...] = (),
    force: bool = False,
    parallelism: int = 4,
    show_plan: Callable[[Plan], None] = lambda plan: None,
    confirm: Callable[[Plan], bool] = lambda plan: True,
    on_event: EventCallback = ignore_event,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ApplyOutcome:
    """Plan (or re-check ``saved``), then apply, over a client of its own (see
    :func:`apply_with`)."""
    check_mode(config.mode, manifest)
    async with StripeClient(config, transport) as client:
        return await apply_with(
            client,
            manifest,
            sinks,
            saved=saved,
            targets=targets,
            force=force,
            parallelism=parallelism,
            show_plan=show_plan,
            confirm=confirm,
            on_event=on_event,
        )


async def apply_with(
    client: StripeClient,
    manifest: Manifest,
    sinks: SecretSinks,
    *,
    saved: PlanFile | None = None,
    targets: tuple[str, ...] = (),
    force: bool = False,
    parallelism: int = 4,
    show_plan: Callable[[Plan], None] = lambda plan: None,
    confirm: Callable[[Plan], bool] = lambda plan: True,
    on_event: EventCallback = ignore_event,
) -> ApplyOutcome:
    """Plan (or re-check ``saved``), then apply through ``client``. Failed actions are in
    ``outcome.result``.

    Refuses before the first request when the key's mode is not the manifests' (the live-mode
    guard, :mod:`reconciler.guard`), whoever calls it.
    """
    config = client.config
    check_mode(config.mode, manifest)
    account_id = await client.whoami()
    if saved is not None:
        _check_saved_account(saved, account_id, config)
        targets = tuple(getattr(saved, "targets", ()) or ())
    check_pinned_account(manifest, account_id, config.stripe_account)
    live = await fetch_live(client)
    if saved is None:  # a saved plan's targets were checked when it was made
        check_targets(targets, manifest, live)
    # The plan already replaces an endpoint whose secret was never delivered (the webhook
    # endpoint handler reads the marker), so apply runs what plan showed, and the endpoint
    # limit was checked on that replace while building it.
    plan = build_plan(manifest, live, targets=targets)
    if saved is not None:
        own = own_objects(saved.plan, live)
        check_consistent(saved.plan, plan, live, seen=saved.seen)
        check_not_stale(saved.plan, plan, own_ids=own)
    check_safety(plan, manifest, force=force)
    show_plan(plan)
    if not plan.has_changes:
        return ApplyOutcome(account_id, plan, None)
    require_sink(plan, sinks)
    if creates_endpoints(plan):
        sinks.check()
    with client.deadline_paused():  # time spent reading the plan is not Stripe's
        approved = confirm(plan)
    if not approved:
        return ApplyOutcome(account_id, plan, None, declined=True)
    target = ApplyTarget(
        account=account_id,
        mode=config.mode,
        stripe_account=config.stripe_account,
        plan_checksum=plan.checksum,
    )
    logger.info("applying %d action(s) to %s", len(plan.actions), account_id)
    # When a per-operation budget is tighter than the global one, one kind's actions are
    # bound by it, and kinds taking turns keep every budget busy.
    interleave = config.effective_operation_rate_limit < config.effective_rate_limit
    result = await execute_plan(
        plan,
        client,
        target,
        sinks,
        parallelism=parallelism,
        on_event=on_event,
        live=live,
        interleave=interleave,
    )
    return ApplyOutcome(account_id, plan, result)

"""Plan, apply, drift and export a fleet: the single-account cores, once per account, at once.

Each function opens a :class:`~reconciler.fleet.session.FleetSession` (one pool, the shared
limits), finds the accounts of the run (the fleet's, the matching connected accounts when the
fleet lists them, then ``accounts`` and ``shard``), and runs the same async core the
single-account API runs (:func:`reconciler.api.plan_account`, :func:`~reconciler.api.
drift_account`, :func:`~reconciler.api.export_account`,
:func:`reconciler.apply.session.apply_with`) for every account. One account's failure is
that account's result; the others go on.

The synchronous functions are the API (one event loop per call); the ``*_members`` coroutines
take an open session, for callers with their own loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

from reconciler.api import Account, Planned, drift_account, export_account, plan_account
from reconciler.apply.progress import ProgressEvent
from reconciler.apply.secrets import SecretSinks
from reconciler.apply.session import ApplyOutcome, apply_with
from reconciler.drift.model import DriftReport
from reconciler.errors import ReconcilerError, UsageError
from reconciler.export.build import KINDS, Export
from reconciler.fleet.load import Fleet, Member, load_members
from reconciler.fleet.planfile import FleetPlanFile
from reconciler.fleet.results import FleetApply, FleetDrift, FleetExport, FleetPlan
from reconciler.fleet.select import Shard, select_members
from reconciler.fleet.session import AccountRun, FleetSession
from reconciler.manifest import DesiredState, Diagnostic
from reconciler.manifest.model import Manifest
from reconciler.plan.model import Plan
from reconciler.plan.planfile import PlanFile
from reconciler.stripe import StripeClient

#: ``show_plan(account, plan)`` and ``on_event(account, event)`` of a fleet apply.
ShowPlan = Callable[[str, Plan], None]
OnEvent = Callable[[str, ProgressEvent], None]


def _no_plan(account: str, plan: Plan) -> None:
    """The default ``show_plan``: plans go nowhere."""


def _no_event(account: str, event: ProgressEvent) -> None:
    """The default ``on_event``: progress goes nowhere."""


def _platform(account: Account) -> Account:
    if account.stripe_account is not None:
        raise UsageError(
            "a fleet sets each account's Stripe-Account itself; unset --stripe-account "
            "(or STRIPE_ACCOUNT) when using --fleet"
        )
    return account


async def find_members(
    session: FleetSession,
    fleet: Fleet,
    *,
    accounts: Sequence[str] = (),
    shard: Shard | None = None,
) -> tuple[Member, ...]:
    """The accounts of this run (listing the platform's connected accounts when the fleet
    selects them; the listing is read whole, so every shard sees the same fleet)."""
    listed: list[str] = []
    selector = fleet.spec.connected_accounts
    if selector is not None:
        listed = await session.connected_accounts(selector.metadata)
    return select_members(fleet, listed, accounts=accounts, shard=shard)


def desired_states(
    members: Iterable[Member], *, recursive: bool = False, allow_unknown_events: bool = False
) -> tuple[dict[str, DesiredState], tuple[Diagnostic, ...]]:
    """Every member's manifests, loaded (see :func:`~reconciler.fleet.load.load_members`)."""
    return load_members(members, recursive=recursive, allow_unknown_events=allow_unknown_events)


# -- plan -----------------------------------------------------------------------------------------


async def plan_members(
    session: FleetSession,
    members: Sequence[Member],
    desired: Mapping[str, DesiredState],
    *,
    targets: Sequence[str] = (),
    need_account_id: bool = False,
    force: bool = False,
) -> tuple[AccountRun[Planned], ...]:
    """Plan every member; a plan the safety policy refuses is kept with its error."""
    manifests = {account: state.manifest for account, state in desired.items()}

    async def work(member: Member, client: StripeClient) -> Planned:
        return await plan_account(
            client,
            manifests[member.stripe_account],
            targets=targets,
            need_account_id=need_account_id,
        )

    runs = await session.each(members, manifests, work)
    return tuple(_checked(run, force) for run in runs)


def _checked(run: AccountRun[Planned], force: bool) -> AccountRun[Planned]:
    """The run, with the error apply would raise when the plan breaks a safety rule."""
    if run.value is None:
        return run
    try:
        run.value.check_safety(force=force)
    except ReconcilerError as error:
        return dataclasses.replace(run, error=error)
    return run


def plan(
    platform: Account,
    fleet: Fleet,
    *,
    accounts: Sequence[str] = (),
    shard: Shard | None = None,
    targets: Sequence[str] = (),
    need_account_id: bool = False,
    force: bool = False,
    recursive: bool = False,
    allow_unknown_events: bool = False,
    on_loaded: Callable[[Sequence[Diagnostic]], None] = lambda warnings: None,
) -> FleetPlan:
    """Plan every account of the run; see :class:`~reconciler.fleet.results.FleetPlan`.

    Every account's manifests are loaded (``ManifestError`` lists every problem) before the
    accounts are planned; ``on_loaded`` receives their warnings.
    """
    _platform(platform)

    async def run() -> FleetPlan:
        async with FleetSession(platform, fleet.spec.rate_limits) as session:
            members = await find_members(session, fleet, accounts=accounts, shard=shard)
            desired, warnings = desired_states(
                members, recursive=recursive, allow_unknown_events=allow_unknown_events
            )
            on_loaded(warnings)
            runs = await plan_members(
                session,
                members,
                desired,
                targets=targets,
                need_account_id=need_account_id,
                force=force,
            )
            return FleetPlan(runs=runs, rate_limits=fleet.spec.rate_limits, targets=tuple(targets))

    return asyncio.run(run())


# -- apply ----------------------------------------------------------------------------------------


async def apply_members(
    session: FleetSession,
    members: Sequence[Member],
    manifests: Mapping[str, Manifest],
    sinks: SecretSinks,
    *,
    saved: Mapping[str, PlanFile] | None = None,
    targets: Sequence[str] = (),
    force: bool = False,
    parallelism: int = 4,
    show_plan: ShowPlan = _no_plan,
    on_event: OnEvent = _no_event,
) -> tuple[AccountRun[ApplyOutcome], ...]:
    """Apply every member (from its manifests, or its part of a saved plan): each account's
    secrets go to ``sinks`` under names that include the account, and an account whose apply
    stops keeps its outcome (what was done) next to its error."""

    async def work(member: Member, client: StripeClient) -> ApplyOutcome:
        account = member.stripe_account
        part = None if saved is None else saved[account]
        return await apply_with(
            client,
            manifests[account],
            sinks.for_account(account),
            saved=part,
            targets=tuple(targets) if part is None else (),
            force=force,
            parallelism=parallelism,
            show_plan=lambda plan: show_plan(account, plan),
            on_event=lambda event: on_event(account, event),
        )

    runs = await session.each(members, manifests, work)
    return tuple(_stopped(run) for run in runs)


def _stopped(run: AccountRun[ApplyOutcome]) -> AccountRun[ApplyOutcome]:
    outcome = run.value
    if outcome is None or outcome.result is None or outcome.result.ok:
        return run
    return dataclasses.replace(run, error=outcome.result.error())


def apply(
    platform: Account,
    source: Fleet | FleetPlan | FleetPlanFile,
    sinks: SecretSinks,
    *,
    accounts: Sequence[str] = (),
    shard: Shard | None = None,
    targets: Sequence[str] = (),
    force: bool = False,
    parallelism: int = 4,
    show_plan: ShowPlan = _no_plan,
    on_event: OnEvent = _no_event,
    recursive: bool = False,
    allow_unknown_events: bool = False,
    on_loaded: Callable[[Sequence[Diagnostic]], None] = lambda warnings: None,
) -> FleetApply:
    """Apply ``source`` to every account of the run, without asking: a fleet's manifests
    (each account planned and applied in one go), or a reviewed plan (a :class:`FleetPlan`,
    or a saved :class:`FleetPlanFile`), whose parts are each refused when stale, the others
    applied. An account whose part has no changes is not touched; an account of a
    :class:`FleetPlan` that could not be planned is not applied and is failed with its plan's
    error."""
    _platform(platform)

    async def run() -> FleetApply:
        limits = source.spec.rate_limits if isinstance(source, Fleet) else source.rate_limits
        async with FleetSession(platform, limits) as session:
            if isinstance(source, Fleet):
                members = await find_members(session, source, accounts=accounts, shard=shard)
                desired, warnings = desired_states(
                    members, recursive=recursive, allow_unknown_events=allow_unknown_events
                )
                on_loaded(warnings)
                manifests = {account: state.manifest for account, state in desired.items()}
                runs = await apply_members(
                    session,
                    members,
                    manifests,
                    sinks,
                    targets=targets,
                    force=force,
                    parallelism=parallelism,
                    show_plan=show_plan,
                    on_event=on_event,
                )
                return FleetApply(runs)
            parts = _parts(source, accounts=accounts, shard=shard)
            busy = [part for part in parts if part.plan.has_changes]
            chosen = [Member(_account_of(part), ()) for part in busy]
            applied = await apply_members(
                session,
                chosen,
                {_account_of(part): part.desired for part in busy},
                sinks,
                saved={_account_of(part): part for part in busy},
                force=force,
                parallelism=parallelism,
                show_plan=show_plan,
                on_event=on_event,
            )
            done = {run.stripe_account: run for run in applied}
            outcomes = [
                done.get(_account_of(part), AccountRun(_account_of(part), None)) for part in parts
            ]
            outcomes += _unplanned(source, accounts=accounts, shard=shard)
            return FleetApply(tuple(sorted(outcomes, key=lambda run: run.stripe_account)))

    return asyncio.run(run())


def _account_of(part: PlanFile) -> str:
    assert part.stripe_account is not None  # a fleet's parts always name their account
    return part.stripe_account


def _unplanned(
    source: FleetPlan | FleetPlanFile, *, accounts: Sequence[str], shard: Shard | None
) -> list[AccountRun[ApplyOutcome]]:
    """The accounts of a reviewed :class:`FleetPlan` that could not be planned (or whose plan
    was refused): not applied, and failed with their plan's error. (A saved plan has no part
    for them: they failed when it was made.)"""
    if not isinstance(source, FleetPlan):
        return []
    return [
        AccountRun(run.stripe_account, None, run.error)
        for run in source.failed
        if (not accounts or run.stripe_account in accounts)
        and (shard is None or shard.holds(run.stripe_account))
    ]


def _parts(
    source: FleetPlan | FleetPlanFile, *, accounts: Sequence[str], shard: Shard | None
) -> list[PlanFile]:
    """The reviewed plans to apply, by account, narrowed like a fleet's accounts."""
    failed: set[str] = set()
    if isinstance(source, FleetPlan):
        found = [run.value.plan_file() for run in source.runs if run.value and not run.error]
        failed = {run.stripe_account for run in source.failed}
    else:
        found = list(source.parts)
    by_account = {_account_of(part): part for part in found}
    unknown = [a for a in accounts if a not in by_account and a not in failed]
    if unknown:
        raise UsageError(f"--accounts: the plan has no part for {', '.join(unknown)}")
    chosen = (
        [by_account[a] for a in accounts if a in by_account] if accounts else [*by_account.values()]
    )
    held = [p for p in chosen if shard is None or shard.holds(_account_of(p))]
    if chosen and not held:
        # A saved plan applied with another --shard than it was made with would apply nothing
        # and pass: say so instead.
        raise UsageError(
            f"--shard {shard}: none of the plan's {len(chosen)} account(s) is in this shard "
            "(apply a saved plan with the --shard it was made with, or with none)"
        )
    return sorted(held, key=_account_of)


# -- drift and export -----------------------------------------------------------------------------


def drift(
    platform: Account,
    fleet: Fleet,
    *,
    accounts: Sequence[str] = (),
    shard: Shard | None = None,
    recursive: bool = False,
    allow_unknown_events: bool = False,
    on_loaded: Callable[[Sequence[Diagnostic]], None] = lambda warnings: None,
) -> FleetDrift:
    """Compare every account of the run with its manifests, reading only."""
    _platform(platform)

    async def run() -> FleetDrift:
        async with FleetSession(platform, fleet.spec.rate_limits) as session:
            members = await find_members(session, fleet, accounts=accounts, shard=shard)
            desired, warnings = desired_states(
                members, recursive=recursive, allow_unknown_events=allow_unknown_events
            )
            on_loaded(warnings)
            manifests = {account: state.manifest for account, state in desired.items()}

            async def work(member: Member, client: StripeClient) -> DriftReport:
                return await drift_account(client, manifests[member.stripe_account])

            runs = await session.each(members, manifests, work)
            locations = {account: state.locations for account, state in desired.items()}
            return FleetDrift(runs=runs, mode=session.config.mode, locations=locations)

    return asyncio.run(run())


def export(
    platform: Account,
    fleet: Fleet,
    *,
    accounts: Sequence[str] = (),
    shard: Shard | None = None,
    kinds: Iterable[str] = KINDS,
    adopt: bool = False,
) -> FleetExport:
    """Manifest sections describing every account of the run (GETs only), each ready to be an
    overlay of the fleet: its ``account`` section names only the mode, since the fleet sets
    the connected account."""
    _platform(platform)
    chosen = tuple(kinds)

    async def run() -> FleetExport:
        async with FleetSession(platform, fleet.spec.rate_limits) as session:
            members = await find_members(session, fleet, accounts=accounts, shard=shard)

            async def work(member: Member, client: StripeClient) -> Export:
                found = await export_account(client, kinds=chosen, adopt=adopt)
                mode_only = {"mode": found.account.get("mode", session.config.mode)}
                return dataclasses.replace(found, account=mode_only)

            return FleetExport(await session.each(members, {}, work))

    return asyncio.run(run())

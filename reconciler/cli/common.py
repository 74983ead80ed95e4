"""The steps ``plan``, ``apply`` and ``drift`` share: load → guard → client → fetch → plan.

Only the CLI talks to the terminal, so these helpers return values and raise typed errors; the
command decides what to print.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import click

from reconciler.apply.session import check_pinned_account
from reconciler.cli.main import GlobalOptions
from reconciler.data import pinned_api_version
from reconciler.guard import check_mode
from reconciler.manifest import DesiredState, load_manifests
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import Plan
from reconciler.plan.targets import check_targets
from reconciler.resources import fetch_live
from reconciler.resources.base import LiveState
from reconciler.stripe import StripeClient, StripeConfig, key_mode
from reconciler.stripe.config import KEY_ENV_VAR

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRun:
    """A plan and the context it was made in (what a plan file records)."""

    manifest: Manifest
    plan: Plan
    live: LiveState
    mode: str
    account_id: str | None
    stripe_account: str | None
    api_version: str


def load_desired(
    paths: tuple[str, ...], *, recursive: bool, allow_unknown_events: bool
) -> DesiredState:
    """Load the manifests and echo their warnings (errors raise ``ManifestError``)."""
    state = load_manifests(
        list(paths), recursive=recursive, allow_unknown_events=allow_unknown_events
    )
    for warning in state.warnings:
        click.echo(str(warning), err=True)
    return state


def guard_mode(api_key: str | None, manifest: Manifest, *, key_source: str = KEY_ENV_VAR) -> str:
    """The key's mode, refusing a live key without ``mode: live`` and the reverse."""
    mode = key_mode(api_key, source=key_source)
    check_mode(mode, manifest)
    return mode


def client_config(options: GlobalOptions, manifest: Manifest | None = None) -> StripeConfig:
    """Client settings: ``--stripe-account`` wins over ``account.stripe_account``; one deadline
    (``--timeout``) from the command's start."""
    assert options.api_key is not None  # guard_mode / key_mode has refused a missing key already
    account = manifest.account if manifest is not None else None
    return StripeConfig(
        api_key=options.api_key,
        key_source=options.api_key_source,
        api_base=options.api_base,
        api_version=account.api_version if account is not None else None,
        stripe_account=options.stripe_account or (account.stripe_account if account else None),
        deadline=options.timeout,
        started_at=options.started,
    )


async def check_account(client: StripeClient, manifest: Manifest, *, need_id: bool) -> str | None:
    """Look the account up when it is pinned or must be recorded; refuse a mismatch."""
    if manifest.account.id is None and not need_id:
        return None
    account_id = await client.whoami()
    check_pinned_account(manifest, account_id, client.config.stripe_account)
    return account_id


async def plan_run(
    options: GlobalOptions,
    manifest: Manifest,
    *,
    targets: tuple[str, ...] = (),
    need_account_id: bool = False,
) -> PlannedRun:
    """Guard the key, read live state concurrently and build the (targeted) plan."""
    mode = guard_mode(options.api_key, manifest, key_source=options.api_key_source)
    config = client_config(options, manifest)
    async with StripeClient(config) as client:
        account_id = await check_account(client, manifest, need_id=need_account_id)
        live = await fetch_live(client)
    check_targets(targets, manifest, live)
    plan = build_plan(manifest, live, targets=targets)
    logger.info("plan: %s", plan.summary.line())
    return PlannedRun(
        manifest=manifest,
        plan=plan,
        live=live,
        mode=mode,
        account_id=account_id,
        stripe_account=config.stripe_account,
        api_version=manifest.account.api_version or pinned_api_version(),
    )

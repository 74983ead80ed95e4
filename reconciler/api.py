"""The Python API: what the command line does, as calls with typed results.

::

    import reconciler

    account = reconciler.Account.from_env()      # STRIPE_API_KEY, STRIPE_API_BASE, …
    desired = reconciler.load(["stripe/"])       # ManifestError lists every problem
    planned = account.plan(desired)
    print(planned.render("text"))
    if planned.has_changes:
        outcome = account.apply(planned, secrets_file=".env.stripe")
        assert outcome.result is not None and outcome.result.ok
    report = account.drift(desired)              # report.in_sync
    exported = account.export()                  # manifest sections

The command line is built on exactly these calls, and everything that refuses lives below them:
the live-mode guard (:mod:`reconciler.guard`), a pinned ``account.id``, ``--target`` checks,
the safety policy, stale or edited saved plans, missing secret sinks. A script cannot skip a
check the CLI makes.

Each :class:`Account` method is a thin synchronous wrapper (one ``asyncio.run``) over an
``async`` core that takes an open :class:`~reconciler.stripe.StripeClient`
(:func:`plan_account`, :func:`drift_account`, :func:`export_account`,
:func:`reconciler.apply.session.apply_with`), so code that manages many accounts at once can
share clients and rate limits: :mod:`reconciler.fleet` runs them for every connected account of
a fleet in one event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from reconciler.errors import PermissionDeniedError
from reconciler.guard import check_mode
from reconciler.manifest import DesiredState, load_manifests
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan, check_safety
from reconciler.plan.render import build_view, render
from reconciler.plan.targets import check_targets
from reconciler.resources import HANDLERS, fetch_live
from reconciler.resources.base import LiveState
from reconciler.stripe import StripeClient, StripeConfig
from reconciler.stripe.config import DEFAULT_API_BASE, DEFAULT_DEADLINE, KEY_ENV_VAR

# Apply, drift and export are imported where they are used: a `plan` process (every pull
# request's CI job, every shard of a fleet) should not pay for loading them.
if TYPE_CHECKING:
    from reconciler.apply.progress import EventCallback
    from reconciler.apply.secrets import SecretSink, SecretSinks
    from reconciler.apply.session import ApplyOutcome
    from reconciler.drift.model import DriftReport
    from reconciler.export.build import Export
    from reconciler.plan.model import Plan
    from reconciler.plan.planfile import PlanFile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    """One Stripe account to plan, apply, drift and export, and how to reach it: the key
    (never in a repr), the API base, a connected account to act on, and the deadline in
    seconds for everything one call does.

    ``transport`` replaces the network (``httpx.ASGITransport`` over the emulator's app, or
    ``httpx.MockTransport``), for tests. ``started`` is a ``time.monotonic()`` value the
    deadline counts from (default: when each call opens its client).
    """

    api_key: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    stripe_account: str | None = None
    timeout: float = DEFAULT_DEADLINE
    key_source: str = KEY_ENV_VAR
    started: float | None = None
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Account:
        """From ``STRIPE_API_KEY``, ``STRIPE_API_BASE``, ``STRIPE_ACCOUNT`` and
        ``STRIPE_RECONCILER_TIMEOUT`` (a missing key is refused when a call needs it)."""
        env = os.environ if environ is None else environ
        timeout = env.get("STRIPE_RECONCILER_TIMEOUT")
        return cls(
            api_key=env.get(KEY_ENV_VAR, ""),
            api_base=env.get("STRIPE_API_BASE") or DEFAULT_API_BASE,
            stripe_account=env.get("STRIPE_ACCOUNT") or None,
            timeout=float(timeout) if timeout else DEFAULT_DEADLINE,
        )

    def config(self, manifest: Manifest | None = None) -> StripeConfig:
        """Client settings for ``manifest``: its ``api_version``, and its ``stripe_account``
        unless this account names one (which wins, as on the CLI)."""
        account = manifest.account if manifest is not None else None
        return StripeConfig(
            api_key=self.api_key,
            key_source=self.key_source,
            api_base=self.api_base,
            api_version=account.api_version if account is not None else None,
            stripe_account=self.stripe_account
            or (account.stripe_account if account is not None else None),
            deadline=self.timeout,
            started_at=self.started,
        )

    def client(self, manifest: Manifest | None = None) -> StripeClient:
        """An unopened client (``async with account.client(manifest) as client:``)."""
        return StripeClient(self.config(manifest), self.transport)

    # -- the synchronous API: one event loop per call, over the async cores below -------------

    def plan(
        self, desired: Desired, *, targets: Sequence[str] = (), need_account_id: bool = True
    ) -> Planned:
        """What :meth:`apply` would change; see :class:`Planned`.

        The account the key reaches is looked up (one more GET) and recorded, so the plan can
        be applied as a reviewed plan, which must name its account; ``need_account_id=False``
        skips that (a restricted key without account read access), and such a plan can then
        only be shown, not applied as reviewed."""
        manifest = _manifest_of(desired)

        async def run() -> Planned:
            async with self.client(manifest) as client:
                return await plan_account(
                    client, manifest, targets=targets, need_account_id=need_account_id
                )

        return asyncio.run(run())

    def apply(
        self,
        source: Desired | Planned | PlanFile,
        *,
        secrets_file: str | os.PathLike[str] | None = None,
        secrets_command: str | None = None,
        sinks: SecretSinks | None = None,
        targets: Sequence[str] = (),
        force: bool = False,
        parallelism: int = 4,
        confirm: Callable[[Plan], bool] = lambda plan: True,
        show_plan: Callable[[Plan], None] = lambda plan: None,
        on_event: EventCallback | None = None,
    ) -> ApplyOutcome:
        """Change Stripe to match ``source``: manifests (planned now), or a reviewed plan
        (:class:`Planned`, or a loaded :class:`PlanFile`), refused when Stripe changed since or
        the file was edited. New signing secrets go to ``secrets_file`` / ``secrets_command`` /
        ``sinks``; a plan that creates an endpoint without one is refused. Failed actions are
        in ``outcome.result`` (``ok``, ``error()``)."""
        from reconciler.apply.progress import ignore_event
        from reconciler.apply.session import apply_with
        from reconciler.plan.planfile import PlanFile

        saved: PlanFile | None
        if isinstance(source, Planned):
            saved, manifest = source.plan_file(), source.manifest
        elif isinstance(source, PlanFile):
            saved, manifest = source, source.desired
        else:
            saved, manifest = None, _manifest_of(source)
        chosen = sinks or secret_sinks(secrets_file=secrets_file, secrets_command=secrets_command)

        async def run() -> ApplyOutcome:
            async with self.client(manifest) as client:
                return await apply_with(
                    client,
                    manifest,
                    chosen,
                    saved=saved,
                    targets=tuple(targets),
                    force=force,
                    parallelism=parallelism,
                    show_plan=show_plan,
                    confirm=confirm,
                    on_event=on_event or ignore_event,
                )

        return asyncio.run(run())

    def drift(self, desired: Desired) -> DriftReport:
        """Read-only comparison (GETs only); ``report.in_sync`` is False when anything
        drifted."""
        manifest = _manifest_of(desired)

        async def run() -> DriftReport:
            async with self.client(manifest) as client:
                return await drift_account(client, manifest)

        return asyncio.run(run())

    def export(self, *, kinds: Iterable[str] | None = None, adopt: bool = False) -> Export:
        """Manifest sections describing the live account (GETs only) for ``kinds`` (default:
        all); ``adopt`` also declares untagged webhook endpoints, which a plan then adopts."""

        async def run() -> Export:
            async with self.client() as client:
                return await export_account(client, kinds=kinds, adopt=adopt)

        return asyncio.run(run())


@dataclass(frozen=True)
class Planned:
    """A plan and what it was made from: what ``plan --out`` records, what apply re-checks."""

    manifest: Manifest
    plan: Plan
    live: LiveState
    mode: str
    account_id: str | None
    stripe_account: str | None
    api_version: str
    targets: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return self.plan.has_changes

    def render(self, fmt: str = "text", *, color: bool = False) -> str:
        """The plan as ``text``, ``markdown`` or ``json`` (values that look like keys or
        secrets are masked)."""
        return render(build_view(self.plan), fmt, color=color)

    def check_safety(self, *, force: bool = False) -> None:
        """Raise the :class:`~reconciler.errors.SafetyError` apply would (``max_destroy``
        yields to ``force``, ``lifecycle.protect`` never does)."""
        check_safety(self.plan, self.manifest, force=force)

    def plan_file(self) -> PlanFile:
        """The saved form (``plan --out``); ``dump_plan_file`` writes it."""
        from reconciler.plan.planfile import PlanFile

        return PlanFile(
            account_id=self.account_id,
            mode=self.mode,
            stripe_account=self.stripe_account,
            api_version=self.api_version,
            desired=self.manifest,
            plan=self.plan,
            targets=self.targets,
            seen=self.live.ids(),
        )


Desired = DesiredState | Manifest


def _manifest_of(desired: Desired) -> Manifest:
    return desired.manifest if isinstance(desired, DesiredState) else desired


# -- async cores: each takes an open client ------------------------------------------------------


async def read_account_id(
    client: StripeClient, manifest: Manifest | None, *, required: bool
) -> str | None:
    """The account the key reaches, refusing one other than a pinned ``account.id``.

    When the id is only a label (``required=False`` and nothing pinned), a key that may not
    read the account (a restricted key, 403) is not an error: the result is ``None``.
    """
    pinned = manifest is not None and manifest.account.id is not None
    if not (required or pinned):
        try:
            return await client.whoami()
        except PermissionDeniedError:
            logger.info("the key may not read the account; going on without its id")
            return None
    account_id = await client.whoami()
    if manifest is not None:
        from reconciler.apply.session import check_pinned_account

        check_pinned_account(manifest, account_id, client.config.stripe_account)
    return account_id


async def plan_account(
    client: StripeClient,
    manifest: Manifest,
    *,
    targets: Sequence[str] = (),
    need_account_id: bool = False,
) -> Planned:
    """Guard the key's mode, read live state (concurrently, fewest requests) and build the
    plan; ``need_account_id`` also looks the account up (a saved plan records it)."""
    config = client.config
    check_mode(config.mode, manifest)
    account_id = None
    if need_account_id or manifest.account.id is not None:
        account_id = await read_account_id(client, manifest, required=True)
    live = await fetch_live(client)
    wanted = tuple(targets)
    check_targets(wanted, manifest, live)
    plan = build_plan(manifest, live, targets=wanted)
    logger.info("plan: %s", plan.summary.line())
    return Planned(
        manifest=manifest,
        plan=plan,
        live=live,
        mode=config.mode,
        account_id=account_id,
        stripe_account=config.stripe_account,
        api_version=config.effective_api_version,
        targets=wanted,
    )


async def drift_account(client: StripeClient, manifest: Manifest) -> DriftReport:
    """Compare the account with ``manifest`` through a client that can only read."""
    from reconciler.drift.check import check_drift
    from reconciler.drift.readonly import ReadOnlyClient

    check_mode(client.config.mode, manifest)
    account_id = await read_account_id(client, manifest, required=False)
    return await check_drift(
        manifest,
        ReadOnlyClient(client),
        account_id=account_id,
        mode=client.config.mode,
        stripe_account=client.config.stripe_account,
    )


async def export_account(
    client: StripeClient, *, kinds: Iterable[str] | None = None, adopt: bool = False
) -> Export:
    """Manifest sections describing the account (GETs only) for ``kinds`` (default: all),
    ready to dump as YAML."""
    from reconciler.drift.readonly import ReadOnlyClient
    from reconciler.export.build import KINDS, build_export

    wanted = set(KINDS if kinds is None else kinds)
    chosen = tuple(kind for kind in KINDS if kind in wanted)
    reader = ReadOnlyClient(client)
    account_id = await read_account_id(client, None, required=False)
    fetched = await asyncio.gather(*(HANDLERS[kind].fetch(reader) for kind in chosen))
    return build_export(
        LiveState(objects=dict(zip(chosen, fetched, strict=True))),
        kinds=chosen,
        adopt=adopt,
        mode=client.config.mode,
        account_id=account_id,
        stripe_account=client.config.stripe_account,
    )


# -- loading and sinks ----------------------------------------------------------------------------


def load(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = False,
    allow_unknown_events: bool = False,
    environ: Mapping[str, str] | None = None,
) -> DesiredState:
    """Load and validate manifests (files or directories); raises ``ManifestError`` listing
    every problem with its location. ``environ`` expands ``${VAR}`` (default: the process's)."""
    return load_manifests(
        [os.fspath(path) for path in paths],
        recursive=recursive,
        allow_unknown_events=allow_unknown_events,
        environ=environ,
    )


def secret_sinks(
    *,
    secrets_file: str | os.PathLike[str] | None = None,
    secrets_command: str | None = None,
    extra: Sequence[SecretSink] = (),
    echo: Callable[[str], None] | None = None,
) -> SecretSinks:
    """The sinks new signing secrets go to (``--secrets-file``, ``--secrets-command``, your
    own), plus GitHub's ``::add-mask::`` through ``echo`` when running in GitHub Actions."""
    from reconciler.apply.secrets import (
        CommandSink,
        FileSink,
        GitHubMaskSink,
        SecretSinks,
        github_actions,
    )

    sinks: list[SecretSink] = []
    if echo is not None and github_actions():
        sinks.append(GitHubMaskSink(echo))
    if secrets_file is not None:
        sinks.append(FileSink(Path(secrets_file)))
    if secrets_command:
        sinks.append(CommandSink(secrets_command))
    sinks.extend(extra)
    return SecretSinks(sinks)


__all__ = [
    "Account",
    "Planned",
    "drift_account",
    "export_account",
    "load",
    "plan_account",
    "read_account_id",
    "secret_sinks",
]

"""Drift = the plan engine's diff, read as a report. There is no second diff implementation here.

:func:`check_drift` fetches live state through a :class:`~reconciler.drift.readonly.ReadOnlyClient`
and asks :func:`reconciler.plan.builder.build_plan` what would change; :func:`drift_from_plan`
then translates each action and report of that plan into a :class:`ResourceDrift`:

=================================  ==========================================================
plan                               drift
=================================  ==========================================================
create                             ``missing`` (deleted in the Dashboard; registration expired)
update with live ``disabled``      ``disabled``
update, replace, declared expire   ``changed``
adopt                              ``untagged``
delete/expire of a tagged object   ``orphaned``
delete/expire, ``unmanaged`` report ``unmanaged`` (absent with ``policy.unmanaged: ignore``)
a kind's status report            ``pending`` (tax settings, only when the manifests use Tax)
=================================  ==========================================================

Any action this table does not know still counts as ``changed``: an unexpected plan must never
read as "in sync". The replace of an endpoint whose signing secret was never delivered is
``changed`` too (the secret-pending marker is a live field the manifest does not have); its
message is the plan's reason, which says so.
"""

from __future__ import annotations

import datetime as dt
import logging

from reconciler import __version__
from reconciler.drift.model import DriftKind, DriftReport, FieldDrift, ResourceDrift
from reconciler.drift.readonly import ReadOnlyClient
from reconciler.guard import check_mode
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import Action, ActionType, Plan, Report
from reconciler.resources import fetch_live
from reconciler.resources.base import LiveObject, LiveState
from reconciler.resources.registry import KINDS, specs

logger = logging.getLogger(__name__)


def _fields(action: Action) -> tuple[FieldDrift, ...]:
    # A plan change goes live (before) → declared (after).
    return tuple(FieldDrift(c.path, c.after, c.before) for c in action.changes)


def _find(live: LiveState, kind: str, live_id: str | None) -> LiveObject | None:
    return next((o for o in live.of(kind) if o.get("id") == live_id), None)


def _missing_message(action: Action, manifest: Manifest, live: LiveState) -> str:
    """Why a declared resource has no live twin, as its kind explains it (``missing`` hook)."""
    spec = KINDS[action.kind]
    if spec.missing is not None:
        name = action.address.split(".", 1)[1] if "." in action.address else ""
        message = spec.missing(name, spec.declared(manifest).get(name), live.of(action.kind))
        if message is not None:
            return message
    return f"declared but not found in Stripe ({action.reason})"


def _action_drift(action: Action, manifest: Manifest, live: LiveState) -> ResourceDrift:
    fields = _fields(action)

    def drift(kind: DriftKind, message: str) -> ResourceDrift:
        return ResourceDrift(
            address=action.address,
            kind=action.kind,
            drift=kind,
            message=message,
            live_id=action.live_id,
            changes=fields,
        )

    spec = KINDS[action.kind]
    declared = not action.address.endswith("]")
    if action.action is ActionType.CREATE:
        fields = ()  # "declared X, live (none)" for every field says nothing the message does not
        return drift(DriftKind.MISSING, _missing_message(action, manifest, live))
    if action.action is ActionType.ADOPT:
        # the missing ownership tags are what "untagged" means; list only real differences
        tags = spec.reserved_paths()
        fields = tuple(f for f in fields if f.path not in tags)
        return drift(
            DriftKind.UNTAGGED,
            f"an untagged {spec.short} has the declared {spec.identity.adoption()} (created "
            "outside stripe-reconciler; apply would adopt it)",
        )
    if action.action in (ActionType.DELETE, ActionType.EXPIRE) and not declared:
        obj = _find(live, action.kind, action.live_id)
        name = spec.identity.owner(obj) if obj is not None else None
        if obj is not None and name is not None and name in spec.declared(manifest):
            return drift(
                DriftKind.ORPHANED,
                f"another {spec.short} tagged with the declared name {name!r}: "
                f"{action.reason}; apply would delete it ({spec.identity.label(obj)})",
            )
        if obj is not None and name is not None:
            return drift(
                DriftKind.ORPHANED,
                f"tagged as managed (name {name!r}) but no longer declared: "
                f"{spec.identity.label(obj)}",
            )
        what = spec.describe(obj) if obj is not None else action.address
        return drift(DriftKind.UNMANAGED, f"not declared: {what} (policy.unmanaged: delete)")
    if any(c.path == "disabled" and c.live is True for c in fields):
        return drift(DriftKind.DISABLED, f"the {spec.short} is disabled in Stripe")
    if action.action is ActionType.REPLACE:
        return drift(DriftKind.CHANGED, f"{action.reason}; apply would replace it")
    if action.action is ActionType.EXPIRE:
        return drift(DriftKind.CHANGED, f"{action.reason}, but it is still running in Stripe")
    return drift(DriftKind.CHANGED, f"live fields differ from the manifest ({action.reason})")


def _report_drift(report: Report, manifest: Manifest) -> ResourceDrift | None:
    if report.live_id is None and report.address == report.kind:
        # A kind's own status note (tax settings pending). The kind reports it only where it
        # matters: accounts that do not use Stripe Tax stay `pending` forever, and that is not
        # drift for a manifest set that only manages webhook endpoints.
        return ResourceDrift(
            address=report.address,
            kind=report.kind,
            drift=DriftKind.PENDING,
            message=f"{KINDS[report.kind].noun} {report.message}",
        )
    if report.live_id is not None:
        return ResourceDrift(
            address=report.address,
            kind=report.kind,
            drift=DriftKind.UNMANAGED,
            message=f"not declared: {report.message.removeprefix('unmanaged: ')}",
            live_id=report.live_id,
        )
    logger.debug("plan report not treated as drift: %s %s", report.address, report.message)
    return None


def declared_count(manifest: Manifest) -> int:
    """How many declared resources a drift check compares."""
    return sum(len(spec.declared(manifest)) for spec in specs())


def drift_from_plan(
    plan: Plan,
    manifest: Manifest,
    live: LiveState,
    *,
    account_id: str | None,
    mode: str,
    stripe_account: str | None,
    checked_at: str,
) -> DriftReport:
    """Translate ``plan`` (computed from ``manifest`` and ``live``) into a drift report."""
    items = [_action_drift(action, manifest, live) for action in plan.actions]
    for report in plan.reports:
        item = _report_drift(report, manifest)
        if item is not None:
            items.append(item)
    # the account's status as the kinds report it (tax settings: active or pending)
    status = next((found for s in specs() if (found := s.status(live.of(s.name)))), None)
    return DriftReport(
        account_id=account_id,
        mode=mode,
        stripe_account=stripe_account,
        checked_at=checked_at,
        resources_checked=declared_count(manifest),
        drift=tuple(items),
        tax_settings_status=str(status) if status is not None else None,
        tool_version=__version__,
    )


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def check_drift(
    manifest: Manifest,
    client: ReadOnlyClient,
    *,
    account_id: str | None,
    mode: str,
    stripe_account: str | None,
    checked_at: str | None = None,
) -> DriftReport:
    """Fetch live state (GETs only) and report how it differs from ``manifest``.

    Every failure to read raises (a :class:`~reconciler.errors.StripeError`); there is no path
    on which an unreadable account yields an in-sync report. ``mode`` is the key's mode; the
    live-mode guard (:mod:`reconciler.guard`) refuses it before any request when the manifests
    declare the other mode.
    """
    # the client's own key decides when it knows it: a caller's word is not enough (review)
    mode = client.mode or mode
    check_mode(mode, manifest)
    live = await fetch_live(client)
    # drift reports what differs; whether apply could fit a 17th endpoint is plan's concern
    plan = build_plan(manifest, live, check_limits=False)
    return drift_from_plan(
        plan,
        manifest,
        live,
        account_id=account_id,
        mode=mode,
        stripe_account=stripe_account,
        checked_at=checked_at or now_iso(),
    )

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
tax settings report                ``pending`` (only when the manifests manage Stripe Tax)
=================================  ==========================================================

Any action this table does not know still counts as ``changed``: an unexpected plan must never
read as "in sync". The replace of an endpoint whose signing secret was never delivered is
``changed`` too (the secret-pending marker is a live field the manifest does not have); its
message is the plan's reason, which says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from reconciler import __version__
from reconciler.drift.model import DriftKind, DriftReport, FieldDrift, ResourceDrift
from reconciler.drift.readonly import ReadOnlyClient
from reconciler.guard import check_mode
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import Action, ActionType, Plan, Report
from reconciler.resources import HANDLERS, fetch_live
from reconciler.resources.base import LiveObject, LiveState
from reconciler.resources.tax_registration import natural_key
from reconciler.resources.webhook_endpoint import RESERVED_KEYS, tagged_name
from reconciler.timestamps import iso_utc

logger = logging.getLogger(__name__)


def _fields(action: Action) -> tuple[FieldDrift, ...]:
    # A plan change goes live (before) → declared (after).
    return tuple(FieldDrift(c.path, c.after, c.before) for c in action.changes)


def _iso(timestamp: Any) -> str:
    return iso_utc(timestamp) or str(timestamp)


def _find(live: LiveState, kind: str, live_id: str | None) -> LiveObject | None:
    return next((o for o in live.of(kind) if o.get("id") == live_id), None)


def _missing_message(action: Action, manifest: Manifest, live: LiveState) -> str:
    if action.kind == "tax_registrations":
        name = action.address.split(".", 1)[1]
        desired = manifest.tax_registrations.get(name)
        if desired is not None:
            key = natural_key(desired.country, desired.country_options)
            expired = sorted(
                (
                    o
                    for o in live.of(action.kind)
                    if o.get("status") == "expired"
                    and natural_key(str(o.get("country")), o.get("country_options") or {}) == key
                ),
                key=lambda o: int(o.get("expires_at") or 0),
            )
            if expired:
                last = expired[-1]
                return (
                    f"declared {key} has no active or scheduled registration: {last['id']} "
                    f"expired at {_iso(last.get('expires_at'))}"
                )
            return f"declared {key} has no active or scheduled registration in Stripe"
    if action.kind == "webhook_endpoints":
        return _missing_endpoint_message(action, manifest, live)
    return f"declared but not found in Stripe ({action.reason})"


def _missing_endpoint_message(action: Action, manifest: Manifest, live: LiveState) -> str:
    """Why a declared endpoint has no twin: nothing has its URL, or what has it is not it."""
    desired = manifest.webhook_endpoints.get(action.address.split(".", 1)[1])
    same_url = [
        o
        for o in live.of("webhook_endpoints")
        if desired is not None and o.get("url") == desired.url
    ]
    if not same_url:
        return (
            "declared, but no endpoint is tagged with this name or uses its URL "
            "(deleted in the Dashboard?)"
        )
    ids = ", ".join(str(o.get("id")) for o in same_url)
    others = sorted({name for o in same_url if (name := tagged_name(o)) is not None})
    if others:
        names = ", ".join(repr(name) for name in others)
        return (
            f"declared, but the endpoint with its URL ({ids}) is tagged with another name "
            f"({names}); apply would create one for this name"
        )
    return (
        f"declared, but {len(same_url)} untagged endpoints use its URL ({ids}), so none is "
        "adopted; apply would create one for this name"
    )


_TAG_PATHS = frozenset(f"metadata.{key}" for key in RESERVED_KEYS)


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

    declared = not action.address.endswith("]")
    if action.action is ActionType.CREATE:
        fields = ()  # "declared X, live (none)" for every field says nothing the message does not
        return drift(DriftKind.MISSING, _missing_message(action, manifest, live))
    if action.action is ActionType.ADOPT:
        # the missing ownership tags are what "untagged" means; list only real differences
        fields = tuple(f for f in fields if f.path not in _TAG_PATHS)
        return drift(
            DriftKind.UNTAGGED,
            "an untagged endpoint has the declared URL (created outside stripe-reconciler; "
            "apply would adopt it)",
        )
    if action.action in (ActionType.DELETE, ActionType.EXPIRE) and not declared:
        obj = _find(live, action.kind, action.live_id)
        name = tagged_name(obj) if obj is not None and action.kind == "webhook_endpoints" else None
        if obj is not None and name is not None and name in manifest.webhook_endpoints:
            return drift(
                DriftKind.ORPHANED,
                f"another endpoint tagged with the declared name {name!r}: {action.reason}; "
                f"apply would delete it ({obj.get('url')})",
            )
        if obj is not None and name is not None:
            return drift(
                DriftKind.ORPHANED,
                f"tagged as managed (name {name!r}) but no longer declared: {obj.get('url')}",
            )
        what = HANDLERS[action.kind].describe(obj) if obj is not None else action.address
        return drift(DriftKind.UNMANAGED, f"not declared: {what} (policy.unmanaged: delete)")
    if any(c.path == "disabled" and c.live is True for c in fields):
        return drift(DriftKind.DISABLED, "the endpoint is disabled in Stripe")
    if action.action is ActionType.REPLACE:
        return drift(DriftKind.CHANGED, f"{action.reason}; apply would replace it")
    if action.action is ActionType.EXPIRE:
        return drift(DriftKind.CHANGED, f"{action.reason}, but it is still running in Stripe")
    return drift(DriftKind.CHANGED, f"live fields differ from the manifest ({action.reason})")


def _manages_tax(manifest: Manifest) -> bool:
    return manifest.tax_settings is not None or bool(manifest.tax_registrations)


def _report_drift(report: Report, manifest: Manifest) -> ResourceDrift | None:
    if report.kind == "tax_settings":
        # Accounts that do not use Stripe Tax stay `pending` forever; that is not drift for a
        # manifest set that only manages webhook endpoints.
        if not _manages_tax(manifest):
            return None
        return ResourceDrift(
            address=report.address,
            kind=report.kind,
            drift=DriftKind.PENDING,
            message=f"tax settings {report.message}",
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
    settings = 1 if manifest.tax_settings is not None else 0
    return len(manifest.webhook_endpoints) + len(manifest.tax_registrations) + settings


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
    settings = live.of("tax_settings")
    status = settings[0].get("status") if settings else None
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

"""Fleets: one manifest set reconciled across many connected accounts, in one process.

::

    from reconciler import Account, fleet

    platform = Account.from_env()                    # the platform's key
    spec = fleet.load_fleet("stripe/fleet.yaml")     # ManifestError lists every problem
    planned = fleet.plan(platform, spec, shard=fleet.parse_shard("1/4"))
    print(fleet.render_plan(planned, "text"))         # per-account sections and the summary
    applied = fleet.apply(platform, planned, fleet.secret_sinks(secrets_file="s.env"))

Modules: :mod:`~reconciler.fleet.model` (the fleet file), :mod:`~reconciler.fleet.load`
(reading it and each account's manifests), :mod:`~reconciler.fleet.select` (``--accounts``,
``--shard``), :mod:`~reconciler.fleet.session` (one pool, shared limits, accounts side by side),
:mod:`~reconciler.fleet.run` (plan, apply, drift, export), :mod:`~reconciler.fleet.results`,
:mod:`~reconciler.fleet.planfile` (saved fleet plans), :mod:`~reconciler.fleet.render` and
:mod:`~reconciler.fleet.drift_report` (output and the one alert). The library never prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_attributes

#: public name → the module that defines it; loaded on first use, so that a command that only
#: parses ``--shard`` does not load the whole fleet engine
_API = {
    "Fleet": "reconciler.fleet.load",
    "Member": "reconciler.fleet.load",
    "load_fleet": "reconciler.fleet.load",
    "FleetPlanFile": "reconciler.fleet.planfile",
    "dump_fleet_plan_file": "reconciler.fleet.planfile",
    "load_any_plan_file": "reconciler.fleet.planfile",
    "FleetApply": "reconciler.fleet.results",
    "FleetDrift": "reconciler.fleet.results",
    "FleetExport": "reconciler.fleet.results",
    "FleetPlan": "reconciler.fleet.results",
    "apply": "reconciler.fleet.run",
    "drift": "reconciler.fleet.run",
    "export": "reconciler.fleet.run",
    "plan": "reconciler.fleet.run",
    "Shard": "reconciler.fleet.select",
    "parse_accounts": "reconciler.fleet.select",
    "parse_shard": "reconciler.fleet.select",
    "render_plan": "reconciler.fleet.render",
    "render_apply_report": "reconciler.fleet.render",
    "render_drift": "reconciler.fleet.drift_report",
    "secret_sinks": "reconciler.api",
}

if TYPE_CHECKING:
    from reconciler.api import secret_sinks
    from reconciler.fleet.drift_report import render_drift
    from reconciler.fleet.load import Fleet, Member, load_fleet
    from reconciler.fleet.planfile import FleetPlanFile, dump_fleet_plan_file, load_any_plan_file
    from reconciler.fleet.render import render_apply_report, render_plan
    from reconciler.fleet.results import FleetApply, FleetDrift, FleetExport, FleetPlan
    from reconciler.fleet.run import apply, drift, export, plan
    from reconciler.fleet.select import Shard, parse_accounts, parse_shard


__getattr__ = lazy_attributes(__name__, _API)


__all__ = [
    "Fleet",
    "FleetApply",
    "FleetDrift",
    "FleetExport",
    "FleetPlan",
    "FleetPlanFile",
    "Member",
    "Shard",
    "apply",
    "drift",
    "dump_fleet_plan_file",
    "export",
    "load_any_plan_file",
    "load_fleet",
    "parse_accounts",
    "parse_shard",
    "plan",
    "render_apply_report",
    "render_drift",
    "render_plan",
    "secret_sinks",
]

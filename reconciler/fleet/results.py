"""What a fleet run gives: one entry per account, in account order, and the fleet's summary.

``Fleet: N accounts, C with changes, E failed.`` counts the accounts of the run, those whose
plan changes something (or, after apply, whose apply changed something) and those that failed:
could not be read, planned or applied, or whose plan a safety rule refused. An account that
failed after its plan was made (refused by ``max_destroy``, or an apply that stopped half-way)
counts in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.api import Planned
from reconciler.apply.session import ApplyOutcome
from reconciler.drift.model import DriftReport
from reconciler.export.build import Export
from reconciler.fleet.model import RateLimits
from reconciler.fleet.planfile import FleetPlanFile
from reconciler.fleet.session import AccountRun
from reconciler.manifest import Location


def _accounts(count: int) -> str:
    return f"{count} account{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class FleetPlan:
    """Every account's plan (``run.value``) or why there is none (``run.error``)."""

    runs: tuple[AccountRun[Planned], ...]
    rate_limits: RateLimits
    targets: tuple[str, ...] = ()

    @property
    def with_changes(self) -> tuple[AccountRun[Planned], ...]:
        return tuple(r for r in self.runs if r.value is not None and r.value.has_changes)

    @property
    def failed(self) -> tuple[AccountRun[Planned], ...]:
        return tuple(r for r in self.runs if r.error is not None)

    @property
    def has_changes(self) -> bool:
        return bool(self.with_changes)

    def summary_line(self) -> str:
        return (
            f"Fleet: {_accounts(len(self.runs))}, {len(self.with_changes)} with changes, "
            f"{len(self.failed)} failed."
        )

    def plan_file(self) -> FleetPlanFile:
        """The saved form (``plan --out``): a part per account that was planned and not
        refused (an account that failed has no part, so it is not applied)."""
        return FleetPlanFile(
            parts=tuple(
                run.value.plan_file() for run in self.runs if run.value and run.error is None
            ),
            rate_limits=self.rate_limits,
        )


@dataclass(frozen=True)
class FleetApply:
    """Every account's apply: ``run.value`` is its outcome (``None``: nothing to apply, as its
    part of a saved plan had no changes), ``run.error`` why it did not finish."""

    runs: tuple[AccountRun[ApplyOutcome], ...]

    @property
    def with_changes(self) -> tuple[AccountRun[ApplyOutcome], ...]:
        return tuple(r for r in self.runs if r.value is not None and r.value.result is not None)

    @property
    def failed(self) -> tuple[AccountRun[ApplyOutcome], ...]:
        return tuple(r for r in self.runs if r.error is not None)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary_line(self) -> str:
        return (
            f"Fleet: {_accounts(len(self.runs))}, {len(self.with_changes)} with changes, "
            f"{len(self.failed)} failed."
        )


@dataclass(frozen=True)
class FleetDrift:
    """Every account's drift report, or why it could not be read."""

    runs: tuple[AccountRun[DriftReport], ...]
    mode: str
    #: each account's resource addresses → where its manifests declare them
    locations: Mapping[str, Mapping[str, Location]] = field(default_factory=dict)

    @property
    def drifted(self) -> tuple[AccountRun[DriftReport], ...]:
        return tuple(r for r in self.runs if r.value is not None and not r.value.in_sync)

    @property
    def failed(self) -> tuple[AccountRun[DriftReport], ...]:
        return tuple(r for r in self.runs if r.error is not None)

    @property
    def in_sync(self) -> bool:
        return not self.drifted and not self.failed

    def summary_line(self) -> str:
        return (
            f"Fleet: {_accounts(len(self.runs))}, {len(self.drifted)} drifted, "
            f"{len(self.failed)} failed."
        )


@dataclass(frozen=True)
class FleetExport:
    """Every account's export (manifest sections), or why it could not be read."""

    runs: tuple[AccountRun[Export], ...]

    @property
    def failed(self) -> tuple[AccountRun[Export], ...]:
        return tuple(r for r in self.runs if r.error is not None)

    def summary_line(self) -> str:
        done = len(self.runs) - len(self.failed)
        return f"Fleet: {_accounts(len(self.runs))}, {done} exported, {len(self.failed)} failed."

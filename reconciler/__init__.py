"""stripe-reconciler: Stripe account configuration as code (plan, apply, drift).

The Python API (documented in :mod:`reconciler.api` and README's "Python API")::

    import reconciler

    account = reconciler.Account.from_env()
    desired = reconciler.load(["stripe/"])
    planned = account.plan(desired)
    outcome = account.apply(planned, secrets_file=".env.stripe")
    report = account.drift(desired)
    exported = account.export()

For many connected accounts at once (a Connect platform's fleet), see :mod:`reconciler.fleet`.

The names are loaded on first use, so ``import reconciler`` (and the CLI's ``--help``) stays
fast. (``plan``, ``apply``, ``drift`` and ``export`` are methods of :class:`Account`, since
those names are this package's subpackages.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_attributes

__version__ = "0.1.0"

#: public name → the module that defines it
_API = {
    "Account": "reconciler.api",
    "Planned": "reconciler.api",
    "load": "reconciler.api",
    "secret_sinks": "reconciler.api",
    "ApplyOutcome": "reconciler.apply.session",
    "DriftReport": "reconciler.drift.model",
    "Export": "reconciler.export.build",
    "DesiredState": "reconciler.manifest",
    "Plan": "reconciler.plan.model",
    "PlanFile": "reconciler.plan.planfile",
    "ReconcilerError": "reconciler.errors",
}

if TYPE_CHECKING:
    from reconciler.api import Account, Planned, load, secret_sinks
    from reconciler.apply.session import ApplyOutcome
    from reconciler.drift.model import DriftReport
    from reconciler.errors import ReconcilerError
    from reconciler.export.build import Export
    from reconciler.manifest import DesiredState
    from reconciler.plan.model import Plan
    from reconciler.plan.planfile import PlanFile


__getattr__ = lazy_attributes(__name__, _API)


__all__ = [
    "Account",
    "ApplyOutcome",
    "DesiredState",
    "DriftReport",
    "Export",
    "Plan",
    "PlanFile",
    "Planned",
    "ReconcilerError",
    "__version__",
    "load",
    "secret_sinks",
]

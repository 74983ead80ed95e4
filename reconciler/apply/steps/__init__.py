"""Apply steps, chosen by what a kind's spec declares, never by its name.

=============================  ==========================================================
spec                           steps
=============================  ==========================================================
``secret`` (webhook endpoints)  :class:`.secrets.SecretSteps`: marked create, secret delivery,
                                concurrent-create check, within ``limit``
``lookup`` (registrations)      :class:`.lookups.LookupSteps`: look up before create, take
                                back a concurrent apply's twin after the phase
neither (tax settings)          :class:`.base.Steps`: the requests in order
=============================  ==========================================================
"""

from __future__ import annotations

from reconciler.apply.steps.base import Runner, Steps
from reconciler.apply.steps.lookups import LookupSteps
from reconciler.apply.steps.secrets import SecretSteps
from reconciler.resources.kind import KindSpec

__all__ = ["LookupSteps", "Runner", "SecretSteps", "Steps", "steps_for"]


def steps_for(spec: KindSpec, run: Runner) -> Steps:
    if spec.secret is not None:
        return SecretSteps(spec, run)
    if spec.lookup is not None:
        return LookupSteps(spec, run)
    return Steps(spec, run)

"""The apply engine: the only code that writes to Stripe.

::

    from reconciler.apply import apply_session, FileSink, SecretSinks

    sinks = SecretSinks([FileSink(".env.stripe")])
    outcome = await apply_session(config, manifest, sinks, saved=None, parallelism=4,
                                  show_plan=..., confirm=..., on_event=...)
    outcome.result.ok, outcome.result.summary_line()

Modules: ``session`` (checks, plan, confirm, execute), ``executor`` (order, parallelism, keys,
lookups, secret delivery), ``staleness`` (saved plan vs now), ``idempotency`` (keys),
``secrets`` / ``envfile`` (sinks), ``progress`` (events and results).
"""

from __future__ import annotations

from reconciler.apply.executor import ApplyTarget, execute_plan
from reconciler.apply.idempotency import idempotency_key
from reconciler.apply.progress import ActionResult, ApplyResult, ProgressEvent, Status
from reconciler.apply.secrets import (
    CommandSink,
    FileSink,
    GitHubMaskSink,
    NewSecret,
    SecretSink,
    SecretSinks,
)
from reconciler.apply.session import ApplyOutcome, apply_session
from reconciler.apply.staleness import check_not_stale, plan_differences

__all__ = [
    "ActionResult",
    "ApplyOutcome",
    "ApplyResult",
    "ApplyTarget",
    "CommandSink",
    "FileSink",
    "GitHubMaskSink",
    "NewSecret",
    "ProgressEvent",
    "SecretSink",
    "SecretSinks",
    "Status",
    "apply_session",
    "check_not_stale",
    "execute_plan",
    "idempotency_key",
    "plan_differences",
]

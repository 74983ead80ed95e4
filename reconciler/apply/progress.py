"""What apply reports while it runs and when it ends: progress events and per-action results.

The library never prints. The executor calls an ``on_event`` callback with frozen
:class:`ProgressEvent` values; the CLI turns them into lines. No event ever carries a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from reconciler.errors import ApplyError


class Status(str, Enum):
    DONE = "done"
    FAILED = "failed"
    NOT_STARTED = "never started"


@dataclass(frozen=True)
class ProgressEvent:
    """``start`` / ``end`` / ``fail`` per action, ``note`` for a step inside one."""

    event: str
    address: str
    action: str
    stripe_id: str | None = None
    elapsed: float | None = None
    message: str = ""


EventCallback = Callable[[ProgressEvent], None]


def ignore_event(event: ProgressEvent) -> None:
    """The default callback: progress goes nowhere."""


@dataclass(frozen=True)
class ActionResult:
    address: str
    action: str
    status: Status
    stripe_id: str | None = None
    elapsed: float | None = None
    error: str | None = None

    def describe(self) -> str:
        ident = f" {self.stripe_id}" if self.stripe_id else ""
        text = f"{self.address} ({self.action}{ident})"
        return f"{text}: {self.error}" if self.error else text


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[ActionResult, ...]
    elapsed: float

    def of(self, status: Status) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        return all(r.status is Status.DONE for r in self.results)

    def summary_line(self) -> str:
        counts: dict[str, int] = {}
        for result in self.of(Status.DONE):
            counts[result.action] = counts.get(result.action, 0) + 1
        order = ("create", "update", "adopt", "replace", "delete", "expire")
        parts = [f"{counts.get(name, 0)} {_PAST[name]}" for name in order if counts.get(name)]
        done = ", ".join(parts) if parts else "nothing changed"
        return f"Apply complete: {done} in {self.elapsed:.1f}s."

    def error(self) -> ApplyError:
        """The error apply raises when anything did not finish: done, failed, never started."""
        failed = self.of(Status.FAILED)
        done = self.of(Status.DONE)
        waiting = self.of(Status.NOT_STARTED)
        lines = [
            f"apply stopped: {len(failed)} failed, {len(done)} done, "
            f"{len(waiting)} never started. Fix the cause and run apply again; "
            "it continues where this run stopped without duplicating anything."
        ]
        for title, group in (("failed", failed), ("done", done), ("never started", waiting)):
            lines.extend(f"  {title}: {result.describe()}" for result in group)
        return ApplyError("\n".join(lines))


_PAST = {
    "create": "created",
    "update": "updated",
    "adopt": "adopted",
    "replace": "replaced",
    "delete": "deleted",
    "expire": "expired",
}

"""The emulator's knobs: latency, fault rates and schedule, rate limits, locks, seed, state file.

One frozen :class:`EmulatorConfig` is built from CLI flags or from a JSON object posted to
``/_emulator/config``; :meth:`EmulatorConfig.updated` applies a partial update and checks it, so
both front doors share the same rules and messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from reconciler.errors import UsageError

#: Faults that can be injected; a drop is a connection cut before or after the write commits.
FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "drop_before", "drop_after")


class ConfigError(UsageError):
    """A knob has an unusable value; the message names it."""


@dataclass(frozen=True)
class ScheduledFault:
    """Inject ``fault`` on the ``request``-th eligible /v1/ request (counting from 1)."""

    request: int
    fault: str


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour besides its state."""

    seed: int | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rates: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    schedule: tuple[ScheduledFault, ...] = ()
    paths: tuple[str, ...] = ()
    rate_limit: float | None = None
    operation_rate_limit: float | None = None
    lock_timeout_ms: float | None = None
    state_file: str | None = None
    #: Refuse a second overlapping registration of one natural key. Off by default: Stripe's
    #: docs are silent on duplicates, and preventing them is the reconciler's job.
    refuse_duplicate_registrations: bool = False
    #: Budgets for everything one platform's key sends, its connected accounts' requests
    #: (``Stripe-Account``) included, on top of each account's own (``rate_limit``,
    #: ``operation_rate_limit``). Whether Stripe counts requests made with ``Stripe-Account``
    #: against the platform is not documented (FACTS.md §4), so they are off unless set.
    platform_rate_limit: float | None = None
    platform_operation_rate_limit: float | None = None
    #: Refuse a ``Stripe-Account`` that names no account created through ``POST /v1/accounts``
    #: by this platform, as Stripe refuses an account not connected to the platform. Off by
    #: default: the emulator then treats any well-formed ``acct_`` id as connected, so one can
    #: be used without creating it first (see resources/accounts.py).
    refuse_unknown_accounts: bool = False

    def updated(self, knobs: Mapping[str, Any]) -> EmulatorConfig:
        """A copy with the given knobs changed; unknown knobs and bad values raise ConfigError."""
        unknown = sorted(set(knobs) - _PARSERS)
        if unknown:
            raise ConfigError(f"unknown emulator setting(s): {', '.join(unknown)}")
        changes: dict[str, Any] = {}
        for name, value in knobs.items():
            changes[name] = _parse(name, value)
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "rates": dict(self.rates),
            "schedule": [{"request": s.request, "fault": s.fault} for s in self.schedule],
            "paths": list(self.paths),
            "rate_limit": self.rate_limit,
            "operation_rate_limit": self.operation_rate_limit,
            "lock_timeout_ms": self.lock_timeout_ms,
            "state_file": self.state_file,
            "refuse_duplicate_registrations": self.refuse_duplicate_registrations,
            "platform_rate_limit": self.platform_rate_limit,
            "platform_operation_rate_limit": self.platform_operation_rate_limit,
            "refuse_unknown_accounts": self.refuse_unknown_accounts,
        }


_PARSERS = {
    "seed",
    "latency_ms",
    "jitter_ms",
    "rates",
    "schedule",
    "paths",
    "rate_limit",
    "operation_rate_limit",
    "lock_timeout_ms",
    "state_file",
    "refuse_duplicate_registrations",
    "platform_rate_limit",
    "platform_operation_rate_limit",
    "refuse_unknown_accounts",
}


def _number(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def _parse(name: str, value: Any) -> Any:
    if name == "seed":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"seed must be an integer, got {value!r}")
        return value
    if name in ("latency_ms", "jitter_ms"):
        return _number(name, value)
    if name in (
        "rate_limit",
        "operation_rate_limit",
        "platform_rate_limit",
        "platform_operation_rate_limit",
    ):
        limit = _number(name, value, allow_none=True)
        if limit == 0:
            raise ConfigError(f"{name} must be > 0 (or null for no limit)")
        return limit
    if name == "lock_timeout_ms":
        return _number(name, value, allow_none=True)
    if name == "rates":
        return _parse_rates(value)
    if name == "schedule":
        return _parse_schedule(value)
    if name == "paths":
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise ConfigError("paths must be a list of path prefixes such as /v1/webhook_endpoints")
        return tuple(value)
    if name in ("refuse_duplicate_registrations", "refuse_unknown_accounts"):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if value is not None and not isinstance(value, str):
        raise ConfigError("state_file must be a path string or null")
    return value


def _parse_rates(value: Any) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigError('rates must be an object such as {"429": 0.3}')
    rates: dict[str, float] = {}
    for kind, probability in value.items():
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        number = _number(f"rates[{kind}]", probability)
        if number is None or number > 1:
            raise ConfigError(f"rates[{kind}] must be a probability between 0 and 1")
        rates[kind] = number
    if sum(rates.values()) > 1:
        raise ConfigError("fault rates must add up to at most 1")
    return MappingProxyType(rates)


def _parse_schedule(value: Any) -> tuple[ScheduledFault, ...]:
    if not isinstance(value, list):
        raise ConfigError('schedule must be a list such as [{"request": 2, "fault": "500"}]')
    entries = []
    for entry in value:
        if not isinstance(entry, Mapping) or set(entry) != {"request", "fault"}:
            raise ConfigError('each schedule entry needs exactly "request" and "fault"')
        request, fault = entry["request"], entry["fault"]
        if isinstance(request, bool) or not isinstance(request, int) or request < 1:
            raise ConfigError(f"schedule request numbers count from 1, got {request!r}")
        if fault not in FAULT_KINDS:
            raise ConfigError(f"unknown fault {fault!r}; choose from {', '.join(FAULT_KINDS)}")
        entries.append(ScheduledFault(request=request, fault=fault))
    return tuple(entries)


def parse_fault_option(text: str) -> tuple[str, float]:
    """``429=0.3`` (a CLI ``--fault``) → ``("429", 0.3)``."""
    kind, sep, probability = text.partition("=")
    if not sep:
        raise ConfigError(f"--fault expects KIND=PROBABILITY such as 429=0.3, got {text!r}")
    try:
        return kind.strip(), float(probability)
    except ValueError as error:
        raise ConfigError(f"--fault {text!r}: {probability!r} is not a number") from error

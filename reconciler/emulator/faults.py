"""Fault injection and rate limiting, reproducible from a seed.

Each eligible /v1/ request draws from one ``random.Random(seed)`` in a fixed order (latency
jitter, then the fault), so a sequential client sees the same faults on every run with the same
seed. The schedule counts eligible requests from 1 since the schedule was set.
"""

from __future__ import annotations

import random
from collections import deque

from reconciler.emulator.config import FAULT_KINDS, EmulatorConfig


class FaultInjector:
    """Decides latency and the injected fault (if any) for each request."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self._counted = 0

    def reconfigure(self, config: EmulatorConfig, *, reseed: bool, restart_schedule: bool) -> None:
        self.config = config
        if reseed:
            self._random = random.Random(config.seed)
        if restart_schedule:
            self._counted = 0

    def eligible(self, path: str) -> bool:
        prefixes = self.config.paths
        return not prefixes or any(path.startswith(prefix) for prefix in prefixes)

    def delay_seconds(self) -> float:
        jitter = self._random.uniform(0, self.config.jitter_ms) if self.config.jitter_ms else 0.0
        return (self.config.latency_ms + jitter) / 1000.0

    def next_fault(self) -> str | None:
        """Count one eligible request; the schedule wins over the random rates."""
        self._counted += 1
        for entry in self.config.schedule:
            if entry.request == self._counted:
                return entry.fault
        rates = self.config.rates
        if not rates:
            return None
        draw = self._random.random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += rates.get(kind, 0.0)
            if draw < threshold:
                return kind
        return None


class RateLimiter:
    """Stripe's two request-rate limiters, each a sliding one-second window.

    Per (account, mode) a global budget, and per operation (``POST /v1/tax/registrations``:
    method and path template) of that account its own budget, which is checked as well: Stripe
    allows by default 25 requests/s per API endpoint on top of the global limit (FACTS.md §4,
    docs.stripe.com/rate-limits). A connected account (``Stripe-Account``) is an account of its
    own here. Optionally the same two budgets again for everything one platform's key sends,
    its connected accounts' requests included (``platform_*``, off unless set: whether Stripe
    counts those against the platform is not documented). A refused request counts against
    none, as in the emulator before the second limit existed; whether Stripe counts refused
    requests is not documented.
    """

    def __init__(self) -> None:
        self._windows: dict[str, deque[float]] = {}

    def refuse(
        self,
        account: str,
        operation: str,
        now: float,
        *,
        limit: float | None,
        operation_limit: float | None,
        platform: str | None = None,
        platform_limit: float | None = None,
        platform_operation_limit: float | None = None,
    ) -> str | None:
        """Count one request; return why it is refused (``global-rate``, ``endpoint-rate``)."""
        checks = [
            (account, limit, "global-rate"),
            (f"{account} {operation}", operation_limit, "endpoint-rate"),
        ]
        if platform is not None:
            checks.append((f"platform {platform}", platform_limit, "global-rate"))
            checks.append(
                (f"platform {platform} {operation}", platform_operation_limit, "endpoint-rate")
            )
        windows = []
        for key, budget, reason in checks:
            if budget is None:
                continue
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= budget:
                return reason
            windows.append(window)
        for window in windows:
            window.append(now)
        return None

    def clear(self) -> None:
        self._windows.clear()

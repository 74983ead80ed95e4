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
    """A sliding one-second window per (account, mode), like Stripe's request-rate limiter."""

    def __init__(self) -> None:
        self._windows: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float, limit: float | None) -> bool:
        if limit is None:
            return True
        window = self._windows.setdefault(key, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True

    def clear(self) -> None:
        self._windows.clear()

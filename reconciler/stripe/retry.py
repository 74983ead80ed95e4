"""When to retry a Stripe request, and how long to wait first.

Rules, in order:

1. A POST without an ``Idempotency-Key`` is never retried: if the first attempt reached Stripe,
   a second one could create a duplicate object.
2. ``Stripe-Should-Retry: false`` means never; ``true`` means retry, whatever the status.
3. Otherwise retry network errors, 409 (same key in flight), 429 (rate limits, and
   ``lock_timeout`` when another request holds the object) and 5xx.

Waits use capped exponential backoff with full jitter (AWS architecture blog, "Exponential
Backoff And Jitter"): ``uniform(0, min(cap, initial * 2**(retry - 1)))``, so many clients that
failed together do not retry together. A ``Retry-After`` header (seconds) raises the wait to at
least that much, but no single wait ever exceeds ``backoff_max``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({409, 429})
NEVER_RETRIED_METHODS_WITHOUT_KEY = frozenset({"POST"})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Attempts and backoff bounds for one logical request (the client keeps the deadline)."""

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 8.0

    def is_retryable(
        self,
        *,
        method: str,
        has_idempotency_key: bool,
        status: int | None,
        should_retry_header: str | None = None,
    ) -> bool:
        """Whether this outcome may be retried at all. ``status=None`` is a network error."""
        if method.upper() in NEVER_RETRIED_METHODS_WITHOUT_KEY and not has_idempotency_key:
            return False
        advice = (should_retry_header or "").strip().lower()
        if advice == "false":
            return False
        if advice == "true":
            return True
        if status is None:
            return True
        return status in RETRYABLE_STATUSES or status >= 500

    def backoff(self, retry_number: int, random: Callable[[], float]) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** (retry_number - 1))
        return random() * ceiling

    def delay(
        self, retry_number: int, random: Callable[[], float], retry_after: float | None = None
    ) -> float:
        """:meth:`backoff`, raised to ``retry_after`` when the server asked, capped."""
        wait = self.backoff(retry_number, random)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.backoff_max)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; ``None`` for absent, dates or nonsense."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None

"""The one exception tree of stripe-reconciler.

Every error the library raises on purpose derives from :class:`ReconcilerError`. The CLI catches
that base class, prints ``str(error)`` and exits with ``error.exit_code``; anything else is a bug.
No message ever contains an API key or a webhook signing secret.

::

    ReconcilerError
    ├── UsageError                 bad options or environment (e.g. a pk_ key, http:// API base)
    │   └── LiveModeGuardError     live key without `mode: live`, or the reverse
    ├── ManifestError              one or more located diagnostics (see manifest.diagnostics)
    ├── StripeError                anything the Stripe API layer reports (carries request_id)
    │   ├── APIConnectionError     network failure, timeout, dropped connection
    │   ├── AuthenticationError    401
    │   ├── PermissionDeniedError  403
    │   ├── NotFoundError          404 / resource_missing
    │   ├── InvalidRequestError    400 invalid_request_error (carries param)
    │   ├── IdempotencyError       idempotency_error
    │   ├── RateLimitError         429
    │   ├── ConflictError          409
    │   ├── APIError               5xx and anything unexpected
    │   └── MalformedResponseError the body was not the JSON object Stripe would send
    ├── AccountMismatchError       the key's account or mode differs from manifest / plan file
    ├── PlanError
    │   ├── SafetyError            a plan broke a safety rule; the message names the override
    │   │   ├── MaxDestroyExceededError
    │   │   └── ProtectedResourceError
    │   ├── EndpointLimitError     applying would exceed Stripe's 16 webhook endpoints
    │   ├── RegistrationRefusedError  Stripe would refuse a planned tax registration request
    │   ├── PlanFileError          unreadable, tampered or incompatible plan file
    │   └── StalePlanError         live state changed since the plan was made
    ├── ApplyError                 apply stopped; carries what succeeded, failed, never started
    ├── FleetError                 some accounts of a fleet failed (each account's section says why)
    ├── SecretSinkError            a signing secret could not be delivered
    ├── AlertError                 a drift alert could not be delivered
    └── ReadOnlyViolationError     a read-only command (drift, export) tried to write: a bug
"""

from __future__ import annotations

from collections.abc import Sequence


class ReconcilerError(Exception):
    """Base class: a failure the user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class UsageError(ReconcilerError):
    """Options, environment or keys are not usable as given."""


class LiveModeGuardError(UsageError):
    """A live key without ``account.mode: live`` (or a test key with it)."""


class ManifestError(ReconcilerError):
    """The manifests are invalid; ``diagnostics`` holds every problem found, with locations."""

    def __init__(self, diagnostics: Sequence[object]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in diagnostics))


class StripeError(ReconcilerError):
    """An error reported by (or while talking to) the Stripe API.

    ``value`` is what the request sent for ``param``, when the message does not show it already
    (a 400 for an unknown event names only ``enabled_events[0]``).
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        value: str | None = None,
    ) -> None:
        self.message = message
        self.http_status = http_status
        self.code = code
        self.param = param
        self.request_id = request_id
        self.error_type = error_type
        self.value = value
        super().__init__(message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.param and self.value is not None:
            parts.append(f"(param: {self.param} = {self.value!r})")
        elif self.param:
            parts.append(f"(param: {self.param})")
        if self.http_status is not None:
            parts.append(f"[HTTP {self.http_status}]")
        if self.request_id:
            parts.append(f"[request {self.request_id}]")
        return " ".join(parts)


class APIConnectionError(StripeError):
    """The request never got a complete answer: DNS, refused, reset, timeout."""


class AuthenticationError(StripeError):
    """401: the key is missing, malformed or revoked."""


class PermissionDeniedError(StripeError):
    """403: a restricted key lacks the permission for this call."""


class NotFoundError(StripeError):
    """404, usually ``code=resource_missing``."""


class InvalidRequestError(StripeError):
    """400 ``invalid_request_error``; ``param`` names the offending parameter."""


class IdempotencyError(StripeError):
    """An ``Idempotency-Key`` was reused with other parameters or another path."""


class RateLimitError(StripeError):
    """429 after all retries."""


class ConflictError(StripeError):
    """409 after all retries (e.g. the same idempotency key still in flight)."""


class APIError(StripeError):
    """5xx or any other unexpected answer."""


class MalformedResponseError(StripeError):
    """The response body was not a JSON object of the expected shape."""


class AccountMismatchError(ReconcilerError):
    """The API key reaches another account, mode or connected account than expected."""


class PlanError(ReconcilerError):
    """Base for plan building and plan file problems."""


class SafetyError(PlanError):
    """A plan broke a safety rule. Messages state the numbers and the override."""


class MaxDestroyExceededError(SafetyError):
    """More destructive actions than ``policy.max_destroy``."""


class ProtectedResourceError(SafetyError):
    """A ``lifecycle.protect`` resource would be deleted, replaced or expired."""


class EndpointLimitError(PlanError):
    """Applying the plan would need more webhook endpoints at once than Stripe allows.

    Not a :class:`SafetyError`: ``--force`` cannot lift it, Stripe would refuse the create.
    """


class RegistrationRefusedError(PlanError):
    """Stripe would refuse a tax registration request the plan makes, so nothing is sent.

    A create while the account has no head office and the plan sets none, or a window that
    would end before it starts. Not a :class:`SafetyError`: ``--force`` cannot lift it.
    """


class PlanFileError(PlanError):
    """The plan file is unreadable, tampered with, or from an incompatible version."""


class StalePlanError(PlanError):
    """Live state (or the desired state) changed since the plan was made."""

    def __init__(self, message: str, *, changes: list[str] | None = None) -> None:
        self.changes = changes or []
        super().__init__(message)


class ApplyError(ReconcilerError):
    """Apply stopped early. The message lists what was done, what failed and what never started."""


class FleetError(ReconcilerError):
    """Some accounts of a fleet could not be planned, applied, checked or exported; the others
    were. Raised after the fleet's output, which says for each failed account why."""


class SecretSinkError(ReconcilerError):
    """A new webhook signing secret could not be handed to its sink."""


class AlertError(ReconcilerError):
    """A drift alert could not be delivered."""


class ReadOnlyViolationError(ReconcilerError):
    """A read-only command (``drift``, ``export``) attempted a write; nothing was sent."""

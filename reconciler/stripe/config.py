"""Client configuration: the API key, where to send requests, and the retry/rate policy.

:class:`StripeConfig` validates everything up front so a bad key or base fails before any request
is made, with a message that tells the user what to change — and never repeats the key itself.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

import httpx

from reconciler.data import pinned_api_version
from reconciler.errors import UsageError

Mode = Literal["test", "live"]

KEY_ENV_VAR = "STRIPE_API_KEY"
DEFAULT_API_BASE = "https://api.stripe.com"

#: Requests per second when ``rate_limit`` is not set, under Stripe's 25/s (test) and 100/s
#: (live) global limits. Test mode runs one below the limit: a large apply then finishes near
#: writes/25 s, and the spare request per second absorbs arrival jitter (at 25/s the server
#: sees 26 in some one-second window). Live mode leaves a fifth to the account's production
#: traffic, which must not be starved into 429s by a configuration change.
DEFAULT_RATE_LIMITS: dict[Mode, float] = {"test": 24.0, "live": 80.0}

#: Requests per second per operation (``POST /v1/tax/registrations`` is one) when
#: ``operation_rate_limit`` is not set: one below Stripe's default of 25/s per API endpoint in
#: both modes, for the same reason as the test-mode global default.
DEFAULT_OPERATION_RATE_LIMIT = 24.0

#: Seconds a command may take talking to Stripe when nothing else is configured (``--timeout``).
DEFAULT_DEADLINE = 120.0

_SECRET_PREFIXES: dict[str, Mode] = {
    "sk_test_": "test",
    "sk_live_": "live",
    "rk_test_": "test",
    "rk_live_": "live",
}
# Anything outside this alphabet would end up in an HTTP header; httpx would then raise an
# error quoting the header value, i.e. the key. Refusing it here keeps the key out of messages.
_KEY_CHARS = re.compile(r"[A-Za-z0-9_]+")
_LOOPBACK_NAMES = frozenset({"localhost"})
_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]+")


def key_mode(api_key: str | None, *, source: str = KEY_ENV_VAR) -> Mode:
    """Return ``"test"`` or ``"live"`` from a secret or restricted key's prefix.

    Raises :class:`UsageError` for a missing key, a publishable (``pk_``) key, or anything that
    is not an ``sk_``/``rk_`` key. Messages never contain the key; they name ``source``, where
    the key came from (``STRIPE_API_KEY`` or ``--api-key``), so the user fixes the right one.
    """
    if not api_key:
        raise UsageError(
            f"No Stripe API key: set the {KEY_ENV_VAR} environment variable "
            "(or pass --api-key) to a secret (sk_) or restricted (rk_) key."
        )
    fix = f"set {source} to" if source == KEY_ENV_VAR else f"pass {source}"
    if api_key.startswith("pk_"):
        raise UsageError(
            "A publishable key (pk_…) cannot manage webhook endpoints or Tax settings: "
            f"{fix} a secret (sk_…) or restricted (rk_…) key."
        )
    for prefix, mode in _SECRET_PREFIXES.items():
        if api_key.startswith(prefix) and len(api_key) > len(prefix):
            if _KEY_CHARS.fullmatch(api_key) is None:
                raise UsageError(
                    f"The Stripe API key in {source} contains characters a key never has "
                    "(spaces, quotes or line breaks?); check how it was copied."
                )
            return mode
    raise UsageError(
        f"{source} does not hold a Stripe secret key: expected one starting with "
        "sk_test_, sk_live_, rk_test_ or rk_live_."
    )


def validate_api_base(api_base: str) -> str:
    """Return the base URL without a trailing slash, or raise :class:`UsageError`.

    Plain ``http`` is allowed only for loopback hosts (the local emulator): anywhere else it
    would send the API key in clear text.
    """
    # a base that is not a URL may still hold a password ("user:pw@host"): never echo one
    shown = "given" if "@" in api_base else repr(api_base)
    try:
        url = httpx.URL(api_base)
    except (httpx.InvalidURL, TypeError) as error:
        raise UsageError(f"Invalid API base {shown}: {error}") from None
    if url.userinfo or url.query or url.fragment:
        raise UsageError(
            f"Invalid API base {url.copy_with(username=None, password=None)!s}: "
            "it must not carry credentials, a query or a fragment."
        )
    if url.scheme not in ("https", "http") or not url.host:
        raise UsageError(
            f"Invalid API base {shown}: expected an https:// URL such as {DEFAULT_API_BASE}."
        )
    if url.port is not None and not 1 <= url.port <= 65535:
        raise UsageError(f"Invalid API base {shown}: the port must be from 1 to 65535.")
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise UsageError(
            f"Refusing plain-http API base {api_base!r}: the API key would travel unencrypted. "
            "Use https, or http only for a loopback address (127.0.0.1, ::1, localhost)."
        )
    return str(url).rstrip("/")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class StripeConfig:
    """Everything a :class:`~reconciler.stripe.client.StripeClient` needs. Frozen and validated.

    ``api_version=None`` means the version pinned in the packaged OpenAPI subset;
    ``rate_limit=None`` means 24 requests/s with a test key and 80/s with a live key, and
    ``operation_rate_limit=None`` 24/s per operation (see :mod:`reconciler.stripe.ratelimit`).
    ``deadline`` bounds everything one client does, in seconds of wall-clock time counted from
    ``started_at`` (a ``time.monotonic()`` value: the command's start; ``None``: when the
    client is created): every request, retry, backoff, page and rate-limiter wait must end by
    then. ``timeout`` bounds the whole of each attempt (connecting, sending and receiving the
    entire answer), not just the gaps between bytes as httpx's own timeouts do.
    ``wait_notice_after``: seconds without an answer before the client logs one "waiting" line
    (see :data:`~reconciler.stripe.transfer.WAITING_LOGGER`). ``key_source`` names where the
    key came from in messages (``--api-key`` or the variable).
    The key is excluded from ``repr``; :attr:`mode` says which kind of key it is.
    """

    api_key: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    api_version: str | None = None
    stripe_account: str | None = None
    timeout: float = 30.0
    max_attempts: int = 5
    deadline: float = DEFAULT_DEADLINE
    started_at: float | None = None
    rate_limit: float | None = None
    operation_rate_limit: float | None = None
    max_concurrency: int = 8
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    key_source: str = KEY_ENV_VAR
    wait_notice_after: float = 5.0

    def __post_init__(self) -> None:
        key_mode(self.api_key, source=self.key_source)
        object.__setattr__(self, "api_base", validate_api_base(self.api_base))
        positive = {
            "timeout": self.timeout,
            "deadline": self.deadline,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "wait_notice_after": self.wait_notice_after,
        }
        if self.rate_limit is not None:
            positive["rate_limit"] = self.rate_limit
        if self.operation_rate_limit is not None:
            positive["operation_rate_limit"] = self.operation_rate_limit
        for name, value in positive.items():
            # not finite: an infinite wait cannot be scheduled
            if not 0 < value < float("inf"):
                raise UsageError(f"StripeConfig.{name} must be positive, got {value!r}.")
        for name, count in (
            ("max_attempts", self.max_attempts),
            ("max_concurrency", self.max_concurrency),
        ):
            if count < 1:
                raise UsageError(f"StripeConfig.{name} must be at least 1, got {count!r}.")
        # It travels as the Stripe-Account header: anything but acct_ + letters and digits
        # would be an illegal (or non-ASCII) header value, refused deep inside httpx.
        if self.stripe_account is not None and not _ACCOUNT_ID.fullmatch(self.stripe_account):
            raise UsageError(
                f"Invalid connected account {self.stripe_account!r}: expected an id like "
                "acct_1A2b3C (letters and digits after acct_)."
            )

    @property
    def mode(self) -> Mode:
        """``"test"`` or ``"live"``, from the key prefix."""
        return key_mode(self.api_key, source=self.key_source)

    @property
    def effective_api_version(self) -> str:
        """The ``Stripe-Version`` header value every request sends."""
        return self.api_version or pinned_api_version()

    @property
    def effective_rate_limit(self) -> float:
        """Requests per second the client allows itself."""
        if self.rate_limit is not None:
            return self.rate_limit
        return DEFAULT_RATE_LIMITS[self.mode]

    @property
    def effective_operation_rate_limit(self) -> float:
        """Requests per second per operation the client allows itself."""
        if self.operation_rate_limit is not None:
            return self.operation_rate_limit
        return DEFAULT_OPERATION_RATE_LIMIT

"""API keys → (account, mode), the way Stripe reads them.

The same key always maps to the same account: the id is a hash of the part after the mode
prefix, so ``sk_test_X``, ``rk_test_X`` and ``sk_live_X`` share one account whose test and live
data stay separate. No message here ever contains the key itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from reconciler.emulator.errors import EmulatedError

_SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_([A-Za-z0-9]+)$")
_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{1,255}$")

NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the namespace's account and the mode. Holds no key material."""

    account: str
    livemode: bool
    platform_account: str


def account_for_key_body(body: str) -> str:
    return "acct_1" + hashlib.sha256(body.encode()).hexdigest()[:15].upper()


def _unauthorized(message: str) -> EmulatedError:
    return EmulatedError(401, message, stored=False)


def _key_from_header(authorization: str | None) -> str:
    if not authorization:
        raise _unauthorized(NO_KEY_MESSAGE)
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise _unauthorized(
                "Invalid API Key provided: the Basic credentials could not be decoded."
            ) from error
        return decoded.partition(":")[0]
    raise _unauthorized(
        "Invalid Authorization header. Use 'Authorization: Bearer YOUR_SECRET_KEY' or HTTP Basic "
        "auth with the key as the username."
    )


def authenticate(authorization: str | None, stripe_account: str | None) -> Caller:
    """Resolve the caller or raise Stripe's 401 (or 403 for an unusable ``Stripe-Account``)."""
    key = _key_from_header(authorization)
    if key.startswith("pk_"):
        raise _unauthorized(
            "This API call cannot be made with a publishable API key. Please use a secret API "
            "key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
        )
    match = _SECRET_KEY.match(key)
    if match is None:
        prefix = key[:8] if key[:3] in ("sk_", "rk_") else ""
        shown = f"{prefix}****" if prefix else "****"
        raise _unauthorized(f"Invalid API Key provided: {shown}")
    platform = account_for_key_body(match.group(3))
    livemode = match.group(2) == "live"
    if stripe_account is None or stripe_account == "":
        return Caller(account=platform, livemode=livemode, platform_account=platform)
    if not _ACCOUNT_ID.match(stripe_account):
        raise EmulatedError(
            403,
            "The provided key does not have access to the account given in the Stripe-Account "
            "header (or that account does not exist).",
            code="account_invalid",
            stored=False,
        )
    return Caller(account=stripe_account, livemode=livemode, platform_account=platform)

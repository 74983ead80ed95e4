"""The Stripe API layer: auth, form encoding, pagination, retries, rate limiting, error mapping.

::

    from reconciler.stripe import StripeClient, StripeConfig

    config = StripeConfig(api_key=key)            # validates key, base URL and limits
    async with StripeClient(config) as client:
        settings = await client.request("GET", "/v1/tax/settings")
        async for endpoint in client.paginate("/v1/webhook_endpoints"):
            ...

Failures raise subclasses of :class:`reconciler.errors.StripeError`. Nothing here knows about
manifests or plans.
"""

from reconciler.stripe.client import ClientStats, StripeClient
from reconciler.stripe.config import (
    DEFAULT_API_BASE,
    DEFAULT_RATE_LIMITS,
    Mode,
    StripeConfig,
    is_loopback_host,
    key_mode,
)
from reconciler.stripe.encoding import encode_form, form_pairs
from reconciler.stripe.redaction import redact

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_RATE_LIMITS",
    "ClientStats",
    "Mode",
    "StripeClient",
    "StripeConfig",
    "encode_form",
    "form_pairs",
    "is_loopback_host",
    "key_mode",
    "redact",
]

"""A plain-http (loopback) client skips loading the CA bundle, and still fails closed."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from stripe_fakes import TEST_KEY

from reconciler.stripe import StripeClient, StripeConfig


def _context(api_base: str) -> ssl.SSLContext:
    client = StripeClient(StripeConfig(api_key=TEST_KEY, api_base=api_base))
    try:
        # httpx internals: the default transport's connection pool holds the SSL context.
        context: ssl.SSLContext = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        return context
    finally:
        asyncio.run(client.aclose())


@pytest.mark.parametrize("api_base", ["http://127.0.0.1:12111", "http://localhost:8080"])
def test_loopback_http_client_trusts_no_ca_but_still_requires_verification(api_base: str) -> None:
    context = _context(api_base)
    assert context.get_ca_certs() == []
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_https_client_loads_the_ca_bundle() -> None:
    context = _context("https://api.stripe.com")
    assert len(context.get_ca_certs()) > 10
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)

"""StripeConfig and key handling: modes, refusals, base URL rules, no key in reprs."""

from __future__ import annotations

import pytest
from stripe_fakes import LIVE_KEY, TEST_KEY

from reconciler.data import pinned_api_version
from reconciler.errors import UsageError
from reconciler.stripe import StripeConfig, is_loopback_host, key_mode

TAIL = "Ab3" * 8


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("sk_test_" + TAIL, "test"),
        ("sk_live_" + TAIL, "live"),
        ("rk_test_" + TAIL, "test"),
        ("rk_live_" + TAIL, "live"),
    ],
)
def test_key_mode_from_prefix(key: str, mode: str) -> None:
    assert key_mode(key) == mode


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            None,
            "No Stripe API key: set the STRIPE_API_KEY environment variable (or pass --api-key) "
            "to a secret (sk_) or restricted (rk_) key.",
        ),
        (
            "",
            "No Stripe API key: set the STRIPE_API_KEY environment variable (or pass --api-key) "
            "to a secret (sk_) or restricted (rk_) key.",
        ),
        (
            "pk_test_" + TAIL,
            "A publishable key (pk_…) cannot manage webhook endpoints or Tax settings: "
            "set STRIPE_API_KEY to a secret (sk_…) or restricted (rk_…) key.",
        ),
        (
            "pk_live_" + TAIL,
            "A publishable key (pk_…) cannot manage webhook endpoints or Tax settings: "
            "set STRIPE_API_KEY to a secret (sk_…) or restricted (rk_…) key.",
        ),
        (
            "whsec_" + TAIL,
            "STRIPE_API_KEY does not hold a Stripe secret key: expected one starting with "
            "sk_test_, sk_live_, rk_test_ or rk_live_.",
        ),
        (
            "sk_test_",
            "STRIPE_API_KEY does not hold a Stripe secret key: expected one starting with "
            "sk_test_, sk_live_, rk_test_ or rk_live_.",
        ),
        (
            "sk_prod_" + TAIL,
            "STRIPE_API_KEY does not hold a Stripe secret key: expected one starting with "
            "sk_test_, sk_live_, rk_test_ or rk_live_.",
        ),
        (
            "sk_test_" + TAIL + "\n",
            "The Stripe API key in STRIPE_API_KEY contains characters a key never has "
            "(spaces, quotes or line breaks?); check how it was copied.",
        ),
    ],
)
def test_unusable_keys_are_refused_without_echoing_them(key: str | None, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        key_mode(key)
    assert str(caught.value) == message
    with pytest.raises(UsageError):
        StripeConfig(api_key=key or "")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "pk_test_" + TAIL,
            "A publishable key (pk_…) cannot manage webhook endpoints or Tax settings: "
            "pass --api-key a secret (sk_…) or restricted (rk_…) key.",
        ),
        (
            "whsec_" + TAIL,
            "--api-key does not hold a Stripe secret key: expected one starting with "
            "sk_test_, sk_live_, rk_test_ or rk_live_.",
        ),
        (
            "sk_test_" + TAIL + " ",
            "The Stripe API key in --api-key contains characters a key never has "
            "(spaces, quotes or line breaks?); check how it was copied.",
        ),
    ],
)
def test_messages_name_where_the_key_came_from(key: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        key_mode(key, source="--api-key")
    assert str(caught.value) == message
    with pytest.raises(UsageError) as caught:
        StripeConfig(api_key=key, key_source="--api-key")
    assert str(caught.value) == message


def test_defaults_resolve_from_mode_and_pinned_version() -> None:
    test = StripeConfig(api_key=TEST_KEY)
    live = StripeConfig(api_key=LIVE_KEY)
    assert (test.mode, test.effective_rate_limit) == ("test", 24.0)
    assert (live.mode, live.effective_rate_limit) == ("live", 80.0)
    assert test.effective_api_version == pinned_api_version() == "2026-10-28.endive"
    custom = StripeConfig(api_key=TEST_KEY, rate_limit=5, api_version="2025-01-27.acacia")
    assert (custom.effective_rate_limit, custom.effective_api_version) == (5, "2025-01-27.acacia")


def test_key_is_absent_from_repr_and_str() -> None:
    config = StripeConfig(api_key=TEST_KEY, stripe_account="acct_123")
    assert TEST_KEY not in repr(config)
    assert TEST_KEY not in str(config)
    assert repr(config).startswith("StripeConfig(api_base='https://api.stripe.com', ")


def test_config_is_frozen() -> None:
    config = StripeConfig(api_key=TEST_KEY)
    with pytest.raises(AttributeError):
        config.api_base = "http://example.com"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("base", "normalised"),
    [
        ("https://api.stripe.com", "https://api.stripe.com"),
        ("https://api.stripe.com/", "https://api.stripe.com"),
        ("https://stripe.internal.example:8443", "https://stripe.internal.example:8443"),
        ("http://127.0.0.1:12111", "http://127.0.0.1:12111"),
        ("http://127.8.9.10:80/", "http://127.8.9.10"),
        ("http://localhost:12111", "http://localhost:12111"),
        ("http://[::1]:12111", "http://[::1]:12111"),
    ],
)
def test_allowed_api_bases(base: str, normalised: str) -> None:
    assert StripeConfig(api_key=TEST_KEY, api_base=base).api_base == normalised


@pytest.mark.parametrize(
    ("base", "message"),
    [
        (
            "http://api.stripe.com",
            "Refusing plain-http API base 'http://api.stripe.com': the API key would travel "
            "unencrypted. Use https, or http only for a loopback address (127.0.0.1, ::1, "
            "localhost).",
        ),
        (
            "http://10.0.0.5:12111",
            "Refusing plain-http API base 'http://10.0.0.5:12111': the API key would travel "
            "unencrypted. Use https, or http only for a loopback address (127.0.0.1, ::1, "
            "localhost).",
        ),
        (
            "http://localhost.evil.example",
            "Refusing plain-http API base 'http://localhost.evil.example': the API key would "
            "travel unencrypted. Use https, or http only for a loopback address (127.0.0.1, "
            "::1, localhost).",
        ),
        (
            "ftp://api.stripe.com",
            "Invalid API base 'ftp://api.stripe.com': expected an https:// URL such as "
            "https://api.stripe.com.",
        ),
        (
            "api.stripe.com",
            "Invalid API base 'api.stripe.com': expected an https:// URL such as "
            "https://api.stripe.com.",
        ),
        (
            "https://user:pw@api.stripe.com",
            "Invalid API base https://api.stripe.com: it must not carry credentials, a query "
            "or a fragment.",
        ),
        (
            "http://127.0.0.1:99999",
            "Invalid API base 'http://127.0.0.1:99999': the port must be from 1 to 65535.",
        ),
        (
            "user:hunter2@api.stripe.com",
            "Invalid API base given: expected an https:// URL such as https://api.stripe.com.",
        ),
        (
            "https://api.stripe.com:0",
            "Invalid API base 'https://api.stripe.com:0': the port must be from 1 to 65535.",
        ),
    ],
)
def test_refused_api_bases(base: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        StripeConfig(api_key=TEST_KEY, api_base=base)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("128.0.0.1", False),
        ("0.0.0.0", False),
        ("api.stripe.com", False),
        ("localhost.example", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "StripeConfig.timeout must be positive, got 0."),
        ({"deadline": -1.0}, "StripeConfig.deadline must be positive, got -1.0."),
        ({"rate_limit": 0}, "StripeConfig.rate_limit must be positive, got 0."),
        ({"max_attempts": 0}, "StripeConfig.max_attempts must be at least 1, got 0."),
        ({"max_concurrency": 0}, "StripeConfig.max_concurrency must be at least 1, got 0."),
        (
            {"stripe_account": "123"},
            "Invalid connected account '123': expected an id like acct_1A2b3C (letters and "
            "digits after acct_).",
        ),
        (
            {"stripe_account": "acct_1\nX: y"},
            "Invalid connected account 'acct_1\\nX: y': expected an id like acct_1A2b3C "
            "(letters and digits after acct_).",
        ),
    ],
)
def test_invalid_limits_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        StripeConfig(api_key=TEST_KEY, **options)  # type: ignore[arg-type]
    assert str(caught.value) == message

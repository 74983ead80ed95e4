"""The key-mode guard shared by plan/apply/drift: a key's mode must match account.mode."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reconciler.apply.secrets import SecretSinks
from reconciler.apply.session import apply_session
from reconciler.cli.common import guard_mode
from reconciler.drift.check import check_drift
from reconciler.drift.readonly import ReadOnlyClient
from reconciler.errors import LiveModeGuardError, UsageError
from reconciler.manifest.model import Manifest
from reconciler.stripe import StripeClient, StripeConfig

TEST_KEY = "sk_test_" + "g" * 16
LIVE_KEY = "rk_live_" + "g" * 16


@pytest.mark.parametrize(
    ("key", "mode", "result"),
    [(TEST_KEY, "test", "test"), (LIVE_KEY, "live", "live")],
)
def test_matching_modes_pass(key: str, mode: str, result: str) -> None:
    manifest = Manifest.model_validate({"version": 1, "account": {"mode": mode}})
    assert guard_mode(key, manifest) == result


@pytest.mark.parametrize(
    ("key", "mode", "message"),
    [
        (LIVE_KEY, "test", "Refusing to use a live-mode key with manifests that declare"),
        (TEST_KEY, "live", "The manifests declare account.mode: live but the key is a test-mode"),
    ],
)
def test_mismatched_modes_are_refused(key: str, mode: str, message: str) -> None:
    manifest = Manifest.model_validate({"version": 1, "account": {"mode": mode}})
    with pytest.raises(LiveModeGuardError) as caught:
        guard_mode(key, manifest)
    assert str(caught.value).startswith(message)
    assert key not in str(caught.value)


def test_missing_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="No Stripe API key"):
        guard_mode(None, Manifest.model_validate({"version": 1}))


class NoRequests(httpx.AsyncBaseTransport):
    """A transport that fails the test if anything is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        raise AssertionError(f"a request was sent: {request.method} {request.url.path}")


@pytest.mark.parametrize(("key", "mode"), [(LIVE_KEY, "test"), (TEST_KEY, "live")])
def test_the_library_refuses_the_other_mode_before_any_request(key: str, mode: str) -> None:
    """Issue 13.12: the guard lives below the CLI, so a script calling the library directly
    cannot apply (or read) with the key of the other mode."""
    manifest = Manifest.model_validate({"version": 1, "account": {"mode": mode}})
    config = StripeConfig(api_key=key, api_base="https://api.stripe.com")
    transport = NoRequests()
    with pytest.raises(LiveModeGuardError):
        asyncio.run(apply_session(config, manifest, SecretSinks([]), transport=transport))

    async def drift() -> None:
        async with StripeClient(config, transport) as client:
            await check_drift(
                manifest,
                ReadOnlyClient(client),
                account_id=None,
                mode=config.mode,
                stripe_account=None,
            )

    with pytest.raises(LiveModeGuardError):
        asyncio.run(drift())
    assert transport.sent == []


def test_execute_plan_and_check_drift_trust_the_key_not_the_caller() -> None:
    """Review finding 11: execute_plan with a live key and ApplyTarget(mode="test") wrote in
    live mode, and check_drift took the mode from its caller."""
    from reconciler.apply.executor import ApplyTarget, execute_plan
    from reconciler.plan.model import Plan

    manifest = Manifest.model_validate({"version": 1, "account": {"mode": "test"}})
    config = StripeConfig(api_key=LIVE_KEY, api_base="https://api.stripe.com")
    transport = NoRequests()
    target = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c")

    async def both() -> None:
        async with StripeClient(config, transport) as client:
            with pytest.raises(LiveModeGuardError):
                await execute_plan(Plan(), client, target, SecretSinks([]))
            with pytest.raises(LiveModeGuardError):
                await check_drift(
                    manifest,
                    ReadOnlyClient(client),
                    account_id=None,
                    mode="test",  # the caller's word against the key's
                    stripe_account=None,
                )

    asyncio.run(both())
    assert transport.sent == []

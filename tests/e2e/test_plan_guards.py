"""The key-mode guard shared by plan/apply/drift: a key's mode must match account.mode."""

from __future__ import annotations

import pytest

from reconciler.cli.common import guard_mode
from reconciler.errors import LiveModeGuardError, UsageError
from reconciler.manifest.model import Manifest

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

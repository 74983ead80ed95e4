"""The read-only account lookup drift and export share (``reconciler.api.read_account_id``),
and the read-only view the comparison is handed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from reconciler.api import read_account_id
from reconciler.drift.readonly import ReadOnlyClient
from reconciler.errors import AccountMismatchError, PermissionDeniedError, ReadOnlyViolationError
from reconciler.manifest.model import Manifest
from reconciler.stripe import StripeClient, StripeConfig

KEY = "rk_test_" + "r" * 12
CONFIG = StripeConfig(api_key=KEY, api_base="http://127.0.0.1:9", max_attempts=1)


def transport(account_status: int, sent: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/account":
            if account_status != 200:
                body = {"error": {"type": "invalid_request_error", "message": "no permission"}}
                return httpx.Response(account_status, json=body)
            return httpx.Response(200, json={"id": "acct_live1", "object": "account"})
        return httpx.Response(200, json={"object": "tax.settings", "status": "active"})

    return httpx.MockTransport(handle)


def _manifest(pinned: str | None) -> Manifest:
    return Manifest.model_validate({"version": 1, "account": {"id": pinned}})


def _open(status: int, pinned: str | None) -> tuple[str | None, list[str]]:
    sent: list[str] = []

    async def run() -> str | None:
        async with StripeClient(CONFIG, transport(status, sent)) as client:
            account_id = await read_account_id(client, _manifest(pinned), required=False)
            reader = ReadOnlyClient(client)
            await reader.request("GET", "/v1/tax/settings")
            with pytest.raises(ReadOnlyViolationError):
                await reader.request("POST", "/v1/tax/settings", {})
            return account_id

    return asyncio.run(run()), sent


def test_account_id_labels_the_report() -> None:
    assert _open(200, None) == ("acct_live1", ["GET /v1/account", "GET /v1/tax/settings"])


def test_a_restricted_key_without_account_access_still_works() -> None:
    account_id, sent = _open(403, None)
    assert account_id is None
    assert sent == ["GET /v1/account", "GET /v1/tax/settings"]


def test_a_pinned_account_must_match() -> None:
    assert _open(200, "acct_live1")[0] == "acct_live1"
    with pytest.raises(AccountMismatchError, match="reaches account acct_live1 but the manifests"):
        _open(200, "acct_other")


def test_a_pinned_account_that_cannot_be_checked_is_an_error() -> None:
    with pytest.raises(PermissionDeniedError):
        _open(403, "acct_live1")

"""Session refusals that happen before any write: foreign plans and missing sinks."""

from __future__ import annotations

import pytest

from reconciler.apply.secrets import CommandSink, GitHubMaskSink, SecretSinks
from reconciler.apply.session import _check_saved_account, check_pinned_account, require_sink
from reconciler.errors import AccountMismatchError, SecretSinkError
from reconciler.manifest.model import Manifest
from reconciler.plan.model import Action, ActionType, Plan
from reconciler.plan.planfile import PlanFile
from reconciler.stripe import StripeConfig

TEST_KEY = "sk_test_" + "d" * 16
LIVE_KEY = "sk_live_" + "d" * 16
MANIFEST = Manifest.model_validate({"version": 1})


def saved(
    mode: str = "test", account: str | None = "acct_A", connected: str | None = None
) -> PlanFile:
    return PlanFile(
        account_id=account,
        mode=mode,
        stripe_account=connected,
        api_version="2026-09-30.endive",
        desired=MANIFEST,
        plan=Plan(),
    )


def config(key: str = TEST_KEY, connected: str | None = None) -> StripeConfig:
    return StripeConfig(api_key=key, api_base="http://127.0.0.1:1", stripe_account=connected)


@pytest.mark.parametrize(
    ("plan_file", "account", "cfg", "message"),
    [
        (saved(), "acct_A", config(), None),
        (
            # plan --out always records the account: a null one is an edit (review finding 9)
            saved(account=None),
            "acct_B",
            config(),
            "the plan file records no account (plan --out always records the one it was made "
            "for, so the file was edited); make a new plan with plan --out",
        ),
        (
            saved(mode="live"),
            "acct_A",
            config(),
            "the plan was made in live mode but the key is a test-mode key; use the key the "
            "plan was made with",
        ),
        (
            saved(),
            "acct_B",
            config(),
            "the plan was made for account acct_A but the key reaches acct_B; use the key of "
            "acct_A or make a new plan with this one",
        ),
        (
            saved(connected="acct_C"),
            "acct_A",
            config(),
            "the plan was made for connected account acct_C but this run acts on the key's own "
            "account; pass --stripe-account acct_C (or set STRIPE_ACCOUNT) with the platform's "
            "key to apply it, or make a new plan",
        ),
        (
            saved(),
            "acct_A",
            config(connected="acct_C"),
            "the plan was made for the key's own account but this run acts on connected account "
            "acct_C (--stripe-account or STRIPE_ACCOUNT); unset it to apply this plan, or make a "
            "new plan for acct_C",
        ),
        (
            # under Stripe-Account the lookup answers with the connected account: the fix is
            # --stripe-account, never "that account's key"
            saved(account="acct_C", connected="acct_C"),
            "acct_D",
            config(connected="acct_D"),
            "the plan was made for connected account acct_C but this run acts on connected "
            "account acct_D; pass --stripe-account acct_C (or set STRIPE_ACCOUNT) with the "
            "platform's key to apply it, or make a new plan",
        ),
        (saved(mode="live"), "acct_A", config(LIVE_KEY), None),
    ],
)
def test_saved_plan_account_checks(
    plan_file: PlanFile, account: str, cfg: StripeConfig, message: str | None
) -> None:
    if message is None:
        _check_saved_account(plan_file, account, cfg)
        return
    with pytest.raises(AccountMismatchError) as caught:
        _check_saved_account(plan_file, account, cfg)
    assert str(caught.value) == message


def test_pinned_account_mismatch() -> None:
    pinned = Manifest.model_validate({"version": 1, "account": {"id": "acct_A"}})
    check_pinned_account(pinned, "acct_A", None)
    check_pinned_account(pinned, "acct_C", "acct_C")  # the connected account under the header
    with pytest.raises(AccountMismatchError) as caught:
        check_pinned_account(pinned, "acct_B", None)
    assert str(caught.value) == (
        "the API key reaches account acct_B but the manifests pin account.id acct_A; use the key "
        "of acct_A (or, if acct_A is a connected account, the platform's key with "
        "account.stripe_account or --stripe-account acct_A), or change account.id"
    )


CREATE = Action(
    kind="webhook_endpoints", address="webhook_endpoints.a", action=ActionType.CREATE, reason=""
)
UPDATE = Action(
    kind="webhook_endpoints",
    address="webhook_endpoints.b",
    action=ActionType.UPDATE,
    reason="",
    live_id="we_1",
)


@pytest.mark.parametrize(
    ("actions", "sinks", "refused"),
    [
        ((CREATE,), SecretSinks([]), True),
        ((CREATE,), SecretSinks([GitHubMaskSink(print)]), True),  # a mask keeps nothing
        ((CREATE,), SecretSinks([CommandSink("true")]), False),
        ((UPDATE,), SecretSinks([]), False),
    ],
)
def test_require_sink(actions: tuple[Action, ...], sinks: SecretSinks, refused: bool) -> None:
    plan = Plan(actions=actions)
    if not refused:
        require_sink(plan, sinks)
        return
    with pytest.raises(SecretSinkError, match=r"^the plan creates or replaces 1 webhook"):
        require_sink(plan, sinks)

"""The secrets-file variable of a logical name, and the steps that must agree on it."""

from __future__ import annotations

import pytest

from reconciler.export.build import _Names
from reconciler.manifest.names import secret_variable


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("orders", "STRIPE_WEBHOOK_SECRET_ORDERS"),
        ("orders-eu", "STRIPE_WEBHOOK_SECRET_ORDERS_EU"),
        ("orders_eu", "STRIPE_WEBHOOK_SECRET_ORDERS_EU"),
        ("9lives", "STRIPE_WEBHOOK_SECRET_9LIVES"),
        # outside the logical-name pattern, but never a malformed variable either
        ("Orders+EU.x", "STRIPE_WEBHOOK_SECRET_ORDERS_EU_X"),
    ],
)
def test_secret_variable(name: str, variable: str) -> None:
    assert secret_variable(name) == variable


def test_export_never_hands_out_two_names_of_one_variable() -> None:
    names = _Names(["orders-eu"])
    assert names.claim("orders_eu") == "orders_eu-2"
    assert secret_variable("orders_eu-2") != secret_variable("orders-eu")


@pytest.mark.parametrize(("taken", "wanted"), [("a.b", "a_b"), ("orders-eu", "ORDERS_EU")])
def test_export_collisions_are_exactly_secret_variable_collisions(taken: str, wanted: str) -> None:
    assert secret_variable(taken) == secret_variable(wanted)
    assert _Names([taken]).claim(wanted) == f"{wanted}-2"


@pytest.mark.parametrize(
    ("name", "account", "variable"),
    [
        ("orders", "acct_123", "STRIPE_WEBHOOK_SECRET_ACCT_123_ORDERS"),
        ("orders-eu", "acct_1AbC", "STRIPE_WEBHOOK_SECRET_ACCT_1ABC_ORDERS_EU"),
    ],
)
def test_a_fleet_account_comes_first(name: str, account: str, variable: str) -> None:
    assert secret_variable(name, account) == variable


def test_two_accounts_never_share_a_variable_for_one_name() -> None:
    assert secret_variable("orders", "acct_1") != secret_variable("orders", "acct_2")
    # nor the same name in a fleet and outside one
    assert secret_variable("orders", "acct_1") != secret_variable("orders")

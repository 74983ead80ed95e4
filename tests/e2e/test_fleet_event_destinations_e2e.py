"""Event destinations in a fleet, end to end: each connected account gets its own, reached with
``Stripe-Context`` (v2's header for the connected account), and each signing secret is stored
under a variable naming the account."""

from __future__ import annotations

from pathlib import Path

import stripe
from apply_helpers import KEY, invoke, read_dotenv
from fleet_helpers import FAST, NAMED, connect_accounts, last_seq, requests_since, write_fleet

from reconciler.emulator.server import EmulatorServer

DESTINATION = """\
version: 1
event_destinations:
  meters:
    type: webhook_endpoint
    event_payload: thin
    enabled_events: [v1.billing.meter.error_report_triggered]
    webhook_endpoint: {url: "https://${SHOP_HOST:-shops.example.com}/thin"}
"""


def destinations(emulator: EmulatorServer, account: str | None) -> list[str]:
    """The destinations' URLs in ``account`` (``None``: the platform), by stripe-python."""
    options = {} if account is None else {"stripe_context": account}
    client = stripe.StripeClient(KEY, base_addresses={"api": emulator.base_url}, **options)
    listed = client.v2.core.event_destinations.list({"include": ["webhook_endpoint.url"]})
    return [d.webhook_endpoint.url for d in listed.auto_paging_iter()]


def test_a_fleet_applies_each_accounts_event_destinations_in_that_account(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    listed = connect_accounts(emulator, 1)
    fleet_file = write_fleet(tmp_path, extra=FAST)
    (tmp_path / "base" / "destinations.yaml").write_text(DESTINATION, encoding="utf-8")
    accounts = sorted([*NAMED, *listed])
    secrets = tmp_path / "fleet.secrets.env"
    start = last_seq(emulator)

    run = invoke(
        emulator, "apply", "--fleet", str(fleet_file), "--auto-approve", "--secrets-file",
        str(secrets),
    )  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr

    v2 = [e for e in requests_since(emulator, start) if e["path"].startswith("/v2/")]
    assert {e["account"] for e in v2} == set(accounts)
    assert destinations(emulator, NAMED[0]) == ["https://a.example.com/thin"]
    assert destinations(emulator, NAMED[1]) == ["https://b.example.com/thin"]
    assert destinations(emulator, listed[0]) == ["https://shops.example.com/thin"]
    assert destinations(emulator, None) == []  # nothing landed on the platform
    stored = read_dotenv(secrets)
    assert {name for name in stored if name.startswith("STRIPE_EVENT_DESTINATION_SECRET_")} == {
        f"STRIPE_EVENT_DESTINATION_SECRET_{account.upper()}_METERS" for account in accounts
    }

    again = invoke(emulator, "plan", "--fleet", str(fleet_file), "--detailed-exitcode")
    assert again.code == 0, again.stdout + again.stderr

"""A Stripe error reaches the user once, short, and naming the value that was wrong.

The emulator's real 400 for an event it does not know lists every allowed event (about 6 KB,
as Stripe's enum errors do) and names only ``enabled_events[0]``."""

from __future__ import annotations

from pathlib import Path

from e2e_support import spawn_cli

from reconciler.emulator.server import EmulatorServer

KEY = "sk_test_" + "m" * 16

MANIFEST = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/hooks
    enabled_events: [invoice.paid, invoice.bogus_event]
"""


def test_an_unknown_event_is_named_once_in_a_short_error(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    manifest = tmp_path / "stripe.yaml"
    manifest.write_text(MANIFEST)
    env: dict[str, str | None] = {
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": emulator.base_url,
        "GITHUB_ACTIONS": None,
    }
    process = spawn_cli(
        env,
        "apply",
        str(manifest),
        "--allow-unknown-events",  # validation lets it through, so Stripe's answer decides
        "--auto-approve",
        "--secrets-file",
        str(tmp_path / "s.env"),
    )
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, (out, err)
    answer = next(r for r in emulator.requests() if r["method"] == "POST")
    assert answer["status"] == 400  # the emulator's own answer, not something made up here
    assert err.count("must be one of") == 1, err
    assert err.count("(param: enabled_events[0] = 'invoice.bogus_event')") == 1, err
    assert "more characters)" in err
    assert "webhook_endpoints.orders: create failed after" in err
    assert len(err) < 2000, f"{len(err)} characters on stderr"
    assert "Traceback" not in err

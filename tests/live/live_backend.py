"""Which Stripe the live acceptance suite talks to, read from the environment.

The suite's code is the same for every backend; only this differs: the connection (API base and
key) and the opt-ins for what is hard to undo on a real account.

* No ``STRIPE_RECONCILER_LIVE_TEST_KEY`` (the default, and CI): the bundled emulator on
  127.0.0.1, with every opt-in on, since its account is thrown away after the test.
* A test-mode key (``sk_test_…``/``rk_test_…``) there: that Stripe sandbox, at
  ``STRIPE_RECONCILER_LIVE_TEST_API_BASE`` (default ``https://api.stripe.com``), with the opt-ins
  the user set. Anything else, a live key first of all, is refused before a request is sent.

Pure: the fixture in ``conftest.py`` turns a refusal into a test failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

KEY_VARIABLE = "STRIPE_RECONCILER_LIVE_TEST_KEY"
API_BASE_VARIABLE = "STRIPE_RECONCILER_LIVE_TEST_API_BASE"
TAX_VARIABLE = "STRIPE_RECONCILER_LIVE_TEST_TAX"
TAX_SETTINGS_VARIABLE = "STRIPE_RECONCILER_LIVE_TEST_TAX_SETTINGS"
STRIPE_API_BASE = "https://api.stripe.com"

# Stripe's documented sandbox limits (global per account, and per API endpoint): the emulator
# enforces them during the suite, so a run that would be throttled on Stripe is throttled here.
SANDBOX_RATE_LIMIT = 25.0

_TEST_KEY = re.compile(r"(?:sk|rk)_test_[A-Za-z0-9]+")
_LIVE_PREFIXES = ("sk_live_", "rk_live_")


class LiveSuiteRefusal(Exception):
    """The environment asks for something the suite will not do; the message never holds a key."""


@dataclass(frozen=True)
class Backend:
    """One Stripe to run against. ``key`` is left out of ``repr`` so no failure report shows it."""

    label: str
    base_url: str
    key: str = field(repr=False)
    registrations: bool
    """Create (and at cleanup expire) a tax registration: it stays listed, expired, forever."""
    tax_settings_writes: bool
    """Set a head office and default tax behaviour the account lacks, and flip the behaviour
    out of band (restored by the suite); Stripe cannot unset either once set."""


def backend_from_env(env: Mapping[str, str]) -> Backend | None:
    """The real sandbox the environment names, ``None`` for the emulator, or a refusal."""
    key = env.get(KEY_VARIABLE, "")
    if not key:
        for name in (TAX_VARIABLE, TAX_SETTINGS_VARIABLE, API_BASE_VARIABLE):
            if env.get(name):
                raise LiveSuiteRefusal(
                    f"{name} is set but {KEY_VARIABLE} is not: set the key of a Stripe sandbox "
                    f"(sk_test_… or rk_test_…), or unset {name} to run against the emulator"
                )
        return None
    live_prefix = next((p for p in _LIVE_PREFIXES if key.startswith(p)), None)
    if live_prefix is not None:
        raise LiveSuiteRefusal(
            f"{KEY_VARIABLE} holds a live-mode key ({live_prefix}…): the live acceptance suite "
            "creates, edits and deletes objects, so it only runs with a test-mode key "
            "(sk_test_… or rk_test_…) of a sandbox; refusing before any request"
        )
    if not _TEST_KEY.fullmatch(key):
        raise LiveSuiteRefusal(
            f"{KEY_VARIABLE} is not a Stripe test-mode secret or restricted key (expected "
            "sk_test_… or rk_test_…, letters and digits only); refusing before any request"
        )
    return Backend(
        label="Stripe (test mode)",
        base_url=env.get(API_BASE_VARIABLE) or STRIPE_API_BASE,
        key=key,
        registrations=_opt_in(env, TAX_VARIABLE),
        tax_settings_writes=_opt_in(env, TAX_SETTINGS_VARIABLE),
    )


def emulator_backend(base_url: str, key: str) -> Backend:
    """The bundled emulator: a fresh account per test, so everything is opted in."""
    return Backend(
        label="the bundled emulator",
        base_url=base_url,
        key=key,
        registrations=True,
        tax_settings_writes=True,
    )


def _opt_in(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "")
    if value not in ("", "0", "1"):
        raise LiveSuiteRefusal(f"{name} must be 1 (opt in) or 0/unset (opt out), not {value!r}")
    return value == "1"

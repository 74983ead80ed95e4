"""One run of the live acceptance suite: its unique names, its manifest, the CLI, its cleanup.

A run id (10 hex digits) is in every logical name, URL, description and metadata value the run
declares, so parallel runs on one account never share an object: an endpoint is this run's when
its URL's host is ``live-suite-<run id>.example.com``. Tax registrations carry no name or tag
(Stripe has no metadata on them), so a run declares one registration of a US state that had no
active or scheduled registration when it started, picked from the run id, and calls this run's
the ones of that state that did not exist before it. Two runs that pick the same state at the
same moment would share it (one chance in 45 per pair of concurrent runs that create
registrations); endpoints never collide.

Every ``plan`` and ``apply`` is limited with ``--target`` to this run's addresses, under
``policy.unmanaged: ignore`` (``drift`` and ``export`` only read), so nothing else on the account
is planned, let alone written. Cleanup (delete the
run's endpoints, expire its registrations, restore a default tax behaviour it flipped) runs in
:meth:`LiveRun.started`'s ``finally``, so it also runs after a failure or Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from e2e_support import spawn_cli
from live_api import StripeApi
from live_backend import (
    TAX_SETTINGS_VARIABLE,
    TAX_VARIABLE,
    Backend,
    LiveSuiteRefusal,
)

from reconciler.timestamps import iso_utc

# States with a statewide sales tax (Stripe's `state_sales_tax`); AK, DE, MT, NH and OR have none.
# fmt: off
SALES_TAX_STATES = (
    "AL", "AZ", "AR", "CA", "CO", "CT", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "NE", "NV", "NJ", "NM", "NY", "NC", "ND", "OH", "OK",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
)
# fmt: on
# Set only on an account without a head office, and only with the tax-settings opt-in.
HEAD_OFFICE = {
    "country": "US",
    "state": "CA",
    "city": "San Francisco",
    "line1": "510 Townsend St",
    "postal_code": "94103",
}
REGISTRATION_DAYS = 400
CLI_TIMEOUT_SECONDS = 300
DAY = 86_400

# logical name suffix → (path of the URL, enabled events)
ENDPOINTS = {
    "orders": ("/hooks/orders", ["checkout.session.completed", "invoice.paid"]),
    "billing": ("/hooks/billing", ["invoice.payment_failed"]),
}


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str


def choose_state(occupied: Collection[str], run_id: str) -> str | None:
    """A state with no active or scheduled sales-tax registration, spread by the run id."""
    free = [state for state in SALES_TAX_STATES if state not in occupied]
    return free[int(run_id, 16) % len(free)] if free else None


def declared_tax_settings(live: dict[str, Any], *, writes: bool) -> dict[str, Any] | None:
    """What the run declares of the tax settings: what the account already has (so a plan
    changes nothing), plus what it lacks only when writes are opted in; ``None`` (not managed)
    when the account has no head office and writes are not opted in."""
    address = {
        part: value
        for part, value in ((live.get("head_office") or {}).get("address") or {}).items()
        if value
    }
    defaults = {
        field: value
        for field in ("tax_behavior", "tax_code")
        if (value := (live.get("defaults") or {}).get(field))
    }
    if not address:
        if not writes:
            return None
        address = dict(HEAD_OFFICE)
    if writes:
        defaults.setdefault("tax_behavior", "exclusive")
    declared: dict[str, Any] = {"head_office": {"address": address}}
    if defaults:
        declared["defaults"] = defaults
    return declared


def flipped_tax_behavior(current: str) -> str:
    return "inclusive" if current == "exclusive" else "exclusive"


@dataclass
class LiveRun:
    backend: Backend
    api: StripeApi
    directory: Path
    run_id: str
    tax_settings: dict[str, Any] | None
    """The declared tax settings, or ``None`` when the run does not manage them."""
    original_tax_behavior: str | None
    state: str | None
    """The US state of the run's registration, or ``None`` without the registrations opt-in."""
    preexisting_registrations: frozenset[str]
    expires_at: int
    """The declared end of the run's registration (a day boundary, far ahead)."""
    on_secret: Callable[[str], None]

    @classmethod
    @contextmanager
    def started(
        cls, backend: Backend, directory: Path, *, on_secret: Callable[[str], None]
    ) -> Iterator[LiveRun]:
        """A prepared run whose objects are cleaned up when the block ends, however it ends."""
        with StripeApi(backend) as api:
            run = cls._prepare(backend, api, directory, on_secret)
            try:
                yield run
            finally:
                leftovers = run.cleanup()
                if leftovers:
                    raise AssertionError(
                        f"live suite run {run.run_id}: cleanup could not remove "
                        f"{', '.join(leftovers)}; remove them in the Dashboard"
                    )

    @classmethod
    def _prepare(
        cls,
        backend: Backend,
        api: StripeApi,
        directory: Path,
        on_secret: Callable[[str], None],
    ) -> LiveRun:
        """Read what the run must not disturb, before it creates anything."""
        run_id = secrets.token_hex(5)
        settings = api.tax_settings()
        declared = declared_tax_settings(settings, writes=backend.tax_settings_writes)
        state: str | None = None
        preexisting: frozenset[str] = frozenset()
        if backend.registrations:
            if declared is None:
                raise LiveSuiteRefusal(
                    f"{TAX_VARIABLE}=1 needs a head office (Stripe refuses registrations "
                    "without one): set it in the Dashboard's tax settings, or also set "
                    f"{TAX_SETTINGS_VARIABLE}=1 to let the suite set one"
                )
            registrations = [r for r in api.registrations() if _is_us_sales_tax(r)]
            occupied = {
                r["country_options"]["us"]["state"]
                for r in registrations
                if r["status"] in ("active", "scheduled")
            }
            state = choose_state(occupied, run_id)
            if state is None:
                raise LiveSuiteRefusal("every US state already has a sales-tax registration")
            preexisting = frozenset(
                r["id"] for r in registrations if r["country_options"]["us"]["state"] == state
            )
        expires_at = (int(time.time()) // DAY + REGISTRATION_DAYS) * DAY
        return cls(
            backend=backend,
            api=api,
            directory=directory,
            run_id=run_id,
            tax_settings=declared,
            original_tax_behavior=(settings.get("defaults") or {}).get("tax_behavior"),
            state=state,
            preexisting_registrations=preexisting,
            expires_at=expires_at,
            on_secret=on_secret,
        )

    # --- names ------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"live-suite-{self.run_id}.example.com"

    def name(self, suffix: str) -> str:
        """The logical name of one of the run's resources."""
        return f"ls-{self.run_id}-{suffix}"

    @property
    def registration_name(self) -> str:
        assert self.state is not None
        return self.name(f"us-{self.state.lower()}")

    def addresses(self) -> list[str]:
        """Every address the run declares: its ``--target`` list."""
        found = [f"webhook_endpoints.{self.name(suffix)}" for suffix in ENDPOINTS]
        if self.tax_settings is not None:
            found.append("tax_settings")
        if self.state is not None:
            found.append(f"tax_registrations.{self.registration_name}")
        return found

    def targets(self, addresses: list[str] | None = None) -> list[str]:
        return [word for a in addresses or self.addresses() for word in ("--target", a)]

    # --- the manifest -----------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "version": 1,
            "account": {"mode": "test"},
            "policy": {"unmanaged": "ignore"},
            "webhook_endpoints": {
                self.name(suffix): {
                    "url": f"https://{self.host}{path}",
                    "enabled_events": events,
                    "description": f"stripe-reconciler live suite {self.run_id}: {suffix}",
                    "metadata": {"live_suite_run": self.run_id},
                }
                for suffix, (path, events) in ENDPOINTS.items()
            },
        }
        if self.tax_settings is not None:
            document["tax_settings"] = self.tax_settings
        if self.state is not None:
            document["tax_registrations"] = {
                self.registration_name: {
                    "country": "US",
                    "country_options": {"us": {"type": "state_sales_tax", "state": self.state}},
                    "active_from": "now",
                    "expires_at": iso_utc(self.expires_at),
                }
            }
        return document

    def write_manifest(self) -> Path:
        path = self.directory / "manifests" / "stripe.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(self.manifest(), sort_keys=False))
        return path

    # --- the CLI ----------------------------------------------------------------------------

    def cli(self, *args: str) -> CliRun:
        """``python -m reconciler ARGS`` against the backend, with nothing else of the caller's
        Stripe or GitHub environment (a stray ``STRIPE_ACCOUNT`` would redirect it)."""
        env: dict[str, str | None] = {
            name: None for name in os.environ if name.startswith(("STRIPE_", "GITHUB_"))
        }
        env.update(
            STRIPE_API_KEY=self.backend.key, STRIPE_API_BASE=self.backend.base_url, NO_COLOR="1"
        )
        process = spawn_cli(env, *args)
        try:
            stdout, stderr = process.communicate(timeout=CLI_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            _stop(process)
            command = " ".join(args[:2])
            raise AssertionError(f"`{command}` ran over {CLI_TIMEOUT_SECONDS} s") from None
        except BaseException:  # Ctrl-C: no CLI may still be writing while cleanup runs
            _stop(process)
            raise
        return CliRun(process.returncode, stdout, stderr)

    # --- what the account holds of this run -------------------------------------------------

    def endpoints(self) -> dict[str, dict[str, Any]]:
        """The run's live endpoints by logical-name suffix (from their URL)."""
        found: dict[str, dict[str, Any]] = {}
        for endpoint in self.api.webhook_endpoints():
            for suffix, (path, _) in ENDPOINTS.items():
                if endpoint["url"] == f"https://{self.host}{path}":
                    assert suffix not in found, f"two endpoints at {endpoint['url']}"
                    found[suffix] = endpoint
        return found

    def _stray_endpoints(self) -> list[dict[str, Any]]:
        """Every endpoint at the run's host (any path), for cleanup."""
        return [
            e for e in self.api.webhook_endpoints() if e["url"].startswith(f"https://{self.host}/")
        ]

    def registrations(self) -> list[dict[str, Any]]:
        """The run's active and scheduled registrations."""
        if self.state is None:
            return []
        return [
            r
            for r in self.api.registrations()
            if _is_us_sales_tax(r)
            and r["country_options"]["us"]["state"] == self.state
            and r["id"] not in self.preexisting_registrations
            and r["status"] in ("active", "scheduled")
        ]

    # --- cleanup ----------------------------------------------------------------------------

    def cleanup(self) -> list[str]:
        """Delete the run's endpoints, expire its registrations, put back a default tax
        behaviour it changed out of band; return what is still there (ids), having tried all."""
        problems: list[str] = []
        for endpoint in self._stray_endpoints():
            path = f"/v1/webhook_endpoints/{endpoint['id']}"
            _attempt(problems, partial(self.api.delete, path))
        for registration in self.registrations():
            # a scheduled one ends where it starts (never active), as the tool's expire does
            end = "now" if registration["status"] == "active" else registration["active_from"]
            path = f"/v1/tax/registrations/{registration['id']}"
            _attempt(problems, partial(self.api.update, path, {"expires_at": end}))
        if self.backend.tax_settings_writes and self.original_tax_behavior is not None:
            _attempt(problems, self._restore_tax_behavior)
        leftovers = [e["id"] for e in self._stray_endpoints()]
        leftovers += [r["id"] for r in self.registrations()]
        return leftovers + problems

    def _restore_tax_behavior(self) -> None:
        current = (self.api.tax_settings().get("defaults") or {}).get("tax_behavior")
        if current != self.original_tax_behavior:
            self.api.update(
                "/v1/tax/settings", {"defaults[tax_behavior]": self.original_tax_behavior}
            )


def _is_us_sales_tax(registration: dict[str, Any]) -> bool:
    options = registration.get("country_options", {}).get("us") or {}
    return registration.get("country") == "US" and options.get("type") == "state_sales_tax"


def _stop(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.communicate()


def _attempt(problems: list[str], action: Callable[[], object]) -> None:
    """Run one cleanup action; a failure is noted and the rest still runs."""
    try:
        action()
    except Exception as error:  # report every failure at the end, never stop half-way
        problems.append(f"({error})")

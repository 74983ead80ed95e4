"""Chaos workloads, fault profiles and the invariants every chaos run must end with.

A workload is a starting state (set up fault-free) and a target manifest. A fault profile is a
seeded emulator configuration plus the client timeout (a timeout below the emulator's latency
makes "responses slower than the client timeout"). :func:`check_invariants` reads the account
back with faults off and returns what is wrong: a plan that is not ``No changes.``, duplicate
endpoints or registrations, secrets not delivered exactly once, keys or secrets in any output.

Shared by ``tests/chaos/`` (CI-sized) and ``bench/chaos.py`` (the long, seeded run).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import e2e_support
import httpx
from click.testing import CliRunner
from leakscan import LeakScan

from reconciler.apply.secrets import FileSink, NewSecret
from reconciler.cli.main import cli
from reconciler.emulator.server import EmulatorServer
from reconciler.resources.tax_registration import natural_key

KEY = "sk_test_" + "c" * 16


# -- fault profiles -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultProfile:
    """Emulator fault knobs (``rates`` by kind) and the client timeout in seconds."""

    name: str
    rates: Mapping[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    timeout: float = 10.0

    def knobs(self, seed: int) -> dict[str, Any]:
        return {
            "seed": seed,
            "rates": dict(self.rates),
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
        }


PROFILES: dict[str, FaultProfile] = {
    p.name: p
    for p in (
        FaultProfile("jitter", latency_ms=2, jitter_ms=25),
        FaultProfile("rate-limited", {"429": 0.35}),
        FaultProfile("5xx-storm", {"500": 0.2, "503": 0.2}),
        FaultProfile("dropped", {"drop_before": 0.15, "drop_after": 0.25}),
        # about a quarter of the answers come after the client has given up on them
        FaultProfile("slow", jitter_ms=120, timeout=0.09),
        FaultProfile(
            "everything",
            {"429": 0.1, "500": 0.08, "503": 0.07, "drop_before": 0.08, "drop_after": 0.12},
            latency_ms=1,
            jitter_ms=60,
            timeout=0.05,
        ),
    )
}


# -- workloads ----------------------------------------------------------------------------------
HEADER = """\
version: 1
account: {mode: test}
policy: {unmanaged: POLICY, max_destroy: 20}
tax_settings:
  defaults: {tax_behavior: BEHAVIOUR, tax_code: txcd_10000000}
  head_office:
    address:
      {country: US, state: CA, city: San Francisco, line1: 510 Townsend St, postal_code: "94103"}
"""


def _manifest(
    endpoints: Mapping[str, str],
    registrations: Mapping[str, str],
    *,
    policy: str = "report",
    behaviour: str = "exclusive",
) -> str:
    text = HEADER.replace("POLICY", policy).replace("BEHAVIOUR", behaviour)
    if endpoints:
        text += "webhook_endpoints:\n" + "".join(
            f"  {name}: {body}\n" for name, body in endpoints.items()
        )
    if registrations:
        text += "tax_registrations:\n" + "".join(
            f"  {name}: {body}\n" for name, body in registrations.items()
        )
    return text


def _us(state: str, extra: str = "") -> str:
    options = f"{{us: {{type: state_sales_tax, state: {state}}}}}"
    return f"{{country: US, country_options: {options}{extra}}}"


def _hook(n: str, events: str = "invoice.paid", extra: str = "") -> str:
    return f"{{url: 'https://hooks{n}.example.com/stripe', enabled_events: [{events}]{extra}}}"


FULL_ENDPOINTS = {
    "orders": _hook("1", "invoice.paid, checkout.session.completed", ", metadata: {team: pay}"),
    "alerts": _hook("2", "customer.subscription.deleted", ", description: On-call"),
    "paused": _hook("3", "charge.refunded", ", disabled: true"),
    "pinned": _hook("4", "payout.paid", ", api_version: 2026-08-26.dahlia"),
    "connect": _hook("5", "account.updated", ", connect: true"),
    "billing": _hook("6", "invoice.payment_failed, invoice.finalized"),
}
FULL_REGISTRATIONS = {
    "us-ca": _us("CA"),
    "us-ny": _us("NY"),
    "us-tx": _us("TX"),
    "gb": "{country: GB, country_options: {gb: {type: standard}}}",
}

MIX_BASE_ENDPOINTS = {
    "keep": _hook("1"),
    "events": _hook("2", "charge.failed"),
    "describe": _hook("3", "charge.failed", ", description: old, metadata: {a: '1', b: '2'}"),
    "version": _hook("4", "payout.paid", ", api_version: 2026-08-26.dahlia"),
    "goner": _hook("5"),
    "toggle": _hook("6"),
}
MIX_TARGET_ENDPOINTS = {
    "keep": _hook("1"),
    "events": _hook("2", "charge.failed, charge.succeeded"),
    "describe": _hook("3", "charge.failed", ", description: new, metadata: {a: '9'}"),
    "version": _hook("4", "payout.paid", ", api_version: 2026-09-30.endive"),
    "toggle": _hook("6", extra=", disabled: true"),
    "newcomer": _hook("7", "invoice.created"),
}
MIX_BASE_REGISTRATIONS = {
    "us-ca": _us("CA"),
    "us-ny": _us("NY"),
    "us-tx": _us("TX"),
    "ca": "{country: CA, country_options: {ca: {type: simplified}}}",
}
MIX_TARGET_REGISTRATIONS = {
    "us-ca": _us("CA"),
    "us-ny": _us("NY", ", expires_at: now"),
    "ca": "{country: CA, country_options: {ca: {type: standard}}}",
    "us-wa": _us("WA"),
}

ADOPT_URLS = {"a": "https://hooks1.example.com/stripe", "b": "https://hooks2.example.com/stripe"}
ADOPT_ENDPOINTS = {
    "adopt-a": _hook("1", "invoice.paid, invoice.created"),
    "adopt-b": _hook("2", "charge.failed", ", description: adopted"),
    "fresh": _hook("8", "invoice.paid"),
}


#: Protected resources (issue 13): the base declares them with lifecycle.protect; each target
#: asks for something that would end one of them, next to harmless changes. Every apply of a
#: target must be refused before any write, whatever the faults, and they must stay as they were.
PROTECT = ", lifecycle: {protect: true}"
PROTECTED_BASE_ENDPOINTS = {"guarded": _hook("1", extra=PROTECT), "plain": _hook("2")}
PROTECTED_BASE_REGISTRATIONS = {"us-ca": _us("CA", PROTECT), "us-ny": _us("NY", PROTECT)}
PROTECTED_TARGETS = {
    # an expires_at in the past is an expire, a future one a scheduled end: protect blocks both
    "past-end": (
        {**PROTECTED_BASE_ENDPOINTS, "plain": _hook("2", "charge.failed")},
        {**PROTECTED_BASE_REGISTRATIONS, "us-ca": _us("CA", ", expires_at: 2020-01-01" + PROTECT)},
    ),
    "future-end": (
        PROTECTED_BASE_ENDPOINTS,
        {**PROTECTED_BASE_REGISTRATIONS, "us-ny": _us("NY", ", expires_at: 2099-01-01" + PROTECT)},
    ),
    "expire-now": (
        PROTECTED_BASE_ENDPOINTS,
        {**PROTECTED_BASE_REGISTRATIONS, "us-ca": _us("CA", ", expires_at: now" + PROTECT)},
    ),
    # a create-only change replaces: the endpoint's api_version, the registration's options
    "replace": (
        {
            **PROTECTED_BASE_ENDPOINTS,
            "guarded": _hook("1", extra=", api_version: 2026-09-30.endive" + PROTECT),
        },
        PROTECTED_BASE_REGISTRATIONS,
    ),
    # removed from the manifests: the endpoint's recorded protect still holds
    "removed": ({"plain": _hook("2")}, PROTECTED_BASE_REGISTRATIONS),
}


def _apply_protected_base(emulator: EmulatorServer, directory: Path) -> None:
    base = directory / "base.yaml"
    base.write_text(_manifest(PROTECTED_BASE_ENDPOINTS, PROTECTED_BASE_REGISTRATIONS))
    run = invoke(
        emulator, "apply", str(base), "--auto-approve", "--secrets-file", str(directory / "b.env")
    )
    if run.exit_code != 0:
        raise RuntimeError(f"the protected workload's base apply failed: {run.output}")
    emulator.advance_clock(60)


def protected_workload(variant: str) -> Workload:
    endpoints, registrations = PROTECTED_TARGETS[variant]
    return Workload(
        f"protect-{variant}",
        _manifest(endpoints, registrations, policy="delete"),
        _apply_protected_base,
    )


#: Stripe's limit: 16 endpoints per account and mode, every place taken (issue 13.1)
LIMIT_ENDPOINTS = {f"ep{i:02}": _hook(f"{i + 10}") for i in range(16)}


@dataclass(frozen=True)
class Workload:
    """``setup`` prepares the account fault-free; ``target`` is the manifest to converge on."""

    name: str
    target: str
    setup: Callable[[EmulatorServer, Path], None]


def _no_setup(emulator: EmulatorServer, directory: Path) -> None:
    return None


def _apply_base(emulator: EmulatorServer, directory: Path) -> None:
    base = directory / "base.yaml"
    base.write_text(_manifest(MIX_BASE_ENDPOINTS, MIX_BASE_REGISTRATIONS))
    run = invoke(
        emulator, "apply", str(base), "--auto-approve", "--secrets-file", str(directory / "b.env")
    )
    if run.exit_code != 0:
        raise RuntimeError(f"the mix workload's base apply failed: {run.output}")
    # time passes between two deploys
    emulator.advance_clock(60)


def _seed_untagged(emulator: EmulatorServer, directory: Path) -> None:
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        for url, events in ((ADOPT_URLS["a"], "invoice.paid"), (ADOPT_URLS["b"], "charge.failed")):
            api.post("/v1/webhook_endpoints", data={"url": url, "enabled_events[]": events})
        # an unmanaged endpoint nobody declares: policy report leaves it alone
        api.post(
            "/v1/webhook_endpoints",
            data={"url": "https://legacy.example.com/x", "enabled_events[]": "charge.failed"},
        )
        api.post("/v1/tax/settings", data={"head_office[address][country]": "US"})
        api.post(
            "/v1/tax/registrations",
            data={
                "country": "US",
                "country_options[us][type]": "state_sales_tax",
                "country_options[us][state]": "CA",
                "active_from": "now",
            },
        )


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("create", _manifest(FULL_ENDPOINTS, FULL_REGISTRATIONS), _no_setup),
        Workload(
            "mix",
            _manifest(
                MIX_TARGET_ENDPOINTS,
                MIX_TARGET_REGISTRATIONS,
                policy="delete",
                behaviour="inclusive",
            ),
            _apply_base,
        ),
        Workload(
            "adopt",
            _manifest(ADOPT_ENDPOINTS, {"us-ca": _us("CA"), "us-ny": _us("NY")}),
            _seed_untagged,
        ),
        Workload("limit", _manifest(LIMIT_ENDPOINTS, {"us-ca": _us("CA")}), _no_setup),
    )
}


# -- reading the account back -------------------------------------------------------------------
def invoke(emulator: EmulatorServer, *args: str) -> Any:
    """The real CLI in-process, against the emulator, without a terminal."""
    env = {"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": emulator.base_url, "NO_COLOR": "1"}
    env |= {"GITHUB_ACTIONS": None, "STRIPE_RECONCILER_TEST_CRASH_AFTER": None}  # type: ignore[dict-item]
    return CliRunner().invoke(cli, list(args), env=env)


def list_all(emulator: EmulatorServer, path: str, **params: Any) -> list[dict[str, Any]]:
    return e2e_support.list_all(emulator, path, key=KEY, **params)


def duplicates(emulator: EmulatorServer, *, settled: bool = True) -> list[str]:
    """Every name, URL or registration natural key held by more than one live object.

    Counted on an emulator that accepts duplicates (its default, as Stripe's docs say nothing
    of refusing them): an emulator that refused a second registration would make this check
    unable to fail for registrations (issue 14 item 5).

    ``settled=False`` judges the moment right after concurrent applies, when a creator whose
    network failed for good may have left what it could not take back: an endpoint still
    marked pending (its secret never went to any sink, so the promise that no name ever has
    two delivered secrets holds, and the next plan deletes it), or a registration twin whose
    expiry failed. There only delivered endpoints count; the settled state counts everything.
    """
    assert not emulator.configure()["refuse_duplicate_registrations"]
    found: list[str] = []
    endpoints = [
        e
        for e in list_all(emulator, "/v1/webhook_endpoints")
        if settled or "reconciler_secret_pending" not in e["metadata"]
    ]
    names = Counter(e["metadata"].get("reconciler_name") for e in endpoints)
    found += [f"{n} endpoints tagged {name}" for name, n in names.items() if name and n > 1]
    urls = Counter(e["url"] for e in endpoints)
    found += [f"{n} endpoints with url {url}" for url, n in urls.items() if n > 1]
    if not settled:
        return sorted(found)
    regs = [
        r
        for r in list_all(emulator, "/v1/tax/registrations", status="all")
        if r["status"] in ("active", "scheduled")
    ]
    keys = Counter(natural_key(r["country"], r["country_options"]) for r in regs)
    found += [f"{n} live registrations {key}" for key, n in keys.items() if n > 1]
    return sorted(found)


@dataclass
class Deliveries:
    """An in-process secret sink that records every delivery (for the exactly-once check)."""

    received: list[NewSecret] = field(default_factory=list)

    def describe(self) -> str:
        return "recorder"

    def check(self) -> None:
        return None

    def deliver(self, secret: NewSecret) -> None:
        self.received.append(secret)


def recorded_commands(log: Path) -> list[NewSecret]:
    """What a recording ``--secrets-command`` (``cat >> log; echo >> log``) received."""
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [NewSecret(**entry) for entry in entries]


def secret_problems(
    emulator: EmulatorServer,
    deliveries: list[NewSecret],
    sink: Path,
    *,
    untouched: frozenset[str] = frozenset(),
    exactly_once: bool = True,
) -> list[str]:
    """Each endpoint we created: its secret delivered (exactly once, or one distinct value when
    concurrent applies each got the replay) and the one the sink file holds now."""
    problems: list[str] = []
    stored = FileSink(sink).read()
    if sink.exists() and sink.stat().st_mode & 0o077:
        problems.append(f"secrets file {sink.name} is readable by others")
    for endpoint in list_all(emulator, "/v1/webhook_endpoints"):
        name = endpoint["metadata"].get("reconciler_name")
        if name is None or endpoint["id"] in untouched:
            continue
        if "reconciler_secret_pending" in endpoint["metadata"]:
            problems.append(f"{endpoint['id']} still carries the secret-pending marker")
        mine = [d for d in deliveries if d.webhook_endpoint_id == endpoint["id"]]
        values = {d.secret for d in mine}
        count = len(mine) if exactly_once else len(values)
        if count != 1:
            problems.append(f"{endpoint['id']} ({name}): secret delivered {count} times")
        variable = "STRIPE_WEBHOOK_SECRET_" + name.upper().replace("-", "_")
        if mine and stored.get(variable) not in values:
            problems.append(f"{endpoint['id']} ({name}): the secrets file holds another secret")
    return problems


def plan_problems(emulator: EmulatorServer, manifest: Path, scan: LeakScan) -> list[str]:
    run = invoke(emulator, "plan", str(manifest))
    scan.scan_stream("plan output", run.output)
    lines = run.output.strip().splitlines()
    if run.exit_code != 0 or not lines or lines[-1] != "No changes.":
        return [f"plan after the run is not 'No changes.' (exit {run.exit_code}): {lines[-3:]}"]
    return []


@dataclass
class Verdict:
    """Invariant check results: each list empty for a good run."""

    plan: list[str]
    duplicates: list[str]
    secrets: list[str]
    leaks: list[str]

    @property
    def problems(self) -> list[str]:
        return [*self.plan, *self.duplicates, *self.secrets, *self.leaks]


def check_invariants(
    emulator: EmulatorServer,
    manifest: Path,
    deliveries: list[NewSecret],
    sink: Path,
    scan: LeakScan,
    *,
    untouched: frozenset[str] = frozenset(),
    exactly_once: bool = True,
) -> Verdict:
    """Faults off, then: No changes, no duplicates, secrets kept, nothing leaked."""
    emulator.configure(rates={}, schedule=[], latency_ms=0, jitter_ms=0)
    return Verdict(
        plan=plan_problems(emulator, manifest, scan),
        duplicates=duplicates(emulator),
        secrets=secret_problems(
            emulator, deliveries, sink, untouched=untouched, exactly_once=exactly_once
        ),
        leaks=list(scan.findings),
    )

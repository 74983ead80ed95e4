"""The three kinds of chaos run: apply under faults, SIGKILL then apply again, concurrent applies.

Each run starts from a reset emulator, prepares its workload fault-free, does its damage, and
ends with :func:`~chaos_workloads.check_invariants`. A run returns :class:`RunStats`: what was
injected and measured, and the verdict. Everything random comes from the run's seed (the
emulator's fault draws, the kill point, the concurrency mix), so a run can be repeated exactly
as far as thread and process scheduling allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import e2e_support
import httpx
from chaos_workloads import (
    KEY,
    PROFILES,
    Deliveries,
    FaultProfile,
    Verdict,
    Workload,
    check_invariants,
    duplicates,
    invoke,
    list_all,
    recorded_commands,
)
from leakscan import LeakScan, _RecordCollector

from reconciler.apply.executor import CRASH_HOOK_ENV
from reconciler.apply.progress import ProgressEvent
from reconciler.apply.secrets import FileSink, NewSecret, SecretSink, SecretSinks
from reconciler.apply.session import apply_session
from reconciler.emulator.server import EmulatorServer
from reconciler.errors import (
    ProtectedResourceError,
    ReconcilerError,
    SecretSinkError,
    StalePlanError,
)
from reconciler.manifest import load_manifests
from reconciler.plan.planfile import load_plan_file
from reconciler.stripe import StripeConfig


@dataclass
class RunStats:
    kind: str
    workload: str
    profile: str
    seed: int
    verdict: Verdict
    applies: int = 0
    #: the most applies any one change needed after the damage (faults, a kill, a failing sink,
    #: a concurrent apply) before it converged: the "within three re-runs" figure
    reruns: int = 0
    requests: int = 0
    faults: int = 0
    retries: int = 0
    #: attempts the client abandoned because the answer came later than its timeout
    timeouts: int = 0
    replays: int = 0
    killed: bool = False
    outcomes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> str:
        return f"{self.kind}/{self.workload}/{self.profile}/seed={self.seed}"


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.retries = 0
        self.timeouts = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("stripe retry"):
            self.retries += 1
            if re.search(r" after \w*Timeout in ", message):
                self.timeouts += 1


@contextlib.contextmanager
def watching(scan: LeakScan) -> Iterator[_RetryCounter]:
    """Debug logging of the tool on, every record scanned for leaks, retries counted."""
    logger = logging.getLogger("reconciler")
    counter, collector = _RetryCounter(), _RecordCollector(scan)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    logger.addHandler(collector)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.removeHandler(collector)
        logger.setLevel(level)


def client_config(emulator: EmulatorServer, profile: FaultProfile) -> StripeConfig:
    """Fast retries (CI time), many attempts (a 409 lasts while the same key is in flight, which a
    loaded machine stretches); the rate limiter out of the way."""
    return StripeConfig(
        api_key=KEY,
        api_base=emulator.base_url,
        timeout=profile.timeout,
        max_attempts=25,
        backoff_initial=0.002,
        backoff_max=0.03,
        deadline=120.0,  # one deadline for the whole session, as a command has
        rate_limit=1000.0,
        operation_rate_limit=1000.0,
    )


def _prepare(emulator: EmulatorServer, directory: Path, workload: Workload) -> Path:
    emulator.reset()
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.iterdir():
        if leftover.is_file():
            leftover.unlink()
    workload.setup(emulator, directory)
    manifest = directory / "target.yaml"
    manifest.write_text(workload.target)
    return manifest


def _measure(emulator: EmulatorServer, stats: RunStats, since: int) -> None:
    log = emulator.requests()[since:]
    stats.requests = len(log)
    stats.faults = sum(1 for r in log if r["fault"])
    stats.replays = sum(1 for r in log if r["replayed"])


def _scan_event(scan: LeakScan) -> Any:
    def on_event(event: ProgressEvent) -> None:
        scan.scan_stream("progress event", f"{event.address} {event.stripe_id} {event.message}")

    return on_event


def _apply_once(
    config: StripeConfig,
    desired: Any,
    sinks: SecretSinks,
    stats: RunStats,
    scan: LeakScan,
    **options: Any,
) -> str:
    """One in-process apply: its outcome (``ok``, ``partial`` or the error's class name) is
    appended to ``stats.outcomes`` and returned; every error text goes through the leak scan."""
    stats.applies += 1
    try:
        outcome = asyncio.run(
            apply_session(config, desired, sinks, on_event=_scan_event(scan), **options)
        )
    except ReconcilerError as error:
        scan.scan_stream("apply error", str(error))
        verdict = type(error).__name__
    else:
        if outcome.result is None or outcome.result.ok:
            verdict = "ok"
        else:
            scan.scan_stream("apply error", str(outcome.result.error()))
            verdict = "partial"
    stats.outcomes.append(verdict)
    return verdict


def fault_run(
    emulator: EmulatorServer,
    directory: Path,
    workload: Workload,
    profile: FaultProfile,
    seed: int,
    *,
    max_applies: int = 6,
) -> RunStats:
    """Apply ``workload`` under ``profile``; re-run (as CI would) until an apply succeeds."""
    started = time.monotonic()
    manifest = _prepare(emulator, directory, workload)
    desired = load_manifests([str(manifest)]).manifest
    before = frozenset(e["id"] for e in list_all(emulator, "/v1/webhook_endpoints"))
    sink, recorder, scan = directory / "secrets.env", Deliveries(), LeakScan(keys={KEY})
    sinks = SecretSinks([FileSink(sink), recorder])
    since = len(emulator.requests())
    emulator.configure(**profile.knobs(seed))
    config = client_config(emulator, profile)
    stats = RunStats("faults", workload.name, profile.name, seed, Verdict([], [], [], []))
    with watching(scan) as counter:
        for _ in range(max_applies):
            if _apply_once(config, desired, sinks, stats, scan, force=True) == "ok":
                break
        stats.retries, stats.timeouts = counter.retries, counter.timeouts
        stats.reruns = stats.applies - 1
    _measure(emulator, stats, since)
    stats.verdict = check_invariants(
        emulator, manifest, recorder.received, sink, scan, untouched=before
    )
    stats.seconds = time.monotonic() - started
    return stats


def spawn_cli(
    emulator: EmulatorServer, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    env = {"GITHUB_ACTIONS": None, CRASH_HOOK_ENV: None, "STRIPE_API_KEY": KEY}
    env |= {"STRIPE_API_BASE": emulator.base_url, "NO_COLOR": "1"}
    return e2e_support.spawn_cli(env, *args, extra_env=extra_env)


#: roughly how many writes and secret deliveries each workload's apply makes (kill points)
WRITES = {"create": 20, "mix": 14, "adopt": 7, "limit": 50}


def crash_run(
    emulator: EmulatorServer,
    directory: Path,
    workload: Workload,
    seed: int,
    *,
    profile: FaultProfile | None = None,
) -> RunStats:
    """SIGKILL an apply at a seeded point (after the N-th write, or after a random delay), then
    apply again (twice at most, as a CI re-run would) and check the invariants."""
    started = time.monotonic()
    rng = random.Random(seed)
    manifest = _prepare(emulator, directory, workload)
    before = frozenset(e["id"] for e in list_all(emulator, "/v1/webhook_endpoints"))
    sink, log, scan = (
        directory / "secrets.env",
        directory / "deliveries.jsonl",
        LeakScan(keys={KEY}),
    )
    sink_args = ["--secrets-file", str(sink), "--secrets-command", f"cat >> {log}; echo >> {log}"]
    since = len(emulator.requests())
    profile = profile or FaultProfile("calm", latency_ms=3, jitter_ms=6)
    emulator.configure(**profile.knobs(seed))
    by_timer = rng.random() < 0.4
    extra = {} if by_timer else {CRASH_HOOK_ENV: str(rng.randint(1, WRITES[workload.name]))}
    parallelism = str(rng.choice((1, 2, 4)))
    process = spawn_cli(
        emulator,
        "--log-level",
        "debug",
        "apply",
        str(manifest),
        "--auto-approve",
        "--parallelism",
        parallelism,
        *sink_args,
        extra_env=extra,
    )
    if by_timer:
        # the interpreter needs ~0.5 s to start; kill somewhere in the apply that follows
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=rng.uniform(0.5, 1.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    scan.scan_stream("killed apply stdout", out)
    scan.scan_stream("killed apply stderr", err)
    stats = RunStats("crash", workload.name, profile.name, seed, Verdict([], [], [], []), applies=1)
    stats.killed = process.returncode == -signal.SIGKILL
    stats.outcomes.append(
        f"{'timer' if by_timer else 'write ' + extra[CRASH_HOOK_ENV]}:"
        f"{'killed' if stats.killed else process.returncode}"
    )
    emulator.configure(rates={}, latency_ms=0, jitter_ms=0)
    for _ in range(2):
        stats.applies += 1
        run = invoke(emulator, "apply", str(manifest), "--auto-approve", "--force", *sink_args)
        scan.scan_stream("re-apply output", run.output)
        stats.outcomes.append(str(run.exit_code))
        if run.exit_code == 0:
            break
    stats.reruns = stats.applies - 1
    _measure(emulator, stats, since)
    stats.verdict = check_invariants(
        emulator, manifest, recorded_commands(log), sink, scan, untouched=before
    )
    stats.seconds = time.monotonic() - started
    return stats


class FailingSink:
    """A secret sink that fails its ``fail_at``-th delivery and every one after it (a vault
    that went down mid-apply); it goes first, so a failed delivery reaches no other sink."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.calls = 0

    def describe(self) -> str:
        return "failing sink"

    def check(self) -> None:
        return None

    def deliver(self, secret: NewSecret) -> None:
        self.calls += 1
        if self.calls >= self.fail_at:
            raise SecretSinkError("the secrets vault is down (chaos)")


def _converge(
    emulator: EmulatorServer,
    desired: Any,
    sinks: SecretSinks,
    stats: RunStats,
    scan: LeakScan,
    *,
    targets: tuple[str, ...] = (),
    attempts: int = 3,
) -> int | None:
    """Apply (fault-free, as a CI re-run) until it succeeds, at most ``attempts`` times; how
    many applies it took (``None``: it never succeeded)."""
    config = client_config(emulator, PROFILES["jitter"])
    for attempt in range(1, attempts + 1):
        if _apply_once(config, desired, sinks, stats, scan, targets=targets, force=True) == "ok":
            return attempt
    return None


def sink_run(
    emulator: EmulatorServer,
    directory: Path,
    workload: Workload,
    seed: int,
    *,
    profile: FaultProfile | None = None,
) -> RunStats:
    """The secrets sink fails at a seeded delivery (and after), under faults; then apply again
    with a working sink, at most three times: converged, every live secret delivered once."""
    started = time.monotonic()
    rng = random.Random(seed)
    manifest = _prepare(emulator, directory, workload)
    desired = load_manifests([str(manifest)]).manifest
    before = frozenset(e["id"] for e in list_all(emulator, "/v1/webhook_endpoints"))
    sink, recorder, scan = directory / "secrets.env", Deliveries(), LeakScan(keys={KEY})
    failing = FailingSink(rng.randint(1, 8))
    since = len(emulator.requests())
    profile = profile or FaultProfile("calm", latency_ms=3, jitter_ms=6)
    emulator.configure(**profile.knobs(seed))
    stats = RunStats("sink", workload.name, profile.name, seed, Verdict([], [], [], []))
    with watching(scan) as counter:
        first = _apply_once(
            client_config(emulator, profile),
            desired,
            SecretSinks([failing, FileSink(sink), recorder]),
            stats,
            scan,
            force=True,
            parallelism=rng.choice((1, 2, 4)),
        )
        stats.outcomes[-1] = f"fail_at={failing.fail_at}:{first}"
        emulator.configure(rates={}, latency_ms=0, jitter_ms=0)
        needed = _converge(emulator, desired, SecretSinks([FileSink(sink), recorder]), stats, scan)
        stats.reruns = needed or 3
        stats.retries, stats.timeouts = counter.retries, counter.timeouts
    _measure(emulator, stats, since)
    stats.verdict = check_invariants(
        emulator, manifest, recorder.received, sink, scan, untouched=before
    )
    stats.seconds = time.monotonic() - started
    return stats


def _seed_duplicates(emulator: EmulatorServer, name: str, url: str) -> None:
    """Two endpoints tagged ``name``, both with an undelivered secret: what a replace leaves
    behind when it is interrupted after its create (issue 13.2)."""
    tags = {
        "managed_by": "stripe-reconciler",
        "reconciler_name": name,
        "reconciler_connect": "false",
        "reconciler_secret_pending": "true",
    }
    data = {"url": url, "enabled_events[0]": "invoice.paid"}
    data |= {f"metadata[{key}]": value for key, value in tags.items()}
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as api:
        for _ in range(2):
            api.post("/v1/webhook_endpoints", data=data).raise_for_status()


def target_run(
    emulator: EmulatorServer,
    directory: Path,
    workload: Workload,
    seed: int,
    *,
    profile: FaultProfile | None = None,
) -> RunStats:
    """``apply --target`` one declared address at a time (seeded order, under faults), each
    re-run until it succeeds (three tries), then one full apply: a target must end where a
    full apply would for its address, so none may livelock, and the end is converged."""
    started = time.monotonic()
    rng = random.Random(seed)
    manifest = _prepare(emulator, directory, workload)
    desired = load_manifests([str(manifest)]).manifest
    live_names = {
        e["metadata"].get("reconciler_name") for e in list_all(emulator, "/v1/webhook_endpoints")
    }
    # a declared name with nothing live yet: its duplicates must be replaced, not just deleted
    fresh = sorted(set(desired.webhook_endpoints) - live_names)
    if fresh:
        _seed_duplicates(emulator, fresh[0], desired.webhook_endpoints[fresh[0]].url)
    before = frozenset(e["id"] for e in list_all(emulator, "/v1/webhook_endpoints"))
    seeded = frozenset(
        e["id"]
        for e in list_all(emulator, "/v1/webhook_endpoints")
        if e["metadata"].get("reconciler_secret_pending")
    )
    before -= seeded  # the seeded duplicates are ours to clean up, not to leave alone
    sink, recorder, scan = directory / "secrets.env", Deliveries(), LeakScan(keys={KEY})
    sinks = SecretSinks([FileSink(sink), recorder])
    addresses = [f"webhook_endpoints.{name}" for name in desired.webhook_endpoints]
    addresses += [f"tax_registrations.{name}" for name in desired.tax_registrations]
    addresses.append("tax_settings")
    rng.shuffle(addresses)
    since = len(emulator.requests())
    profile = profile or PROFILES["jitter"]
    stats = RunStats("target", workload.name, profile.name, seed, Verdict([], [], [], []))
    stuck: list[str] = []
    with watching(scan) as counter:
        for address in addresses:
            emulator.configure(**profile.knobs(seed))
            config = client_config(emulator, profile)
            _apply_once(config, desired, sinks, stats, scan, targets=(address,), force=True)
            emulator.configure(rates={}, latency_ms=0, jitter_ms=0)
            needed = _converge(emulator, desired, sinks, stats, scan, targets=(address,))
            # A target cannot fix other addresses: at the endpoint limit, with another name's
            # duplicates still holding places, its create is refused up front (nothing
            # written), which is not a livelock; the full apply below must converge.
            if needed is None and stats.outcomes[-1] != "EndpointLimitError":
                stuck.append(address)
            stats.reruns = max(stats.reruns, needed or 3)
        _converge(emulator, desired, sinks, stats, scan)
        stats.retries, stats.timeouts = counter.retries, counter.timeouts
    _measure(emulator, stats, since)
    stats.verdict = check_invariants(
        emulator, manifest, recorder.received, sink, scan, untouched=before
    )
    stats.verdict.plan += [f"--target {address} did not converge in 3 applies" for address in stuck]
    stats.seconds = time.monotonic() - started
    return stats


def _protected_state(emulator: EmulatorServer) -> dict[str, Any]:
    """What protect must keep: the protected endpoint, the protected registrations' windows."""
    endpoints = {
        e["id"]: (e["url"], e.get("api_version"))
        for e in list_all(emulator, "/v1/webhook_endpoints")
        if e["metadata"].get("reconciler_protect") == "true"
    }
    registrations = {
        r["id"]: (r["status"], r["active_from"], r["expires_at"])
        for r in list_all(emulator, "/v1/tax/registrations", status="all")
    }
    return {"endpoints": endpoints, "registrations": registrations}


def protect_run(
    emulator: EmulatorServer,
    directory: Path,
    workload: Workload,
    seed: int,
    *,
    profile: FaultProfile | None = None,
) -> RunStats:
    """Apply a target that would end a protected resource, under faults, three times (a CI
    re-running it), and once more as a saved plan: every apply must refuse before any write
    (ProtectedResourceError), and the protected objects must be exactly as they were."""
    started = time.monotonic()
    manifest = _prepare(emulator, directory, workload)
    desired = load_manifests([str(manifest)]).manifest
    before = _protected_state(emulator)
    sink, recorder, scan = directory / "secrets.env", Deliveries(), LeakScan(keys={KEY})
    profile = profile or PROFILES["jitter"]
    since = len(emulator.requests())
    emulator.configure(**profile.knobs(seed))
    stats = RunStats("protect", workload.name, profile.name, seed, Verdict([], [], [], []))
    problems: list[str] = []
    with watching(scan) as counter:
        for attempt in range(3):
            stats.applies += 1
            try:
                outcome = asyncio.run(
                    apply_session(
                        client_config(emulator, profile),
                        desired,
                        SecretSinks([FileSink(sink), recorder]),
                        force=attempt == 2,  # --force lifts max_destroy, never protect
                        on_event=_scan_event(scan),
                    )
                )
                problems.append(
                    f"apply {attempt + 1} was not refused: {outcome.plan.summary.line()}"
                )
                stats.outcomes.append("applied")
            except ProtectedResourceError as error:
                scan.scan_stream("apply error", str(error))
                stats.outcomes.append("refused")
            except ReconcilerError as error:  # a fault before the plan was made: try again
                scan.scan_stream("apply error", str(error))
                stats.outcomes.append(type(error).__name__)
        stats.retries, stats.timeouts = counter.retries, counter.timeouts
    emulator.configure(rates={}, latency_ms=0, jitter_ms=0)
    writes = [
        f"{r['method']} {r['path']}"
        for r in emulator.requests()[since:]
        if r["method"] in ("POST", "DELETE") and r["path"].startswith("/v1/")
    ]
    if writes:
        problems.append(f"writes despite protect: {writes}")
    if "refused" not in stats.outcomes:
        problems.append(f"no apply reached the refusal: {stats.outcomes}")
    after = _protected_state(emulator)
    if after != before:
        problems.append(f"protected objects changed: {before} -> {after}")
    _measure(emulator, stats, since)
    stats.verdict = Verdict(plan=problems, duplicates=[], secrets=[], leaks=list(scan.findings))
    stats.seconds = time.monotonic() - started
    return stats


CONCURRENCY_KINDS = ("same-plan", "same-manifest", "different-plans")


def _variant(target: str, index: int) -> str:
    """The target manifest with one harmless difference per variant (a new description)."""
    if index == 0:
        return target
    lines = target.splitlines()
    position = lines.index("webhook_endpoints:") + 1
    name, body = lines[position].split(": ", 1)
    lines[position] = f"{name}: {body[:-1]}, description: variant {index}}}"
    return "\n".join(lines) + "\n"


def concurrent_run(
    emulator: EmulatorServer,
    directory: Path,
    workload: Workload,
    seed: int,
    *,
    kind: str,
    count: int,
    profile: FaultProfile | None = None,
) -> RunStats:
    """``count`` applies at once (one event loop, real sockets, latency so they overlap):
    of one saved plan, of one manifest, or of saved plans made from different manifests.
    Each apply succeeds or refuses a stale plan; right after them there must be no duplicate;
    one more apply of the first manifest must then converge."""
    started = time.monotonic()
    manifest = _prepare(emulator, directory, workload)
    before = frozenset(e["id"] for e in list_all(emulator, "/v1/webhook_endpoints"))
    sink, scan = directory / "secrets.env", LeakScan(keys={KEY})
    manifests = [manifest]
    for index in range(1, count):
        variant = directory / f"variant{index}.yaml"
        variant.write_text(_variant(workload.target, index))
        manifests.append(variant)
    saved = []
    if kind != "same-manifest":
        for index in range(count):
            source = manifests[index if kind == "different-plans" else 0]
            plan_file = directory / f"plan{index}.json"
            run = invoke(emulator, "plan", str(source), "--out", str(plan_file))
            scan.scan_stream("plan output", run.output)
            saved.append(load_plan_file(plan_file.read_text()))
    desired = load_manifests([str(manifest)]).manifest
    since = len(emulator.requests())
    profile = profile or FaultProfile("overlap", latency_ms=4, jitter_ms=12)
    emulator.configure(**profile.knobs(seed))
    config = client_config(emulator, profile)
    recorders = [Deliveries() for _ in range(count)]
    stats = RunStats(
        f"concurrent-{kind}x{count}", workload.name, profile.name, seed, Verdict([], [], [], [])
    )

    async def one(index: int) -> str:
        plan = saved[index] if saved else None
        sinks: list[SecretSink] = [FileSink(sink), recorders[index]]
        try:
            outcome = await apply_session(
                config,
                plan.desired if plan else desired,
                SecretSinks(sinks),
                saved=plan,
                force=True,
                on_event=_scan_event(scan),
            )
        except StalePlanError:
            return "stale"
        except ReconcilerError as error:
            scan.scan_stream("apply error", str(error))
            return type(error).__name__
        if outcome.result is not None and not outcome.result.ok:
            scan.scan_stream("apply error", str(outcome.result.error()))
            return "partial"
        return "ok"

    async def together() -> list[str]:
        return list(await asyncio.gather(*(one(i) for i in range(count))))

    with watching(scan) as counter:
        stats.outcomes = asyncio.run(together())
        stats.applies = count
        stats.retries, stats.timeouts = counter.retries, counter.timeouts
    emulator.configure(rates={}, latency_ms=0, jitter_ms=0)
    found_at_once = [
        f"right after the concurrent applies: {d}" for d in duplicates(emulator, settled=False)
    ]
    final = Deliveries()
    converge = asyncio.run(
        apply_session(
            client_config(emulator, PROFILES["jitter"]),
            desired,
            SecretSinks([FileSink(sink), final]),
            force=True,
            on_event=_scan_event(scan),
        )
    )
    stats.outcomes.append(
        "converge:" + ("ok" if converge.result is None or converge.result.ok else "partial")
    )
    stats.reruns = 1
    _measure(emulator, stats, since)
    deliveries = [d for r in [*recorders, final] for d in r.received]
    stats.verdict = check_invariants(
        emulator, manifest, deliveries, sink, scan, untouched=before, exactly_once=False
    )
    stats.verdict.duplicates = sorted({*found_at_once, *stats.verdict.duplicates})
    stats.seconds = time.monotonic() - started
    return stats


__all__ = [
    "CONCURRENCY_KINDS",
    "PROFILES",
    "RunStats",
    "concurrent_run",
    "crash_run",
    "fault_run",
    "protect_run",
    "sink_run",
    "target_run",
]

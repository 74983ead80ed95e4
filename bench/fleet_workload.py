"""Workload W2, a fleet: connected accounts, each with tax settings, 2 endpoints, 3 registrations.

The same objects exist as a manifest set (``base/``, what every account of the fleet gets), a
fleet file that selects the accounts by metadata (``connected_accounts``), and, for B6, live
objects seeded through the emulator's API under each account's ``Stripe-Account``, tagged as
``apply`` tags them, so the seeded fleet plans to no changes. Seeding runs at 0 ms latency and
without rate limits, concurrently; the benchmarks set latency and limits afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench import workload
from reconciler.stripe import encode_form
from reconciler.stripe.ratelimit import operation_key

ENDPOINTS = 2
REGISTRATIONS = 3
METADATA = {"stripe_reconciler": "on"}
_TAGS = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}
_SEED_CONCURRENCY = 32


def endpoints() -> list[workload.Endpoint]:
    return workload.endpoints(ENDPOINTS)


def registrations() -> list[workload.Registration]:
    return workload.registrations(REGISTRATIONS)


def write_fleet(directory: Path, rate_limits: dict[str, Any] | None = None) -> Path:
    """``base/`` (W2's manifests) and ``fleet.yaml`` selecting every tagged connected account."""
    workload.write_manifests(directory / "base", endpoints(), registrations())
    document: dict[str, Any] = {
        "version": 1,
        "manifests": ["base/"],
        "connected_accounts": {"metadata": dict(METADATA)},
    }
    if rate_limits is not None:
        document["rate_limits"] = rate_limits
    path = directory / "fleet.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


async def _seed(base_url: str, api_key: str, count: int, objects: bool) -> list[str]:
    gate = asyncio.Semaphore(_SEED_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, auth=(api_key, ""), timeout=60.0) as http:

        async def post(path: str, params: dict[str, Any], account: str | None = None) -> Any:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if account is not None:
                headers["Stripe-Account"] = account
            async with gate:
                response = await http.post(
                    path, content=encode_form(params).encode("ascii"), headers=headers
                )
            response.raise_for_status()
            return response.json()

        async def one() -> str:
            made = await post("/v1/accounts", {"type": "custom", "metadata": dict(METADATA)})
            account: str = made["id"]
            if not objects:
                return account
            await post("/v1/tax/settings", workload.TAX_SETTINGS, account)
            for e in endpoints():
                await post(
                    "/v1/webhook_endpoints",
                    {
                        "url": e.url,
                        "enabled_events": list(e.enabled_events),
                        "description": e.description,
                        "connect": False,
                        "metadata": {**e.metadata, **_TAGS, "reconciler_name": e.name},
                    },
                    account,
                )
            for r in registrations():
                await post(
                    "/v1/tax/registrations",
                    {
                        "country": r.country,
                        "country_options": r.country_options,
                        "active_from": "now",
                    },
                    account,
                )
            return account

        return list(await asyncio.gather(*(one() for _ in range(count))))


def seed(base_url: str, api_key: str, count: int, *, objects: bool = True) -> list[str]:
    """Create ``count`` tagged connected accounts (with W2's objects unless ``objects`` is
    False: B7 starts from empty); return their ids."""
    return asyncio.run(_seed(base_url, api_key, count, objects))


@dataclass(frozen=True)
class ProcessRun:
    """A whole CLI process: exit code, output, wall and CPU seconds, peak resident memory."""

    code: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mb: float
    cpu_s: float


def run_cli(args: list[str], env: dict[str, str]) -> ProcessRun:
    """The venv's console script, timed, reaped with ``os.wait4`` for its own peak RSS (output
    goes through temporary files: a fleet apply prints more than a pipe holds)."""
    script = str(Path(sys.executable).with_name("stripe-reconciler"))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([script, *args], env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    # ru_maxrss is in kilobytes on Linux (bytes on macOS)
    rss_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return ProcessRun(process.returncode, stdout, stderr, wall, rss_mb, cpu)


def rate_bound(
    log: list[dict[str, Any]], server_limit: float, operation_limit: float, noun: str
) -> tuple[float, str]:
    """What Stripe's platform-wide limits allow for the successful requests of ``log``: the
    global limit over all of them, or the per-operation limit over the busiest operation,
    whichever is longer (and what binds, in words)."""
    done = [r for r in log if r["status"] == 200]
    per_operation = Counter(operation_key(r["method"], r["path"]) for r in done)
    busiest, count = per_operation.most_common(1)[0]
    global_bound = len(done) / server_limit
    operation_bound = count / operation_limit
    if operation_bound > global_bound:
        return operation_bound, f"{count} x {busiest}"
    return global_bound, f"{len(done)} {noun}"

"""``stripe-reconciler emulator``: serve the local Stripe emulator in the foreground.

The knobs mirror ``POST /_emulator/config``. uvicorn and the emulator are imported only when the
command runs, so the rest of the CLI does not pay for them.
"""

from __future__ import annotations

from typing import Any

import click


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=12111,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 = any free).",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    help="Load state from this JSON file at start and write it after every change.",
)
@click.option("--latency-ms", type=float, default=0.0, help="Added latency per API request.")
@click.option("--jitter-ms", type=float, default=0.0, help="Random extra latency, 0..N ms.")
@click.option("--seed", type=int, help="Seed for jitter and faults, to reproduce a run.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND=P",
    help="Inject a fault at probability P: 429, 500, 503, drop_before, drop_after. Repeatable.",
)
@click.option(
    "--schedule",
    "schedule",
    multiple=True,
    metavar="N=KIND",
    help="Inject KIND on the N-th API request (from 1). Repeatable.",
)
@click.option(
    "--path", "paths", multiple=True, metavar="PREFIX", help="Only inject faults on these paths."
)
@click.option("--rate-limit", type=float, help="Requests per second per account and mode.")
@click.option(
    "--refuse-duplicate-registrations",
    is_flag=True,
    help="Refuse a second overlapping tax registration of one jurisdiction (Stripe's docs do "
    "not say it does; off by default).",
)
@click.option(
    "--operation-rate-limit",
    type=float,
    help="Requests per second per operation (e.g. POST /v1/tax/registrations), per account and "
    "mode, on top of --rate-limit.",
)
@click.option(
    "--platform-rate-limit",
    type=float,
    help="Requests per second for everything one platform's key sends, its connected accounts' "
    "(Stripe-Account) included, on top of each account's own --rate-limit.",
)
@click.option(
    "--platform-operation-rate-limit",
    type=float,
    help="Requests per second per operation for everything one platform's key sends.",
)
@click.option(
    "--refuse-unknown-accounts",
    is_flag=True,
    help="Refuse a Stripe-Account that names no account the platform created with POST "
    "/v1/accounts (by default any acct_ id is treated as connected).",
)
@click.option(
    "--lock-timeout-ms",
    type=float,
    help="Make concurrent writes to one object wait up to MS for each other, then answer 429 "
    "lock_timeout.",
)
def emulator(
    host: str,
    port: int,
    state_file: str | None,
    latency_ms: float,
    jitter_ms: float,
    seed: int | None,
    faults: tuple[str, ...],
    schedule: tuple[str, ...],
    paths: tuple[str, ...],
    rate_limit: float | None,
    refuse_duplicate_registrations: bool,
    operation_rate_limit: float | None,
    platform_rate_limit: float | None,
    platform_operation_rate_limit: float | None,
    refuse_unknown_accounts: bool,
    lock_timeout_ms: float | None,
) -> int:
    """Serve a local, stateful, Stripe-compatible API (webhook endpoints and Stripe Tax).

    Point the tool at it with --api-base http://127.0.0.1:12111 and any sk_test_ key. The
    operator API lives under /_emulator/ (requests, config, clock, reset, state).
    """
    from reconciler.emulator.config import EmulatorConfig, parse_fault_option

    knobs: dict[str, Any] = {
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        "seed": seed,
        "rates": dict(parse_fault_option(text) for text in faults),
        "schedule": [_schedule_entry(text) for text in schedule],
        "paths": list(paths),
        "rate_limit": rate_limit,
        "operation_rate_limit": operation_rate_limit,
        "lock_timeout_ms": lock_timeout_ms,
        "state_file": state_file,
        "refuse_duplicate_registrations": refuse_duplicate_registrations,
        "platform_rate_limit": platform_rate_limit,
        "platform_operation_rate_limit": platform_operation_rate_limit,
        "refuse_unknown_accounts": refuse_unknown_accounts,
    }
    config = EmulatorConfig().updated(knobs)
    _serve(config, host, port)
    return 0


def _schedule_entry(text: str) -> dict[str, Any]:
    from reconciler.emulator.config import ConfigError

    number, sep, kind = text.partition("=")
    if not sep or not number.strip().isdigit():
        raise ConfigError(f"--schedule expects N=KIND such as 3=drop_after, got {text!r}")
    return {"request": int(number), "fault": kind.strip()}


def _serve(config: Any, host: str, port: int) -> None:
    import uvicorn

    from reconciler.emulator.app import create_app
    from reconciler.errors import UsageError

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                bound = self.servers[0].sockets[0].getsockname()
                click.echo(f"Stripe emulator listening on http://{bound[0]}:{bound[1]}", err=True)

    app = create_app(config)
    server = AnnouncingServer(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", http="h11")
    )
    try:
        server.run()
    except SystemExit:
        # uvicorn exits the process when it cannot bind; say what to do instead.
        if server.started:
            raise
        raise UsageError(
            f"cannot listen on {host}:{port}; is another process using it? Try --port 0."
        ) from None

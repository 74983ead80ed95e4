"""The ``stripe-reconciler`` click group, global options and error → exit-code mapping.

Subcommands live in their own modules and are imported lazily (``_COMMANDS``), so
``--help`` and ``validate`` do not pay for the HTTP client or the emulator.
Every command returns its exit code (``None`` means 0). A :class:`ReconcilerError` becomes
``Error: <message>`` on stderr and its ``exit_code``; click usage errors exit 1, because 2 means
"changes" / "drift" for ``plan --detailed-exitcode`` and ``drift``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import LiveModeGuardError, ReconcilerError, UsageError

#: command name → "module:attribute"; each module defines one click command.
_COMMANDS: dict[str, str] = {
    "validate": "reconciler.cli.validate:validate",
    "schema": "reconciler.cli.schema:schema",
    "plan": "reconciler.cli.plan:plan",
    "apply": "reconciler.cli.apply:apply",
    "drift": "reconciler.cli.drift:drift",
    "export": "reconciler.cli.export:export",
    "emulator": "reconciler.cli.emulator:emulator",
}

#: command name → the first paragraph of its help, so ``--help`` lists the commands without
#: importing them (that would load the HTTP client, apply and the emulator just to print help).
#: A test keeps each equal to the command's own help; a command missing here is imported.
_SUMMARIES: dict[str, str] = {
    "validate": "Check manifests without contacting Stripe; every problem is reported with its "
    "location.",
    "schema": "Print (or write) the JSON Schema of manifest files, for editors and other tools.",
    "plan": "Show what apply would change in Stripe to match the manifests.",
    "apply": "Change Stripe to match the manifests (or a saved, reviewed plan).",
    "drift": "Compare the account with the manifests without changing anything.",
    "export": "Write manifests describing the live account, ready to commit and plan.",
    "emulator": "Serve a local, stateful, Stripe-compatible API (webhook endpoints and Stripe "
    "Tax).",
}

DEFAULT_API_BASE = "https://api.stripe.com"
#: reconciler.stripe.config.DEFAULT_DEADLINE and reconciler.stripe.transfer.WAITING_LOGGER,
#: spelled here so that ``--help`` and ``validate`` do not import the HTTP client (a test keeps
#: them equal).
DEFAULT_TIMEOUT = 120.0
WAITING_LOGGER = "reconciler.stripe.waiting"


@dataclass(frozen=True)
class GlobalOptions:
    """Options shared by every command. ``api_key`` never appears in a repr."""

    api_key: str | None = field(repr=False)
    api_base: str
    stripe_account: str | None
    log_level: str
    color: bool
    #: where the key came from, as messages name it: the variable or ``--api-key``
    api_key_source: str = "STRIPE_API_KEY"
    #: seconds every request of the command must end within, counted from ``started``
    timeout: float = DEFAULT_TIMEOUT
    #: ``time.monotonic()`` when the command started
    started: float = field(default_factory=time.monotonic)


class ReconcilerGroup(click.Group):
    """A group that loads subcommands lazily and maps errors to messages and exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            module_name, attribute = _COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            summary = _SUMMARIES.get(name)
            if summary is not None:
                # a bare Command shortens its help exactly as the real one would
                rows.append((name, click.Command(name, help=summary).get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            error.show()
            sys.exit(1)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except ReconcilerError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stripe-reconciler")
@click.option(
    "--api-key",
    envvar="STRIPE_API_KEY",
    show_envvar=True,
    help="Stripe secret or restricted key. Prefer the environment variable.",
)
@click.option(
    "--api-base",
    envvar="STRIPE_API_BASE",
    show_envvar=True,
    default=DEFAULT_API_BASE,
    show_default=True,
    help="API base URL; plain http only for loopback addresses (the emulator).",
)
@click.option(
    "--stripe-account",
    envvar="STRIPE_ACCOUNT",
    show_envvar=True,
    help="Connected account to act on (Stripe-Account header); overrides account.stripe_account.",
)
@click.option(
    "--log-level",
    envvar="STRIPE_RECONCILER_LOG_LEVEL",
    show_envvar=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="Log level on stderr; debug shows request ids and timings, never keys or bodies.",
)
@click.option(
    "--timeout",
    envvar="STRIPE_RECONCILER_TIMEOUT",
    show_envvar=True,
    type=click.FloatRange(0, 86400, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up talking to Stripe this long after the command started: every request, retry "
    "and page, however slowly the answers come.",
)
@click.option(
    "--no-color",
    is_flag=True,
    envvar="STRIPE_RECONCILER_NO_COLOR",
    help="Never colour output (NO_COLOR is honoured too).",
)
@click.option(
    "--emulator-state",
    envvar="STRIPE_RECONCILER_EMULATOR_STATE",
    show_envvar=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Run against an in-process Stripe emulator whose state persists in FILE (no Stripe "
    "account needed; a test key is used when none is set).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    api_base: str,
    stripe_account: str | None,
    log_level: str,
    timeout: float,
    no_color: bool,
    emulator_state: str | None,
) -> None:
    """Declarative reconciler for Stripe webhook endpoints, tax settings and tax registrations.

    Keep the configuration in YAML manifests, review `plan` output in pull requests, `apply`
    on merge and run `drift` on a schedule.
    """
    started = time.monotonic()
    logging.basicConfig(
        level=getattr(logging, log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _show_waiting_notices(quiet=log_level.lower() == "error")
    color = not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()
    if emulator_state:
        api_key, api_base = _start_embedded_emulator(ctx, emulator_state, api_key or None)
    from_option = ctx.get_parameter_source("api_key") is click.core.ParameterSource.COMMANDLINE
    ctx.obj = GlobalOptions(
        api_key=api_key or None,
        api_base=api_base,
        stripe_account=stripe_account or None,
        log_level=log_level.lower(),
        color=color,
        api_key_source="--api-key" if from_option else "STRIPE_API_KEY",
        timeout=timeout,
        started=started,
    )


class _NoticeHandler(logging.Handler):
    """Shows the client's "Waiting for Stripe …" records as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


_NOTICES = _NoticeHandler()


def _show_waiting_notices(*, quiet: bool) -> None:
    """A slow API should not look like a hung command: the client logs one notice per slow
    phase (the library never prints), and this turns it into a line on stderr, at every log
    level but ``error``."""
    notices = logging.getLogger(WAITING_LOGGER)
    notices.propagate = False  # one line, not also a log record under --log-level debug
    notices.setLevel(logging.ERROR if quiet else logging.INFO)
    if _NOTICES not in notices.handlers:
        notices.addHandler(_NOTICES)


#: Commands that never talk to Stripe: --emulator-state starts nothing for them.
_OFFLINE_COMMANDS = frozenset({"validate", "schema"})


def _start_embedded_emulator(
    ctx: click.Context, state_file: str, api_key: str | None
) -> tuple[str, str]:
    """Serve an emulator in this process for the command's lifetime; return (key, api base).

    The state file makes ``plan`` → ``apply`` → ``plan`` work as separate processes. The
    emulator is imported here, not at module level, because ``--help`` must stay fast.
    """
    if ctx.invoked_subcommand == "emulator":
        raise UsageError(
            "--emulator-state runs a command against an in-process emulator; to serve one, "
            "use `stripe-reconciler emulator --state-file FILE`"
        )
    if ctx.get_parameter_source("api_base") not in (
        click.core.ParameterSource.DEFAULT,
        None,
    ):
        raise UsageError(
            "--emulator-state and --api-base (STRIPE_API_BASE) both say where requests go; "
            "pass only one of them"
        )
    if api_key is not None and api_key.startswith(("sk_live_", "rk_live_")):
        raise LiveModeGuardError(
            "Refusing --emulator-state with a live-mode key: the embedded emulator is for trying "
            "the tool in test mode; unset STRIPE_API_KEY (a test key is then used) or drop "
            "--emulator-state"
        )
    # The emulator derives the account from the key, so a fixed key keeps one account across
    # runs. It is a made-up test key that only the local emulator accepts, not a secret.
    key = api_key or "sk_test_" + "emulator"
    if ctx.invoked_subcommand in _OFFLINE_COMMANDS:
        return key, DEFAULT_API_BASE
    from reconciler.emulator.server import EmulatorServer

    try:
        server = ctx.with_resource(EmulatorServer(state_file=state_file))
    except RuntimeError as error:
        raise UsageError(f"the embedded emulator could not start: {error}") from None
    logging.getLogger(__name__).info(
        "embedded emulator on %s, state in %s", server.base_url, state_file
    )
    return key, server.base_url


def main() -> None:
    """Console-script entry point."""
    # ``import httpx`` also imports httpx's own command-line tool, which imports rich and
    # pygments when they are installed (about 0.1 s, a quarter of a plan's start-up), for a
    # ``main`` this tool never calls. A ``None`` entry makes that one import fail as if they
    # were not installed, which httpx expects (it then defines a stub).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    cli(prog_name="stripe-reconciler")

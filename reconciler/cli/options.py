"""Click parameters that several commands share, spelled once.

Imports click only: ``validate`` and ``--help`` must start without the HTTP client or the
emulator (tests/cli/test_help_is_lazy.py). The README and CI recipes are checked against the
click tree, so names, help texts and defaults here are part of the documented interface.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

RECURSIVE_HELP = "Search directories recursively for manifests."


def paths_argument(*, required: bool = True) -> Callable[[F], F]:
    """The manifest ``PATHS…`` (optional for ``apply``, which can take ``--plan`` instead)."""
    return click.argument("paths", nargs=-1, required=required, type=click.Path(path_type=str))


def format_option(choices: Sequence[str], help: str) -> Callable[[F], F]:
    """``--format`` (bound to ``output_format``), default ``text``."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=help,
    )


def target_option(help: str) -> Callable[[F], F]:
    """Repeatable ``--target ADDRESS`` (bound to ``targets``)."""
    return click.option("--target", "targets", multiple=True, metavar="ADDRESS", help=help)


def force_option(
    help: str = "Allow more destructive actions than max_destroy.",
) -> Callable[[F], F]:
    return click.option("--force", is_flag=True, help=help)


def manifest_loading_options(recursive_help: str = RECURSIVE_HELP) -> Callable[[F], F]:
    """``--recursive`` then ``--allow-unknown-events``: how manifests are found and checked."""
    recursive = click.option("--recursive", is_flag=True, help=recursive_help)
    unknown_events = click.option(
        "--allow-unknown-events",
        is_flag=True,
        help="Downgrade enabled_events values missing from the pinned event list to warnings.",
    )

    def decorate(function: F) -> F:
        # applied bottom-up, so --recursive is listed first, as when written out by hand
        return recursive(unknown_events(function))

    return decorate


def fleet_options() -> Callable[[F], F]:
    """``--fleet FILE``, ``--shard I/N`` and ``--accounts IDS``: one command over many connected
    accounts (see README "Connect platforms")."""
    fleet = click.option(
        "--fleet",
        "fleet_file",
        # a plain string: the fleet loader reports a bad path (a directory, a NUL character)
        # as one located error, where click's Path would raise on a NUL
        type=str,
        metavar="FILE",
        help="Run for every account of this fleet file instead of manifest PATHS.",
    )
    shard = click.option(
        "--shard",
        metavar="I/N",
        help="Only the accounts of shard I of N (a stable split by account id, for CI matrices).",
    )
    accounts = click.option(
        "--accounts",
        "accounts",
        multiple=True,
        metavar="IDS",
        help="Only these accounts of the fleet (comma-separated ids; repeatable).",
    )

    def decorate(function: F) -> F:
        return fleet(shard(accounts(function)))

    return decorate

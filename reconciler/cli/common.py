"""What the commands share: loading manifests (warnings to stderr) and the connection to Stripe.

The commands are thin: each calls the Python API (:mod:`reconciler.api`), where every check
lives, and prints what it returns. Only the CLI talks to the terminal.
"""

from __future__ import annotations

import click

from reconciler.api import Account
from reconciler.cli.main import GlobalOptions
from reconciler.guard import check_mode
from reconciler.manifest import DesiredState, load_manifests
from reconciler.manifest.model import Manifest
from reconciler.stripe import key_mode
from reconciler.stripe.config import KEY_ENV_VAR


def load_desired(
    paths: tuple[str, ...], *, recursive: bool, allow_unknown_events: bool
) -> DesiredState:
    """Load the manifests and echo their warnings (errors raise ``ManifestError``)."""
    state = load_manifests(
        list(paths), recursive=recursive, allow_unknown_events=allow_unknown_events
    )
    for warning in state.warnings:
        click.echo(str(warning), err=True)
    return state


def guard_mode(api_key: str | None, manifest: Manifest, *, key_source: str = KEY_ENV_VAR) -> str:
    """The key's mode, refusing a live key without ``mode: live`` and the reverse."""
    mode = key_mode(api_key, source=key_source)
    check_mode(mode, manifest)
    return mode


def connection(options: GlobalOptions) -> Account:
    """The global options as the API's :class:`~reconciler.api.Account`: one deadline
    (``--timeout``) from the command's start; a missing or malformed key is refused here,
    naming where it came from."""
    key_mode(options.api_key, source=options.api_key_source)
    assert options.api_key is not None  # key_mode refused a missing one
    return Account(
        api_key=options.api_key,
        api_base=options.api_base,
        stripe_account=options.stripe_account,
        timeout=options.timeout,
        key_source=options.api_key_source,
        started=options.started,
    )

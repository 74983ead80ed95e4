"""The live-mode guard: the key's mode must be the mode the manifests declare.

A live key (``sk_live_``/``rk_live_``) is refused unless the manifests say
``account.mode: live``, and a test key is refused with ``mode: live``. It lives below the CLI so
that every entry point that reads or writes an account on behalf of manifests passes it: the
library's :func:`~reconciler.apply.session.apply_session` and
:func:`~reconciler.drift.check.check_drift` call it before their first request, whoever called
them.
"""

from __future__ import annotations

from reconciler.errors import LiveModeGuardError
from reconciler.manifest.model import Manifest
from reconciler.stripe.config import Mode


def check_mode(mode: Mode | str, manifest: Manifest) -> None:
    """Raise :class:`LiveModeGuardError` when the key's ``mode`` is not the declared one."""
    declared = manifest.account.mode
    if mode == "live" and declared != "live":
        raise LiveModeGuardError(
            "Refusing to use a live-mode key with manifests that declare account.mode: test; "
            "set account.mode: live if you really mean to manage live mode"
        )
    if mode == "test" and declared == "live":
        raise LiveModeGuardError(
            "The manifests declare account.mode: live but the key is a test-mode key; "
            "use a live key (sk_live_/rk_live_) or set account.mode: test"
        )

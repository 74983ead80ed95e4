"""Secret sinks: where a new webhook signing secret goes the moment Stripe returns it.

Stripe returns an endpoint's ``whsec_…`` secret exactly once, in the create response, so apply
hands it to every configured sink before it does anything else. Sinks:

* :class:`FileSink` (``--secrets-file PATH``): dotenv lines ``STRIPE_WEBHOOK_SECRET_<NAME>=…``
  (``STRIPE_WEBHOOK_SECRET_<ACCOUNT>_<NAME>`` for a fleet's connected account),
  or a flat JSON object with the same keys when the path ends in ``.json``. The file is merged
  (other entries, comments and blank lines are kept; the entry of the same name is replaced in
  place) and written atomically: a temporary file in the same directory, created with mode 0600,
  fsynced, then ``os.replace``-d over the target, so a crash leaves either the old or the new file.
  Permissions: the written file is always 0600. An existing file that is readable by group or
  others is *fixed*, not refused, because the atomic replace produces a 0600 file anyway; apply
  logs a warning so the user knows the older entries were exposed. Writers on one machine are
  serialised with ``flock`` on a sidecar ``.<file>.lock`` so concurrent applies never lose an
  entry; the sidecar is removed again when the write is done (see ``FileSink._locked``).
* :class:`CommandSink` (``--secrets-command CMD``): runs ``CMD`` through the shell with a JSON
  object ``{"name", "address", "webhook_endpoint_id", "url", "secret"}`` (in a fleet also
  ``"stripe_account"``) on stdin, in the
  caller's environment without ``STRIPE_API_KEY``; a non-zero exit is a
  :class:`~reconciler.errors.SecretSinkError` whose message never contains the secret.
* :class:`GitHubMaskSink`: when ``GITHUB_ACTIONS=true`` it writes ``::add-mask::<secret>``
  through a callable the CLI provides. This is the one place a secret is ever printed, and only
  in that form: the runner consumes the workflow command (it is not shown in the log) and masks
  the value in every later log line, so a secrets command or later step that echoes it by
  mistake cannot leak it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from reconciler.apply.envfile import merge_dotenv, merge_json, read_dotenv
from reconciler.errors import SecretSinkError
from reconciler.manifest.names import SECRET_VARIABLE_PREFIX, secret_variable

if sys.platform != "win32":  # flock is POSIX; Windows gets no cross-process lock
    import fcntl

logger = logging.getLogger(__name__)

_DEFAULT_COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class NewSecret:
    """A signing secret just returned by Stripe; ``secret`` never appears in a repr.

    ``webhook_endpoint_id`` is the new object's id (``we_…``, or ``ed_…`` for an event
    destination); ``prefix`` is its kind's variable prefix (``STRIPE_WEBHOOK_SECRET_``, or
    ``STRIPE_EVENT_DESTINATION_SECRET_``).
    """

    name: str
    address: str
    webhook_endpoint_id: str
    url: str
    secret: str = field(repr=False)
    prefix: str = SECRET_VARIABLE_PREFIX
    #: the connected account of a fleet whose endpoint this is (None outside a fleet)
    account: str | None = None

    @property
    def variable(self) -> str:
        """The dotenv / JSON key this secret is stored under (the one validation checks for
        collisions: :func:`reconciler.manifest.names.secret_variable`); in a fleet it names
        the account too."""
        return secret_variable(self.name, self.account, prefix=self.prefix)


class SecretSink(Protocol):
    """Receives each new secret; raises :class:`SecretSinkError` when it cannot keep it."""

    def describe(self) -> str:
        """A short human description (no secret), e.g. ``file .env.stripe``."""
        ...

    def check(self) -> None:
        """Fail early (before any change to Stripe) if the sink cannot possibly work."""
        ...

    def deliver(self, secret: NewSecret) -> None: ...


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text


# --- the file sink ------------------------------------------------------------------------------


class FileSink:
    """``--secrets-file``: merge each secret into a 0600 dotenv or JSON file, atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # Write through a symlink to its target, never over the link itself.
        self.path = Path(os.path.realpath(os.fspath(path)))
        self.is_json = self.path.name.lower().endswith(".json")

    def describe(self) -> str:
        return f"file {self.path}"

    def check(self) -> None:
        directory = self.path.parent
        if not directory.is_dir():
            raise SecretSinkError(
                f"secrets file directory {directory} does not exist; create it first"
            )
        if not os.access(directory, os.W_OK):
            raise SecretSinkError(f"cannot write to {directory} (needed for --secrets-file)")
        if self.path.exists():
            if not self.path.is_file():
                raise SecretSinkError(f"--secrets-file {self.path} is not a regular file")
            # Parse now so a corrupt file stops apply before any change, not after a create.
            self._merged({})
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                logger.warning(
                    "secrets file %s has mode %04o (readable by others); it will be rewritten "
                    "with mode 0600, but the secrets already in it may have been exposed",
                    self.path,
                    mode,
                )

    def deliver(self, secret: NewSecret) -> None:
        self.write({secret.variable: secret.secret})
        logger.info("stored the signing secret of %s in %s", secret.address, self.path)

    def write(self, entries: dict[str, str]) -> None:
        """Merge ``entries`` (variable → value) into the file, atomically, under a lock."""
        with self._locked():
            self._remove_interrupted_writes()
            self._replace(self._merged(entries))

    @property
    def _temp_prefix(self) -> str:
        return f".{self.path.name}.tmp-"

    def _remove_interrupted_writes(self) -> None:
        """Delete temporary files a killed writer left next to the file (they hold secrets).

        Called under the lock: every writer holds it while its temporary file exists, so any
        such file found now belongs to a writer that died before its rename.
        """
        for leftover in self.path.parent.glob(f"{self._temp_prefix}*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                logger.warning("removed %s, left by an apply that was interrupted", leftover)

    def read(self) -> dict[str, str]:
        """The entries currently in the file (for tests and recovery checks)."""
        if not self.path.exists():
            return {}
        text = self.path.read_text(encoding="utf-8")
        if self.is_json:
            loaded = json.loads(merge_json(text, self.path, {}))
            return {str(k): str(v) for k, v in loaded.items()}
        return read_dotenv(text, self.path)

    def _merged(self, entries: dict[str, str]) -> str:
        try:
            text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        except (OSError, UnicodeDecodeError) as error:
            raise SecretSinkError(f"cannot read {self.path}: {error.__class__.__name__}") from None
        if self.is_json:
            return merge_json(text, self.path, entries)
        return merge_dotenv(text, self.path, entries)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive ``flock`` on the sidecar ``.<name>.lock`` and remove it when done.

        Removing a lock file others may be waiting on is safe only this way: it is unlinked
        while still locked, and a writer that obtains a lock first checks that its file is
        still the one at the path. If it is not (the previous holder removed it meanwhile), it
        locks afresh; otherwise two writers could each hold a lock on a different file.
        """
        if sys.platform == "win32":  # pragma: no cover
            yield
            return
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        while True:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise SecretSinkError(f"cannot lock {self.path}: {error.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if _same_file(fd, lock_path):
                    break
            except OSError as error:
                os.close(fd)
                raise SecretSinkError(f"cannot lock {self.path}: {error.strerror}") from None
            os.close(fd)  # locked a file that is gone: try again with the current one
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock_path)
            os.close(fd)  # closing releases the lock, after the file is gone

    def _replace(self, content: str) -> None:
        directory = self.path.parent
        fd, temp_name = tempfile.mkstemp(prefix=self._temp_prefix, dir=directory)
        try:
            os.fchmod(fd, 0o600)  # mkstemp already uses 0600; be explicit about the promise
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise SecretSinkError(f"cannot write {self.path}: {error.strerror}") from None
        with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open ``fd`` is still the file at ``path`` (not removed or replaced)."""
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


# --- the command sink ---------------------------------------------------------------------------


class CommandSink:
    """``--secrets-command``: run ``command`` through the shell with the secret as JSON on stdin."""

    def __init__(self, command: str, *, timeout: float = _DEFAULT_COMMAND_TIMEOUT) -> None:
        self.command = command
        self.timeout = timeout

    def describe(self) -> str:
        return "command"

    def check(self) -> None:
        if not self.command.strip():
            raise SecretSinkError("--secrets-command is empty")

    def deliver(self, secret: NewSecret) -> None:
        fields = {
            "name": secret.name,
            "address": secret.address,
            "webhook_endpoint_id": secret.webhook_endpoint_id,
            "url": secret.url,
            "secret": secret.secret,
        }
        if secret.account is not None:
            fields["stripe_account"] = secret.account
        payload = json.dumps(fields)
        try:
            completed = subprocess.run(
                self.command,
                shell=True,
                env=_command_environment(),
                input=payload,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SecretSinkError(
                f"--secrets-command did not finish within {self.timeout:g}s for {secret.address}"
                f" ({secret.webhook_endpoint_id})"
            ) from None
        except OSError as error:
            raise SecretSinkError(f"--secrets-command could not run: {error.strerror}") from None
        if completed.returncode != 0:
            tail = _redact(completed.stderr.strip(), secret.secret)[-500:]
            detail = f": {tail}" if tail else ""
            raise SecretSinkError(
                f"--secrets-command exited with status {completed.returncode} for "
                f"{secret.address} ({secret.webhook_endpoint_id}){detail}"
            )
        logger.info("handed the signing secret of %s to the secrets command", secret.address)


def _command_environment() -> dict[str, str]:
    """The caller's environment minus the Stripe key: the command stores a secret, it has no
    business calling Stripe, and a script that logs its environment must not leak the key."""
    return {name: value for name, value in os.environ.items() if name != "STRIPE_API_KEY"}


class GitHubMaskSink:
    """Emit ``::add-mask::<secret>`` so GitHub Actions masks the value in all later log lines."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def describe(self) -> str:
        return "GitHub Actions mask"

    def check(self) -> None:
        return None

    def deliver(self, secret: NewSecret) -> None:
        self._write(f"::add-mask::{secret.secret}")


def github_actions(environ: dict[str, str] | None = None) -> bool:
    """True when running inside GitHub Actions (``GITHUB_ACTIONS=true``)."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


class SecretSinks:
    """Every configured sink; :meth:`deliver` hands a secret to each, masks first.

    ``account`` (see :meth:`for_account`) stamps each secret with a fleet's connected account,
    so it is stored under a name that includes the account.
    """

    def __init__(
        self,
        sinks: Sequence[SecretSink],
        *,
        account: str | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        # The mask goes first so anything printed afterwards (even by a failing command) is masked.
        self.sinks = sorted(sinks, key=lambda sink: not isinstance(sink, GitHubMaskSink))
        self.account = account
        # Creates running in parallel finish together, but a secrets command is the user's
        # script (an append to a file, a vault CLI): it must never run alongside itself.
        self._one_at_a_time = lock or threading.Lock()

    def for_account(self, account: str) -> SecretSinks:
        """The same sinks for one connected account of a fleet: its secrets are stored as
        ``STRIPE_WEBHOOK_SECRET_<ACCOUNT>_<NAME>`` (and the command gets ``stripe_account``),
        and deliveries of every account still take turns."""
        return SecretSinks(self.sinks, account=account, lock=self._one_at_a_time)

    @property
    def stores_secrets(self) -> bool:
        """True when at least one sink actually keeps the secret (a mask alone does not)."""
        return any(not isinstance(sink, GitHubMaskSink) for sink in self.sinks)

    def describe(self) -> str:
        kept = [sink.describe() for sink in self.sinks if not isinstance(sink, GitHubMaskSink)]
        return ", ".join(kept) if kept else "none"

    def check(self) -> None:
        for sink in self.sinks:
            sink.check()

    def deliver(self, secret: NewSecret) -> None:
        if self.account is not None and secret.account is None:
            secret = replace(secret, account=self.account)
        with self._one_at_a_time:
            for sink in self.sinks:
                sink.deliver(secret)

"""Finding and reading manifest files: paths → decoded text, or located diagnostics.

A directory means its ``*.yaml``/``*.yml`` files, sorted (recursively on request); a file named
explicitly is read whatever its extension. An entry that cannot be inspected is an error, never
silently skipped (see :func:`discover`). Files are capped at :data:`MAX_FILE_BYTES` because a
manifest set is a few kilobytes and a multi-megabyte input is a mistake (a log, a dump, a binary).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.manifest.diagnostics import Diagnostic

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SourceText:
    """A manifest file's name as shown in diagnostics, and its text."""

    file: str
    text: str


def _file_error(file: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(file, line, column, "", message)


def discover(paths: Sequence[str | Path], *, recursive: bool) -> tuple[list[str], list[Diagnostic]]:
    """Expand ``paths`` into manifest files (each once, in order) and problems with the paths.

    An entry that might be a manifest but cannot be inspected (a broken symbolic link, a link
    loop, a permission problem) is a problem naming it, never skipped: a skipped file is a file
    whose resources plan would delete. Without ``recursive`` only ``*.yaml``/``*.yml`` entries
    might be manifests; with it any entry might be a directory holding some.
    """
    files: list[str] = []
    seen: set[str] = set()
    problems: list[Diagnostic] = []
    if not paths:
        problems.append(_file_error("<arguments>", "no manifest paths given"))
    for given in paths:
        path = Path(given)
        shown = str(given)
        status = _status(path)
        if isinstance(status, str):
            problems.append(_file_error(shown, status))
            continue
        if stat.S_ISDIR(status.st_mode):
            found, trouble = _walk(path, recursive=recursive)
            problems.extend(trouble)
            if not found and not trouble:
                where = " (searched recursively)" if recursive else ""
                hint = "" if recursive else "; pass --recursive to search subdirectories"
                problems.append(
                    _file_error(shown, f"directory contains no *.yaml or *.yml files{where}{hint}")
                )
            candidates = [(str(p), str(p)) for p in found]
        else:
            candidates = [(shown, shown)]
        for candidate, name in candidates:
            key = os.path.realpath(candidate)  # unlike Path.resolve, never raises on a loop
            if key not in seen:
                seen.add(key)
                files.append(name)
    return files, problems


#: Why a path holding a NUL character cannot be read (Python refuses it with ValueError).
_NUL_PATH = "the path holds a NUL character, which no file name can"


def _status(path: Path) -> os.stat_result | str:
    """``stat`` of what ``path`` leads to, or why it cannot be had (for a diagnostic)."""
    try:
        return os.stat(path)
    except ValueError:
        return _NUL_PATH
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop: the link leads back to itself"
        if isinstance(error, FileNotFoundError) and path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "(unreadable)"
            return f"broken symbolic link: its target {target} does not exist"
        if isinstance(error, FileNotFoundError):
            return "no such file or directory"
        if isinstance(error, PermissionError):
            return "permission denied"
        return f"cannot read: {error.strerror or type(error).__name__}"


def _walk(root: Path, *, recursive: bool) -> tuple[list[Path], list[Diagnostic]]:
    """The manifest files below ``root`` (sorted) and every entry that could not be inspected.

    Hidden files and directories (.github/workflows/*.yml, .venv) are never manifests. Linked
    directories are followed, each real directory once, so a link back up the tree ends.
    """
    found: list[Path] = []
    problems: list[Diagnostic] = []
    visited: set[str] = set()

    def visit(directory: Path) -> None:
        real = os.path.realpath(directory)
        if real in visited:
            return
        visited.add(real)
        try:
            with os.scandir(directory) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as error:
            reason = "permission denied" if isinstance(error, PermissionError) else error.strerror
            problems.append(_file_error(str(directory), f"cannot read directory: {reason}"))
            return
        for name in names:
            if name.startswith("."):
                continue
            entry = directory / name
            is_yaml = entry.suffix.lower() in YAML_SUFFIXES  # a .YAML file is a manifest too
            if not (is_yaml or recursive):
                continue
            status = _status(entry)
            if isinstance(status, str):
                problems.append(_file_error(str(entry), status))
            elif stat.S_ISDIR(status.st_mode):
                if recursive:
                    visit(entry)
            elif not is_yaml:
                continue
            elif stat.S_ISREG(status.st_mode):
                found.append(entry)
            else:
                problems.append(_file_error(str(entry), "not a regular file"))

    visit(root)
    return sorted(found), problems


def read_source(file: str) -> SourceText | Diagnostic:
    """Read and decode one file, or explain (with a location) why it cannot be a manifest."""
    path = Path(file)
    if "\x00" in file:
        return _file_error(file, _NUL_PATH)
    try:
        if not path.is_file():
            return _file_error(file, "not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return _file_error(
                file,
                f"file is {size} bytes; manifests are limited to {MAX_FILE_BYTES} bytes (1 MiB)",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return _file_error(file, f"cannot read file: {reason}")
    if len(raw) > MAX_FILE_BYTES:  # grew while we looked, or a device/fifo
        return _file_error(file, f"file exceeds the manifest size limit of {MAX_FILE_BYTES} bytes")
    nul = raw.find(b"\x00")
    if nul != -1:
        line, column = _position(raw, nul)
        return _file_error(
            file, "binary data (NUL byte): a manifest must be UTF-8 YAML text", line, column
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _position(raw, error.start)
        return _file_error(
            file,
            f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); save the file as UTF-8",
            line,
            column,
        )
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return _file_error(file, "file is empty; a manifest starts with 'version: 1'")
    logger.debug("read manifest %s (%d bytes)", file, len(raw))
    return SourceText(file, text)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters, as far as decodable) of byte ``offset``."""
    before = raw[:offset]
    line = before.count(b"\n") + 1
    start = before.rfind(b"\n") + 1
    column = len(before[start:].decode("utf-8", errors="replace")) + 1
    return line, column

"""Finding and reading manifest files: paths → decoded text, or located diagnostics.

A directory means its ``*.yaml``/``*.yml`` files, sorted (recursively on request); a file named
explicitly is read whatever its extension. Files are capped at :data:`MAX_FILE_BYTES` because a
manifest set is a few kilobytes and a multi-megabyte input is a mistake (a log, a dump, a binary).
"""

from __future__ import annotations

import logging
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
    """Expand ``paths`` into manifest files (each once, in order) and problems with the paths."""
    files: list[str] = []
    seen: set[Path] = set()
    problems: list[Diagnostic] = []
    if not paths:
        problems.append(_file_error("<arguments>", "no manifest paths given"))
    for given in paths:
        path = Path(given)
        shown = str(given)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            # Hidden files and directories (.github/workflows/*.yml, .venv) are never manifests.
            found = sorted(
                p
                for p in path.glob(pattern)
                if p.suffix in YAML_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                where = " (searched recursively)" if recursive else ""
                hint = "" if recursive else "; pass --recursive to search subdirectories"
                problems.append(
                    _file_error(shown, f"directory contains no *.yaml or *.yml files{where}{hint}")
                )
            candidates = [(p, str(p)) for p in found]
        elif path.exists() or path.is_symlink():
            candidates = [(path, shown)]
        else:
            problems.append(_file_error(shown, "no such file or directory"))
            continue
        for candidate, name in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                files.append(name)
    return files, problems


def read_source(file: str) -> SourceText | Diagnostic:
    """Read and decode one file, or explain (with a location) why it cannot be a manifest."""
    path = Path(file)
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

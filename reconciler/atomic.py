"""Writing a file atomically: a crash or an error mid-write leaves the previous file (or none).

The text goes to a temporary file beside the target, which is then renamed over it
(``os.replace`` is atomic within one file system). Callers turn ``OSError`` into their own
user-facing error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str, *, parents: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step; ``parents`` creates missing folders.

    ``OSError`` propagates; the temporary file never outlives a failure.
    """
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

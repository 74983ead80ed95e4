"""Masking of sensitive values: applied once, before anything reaches a renderer or a file.

API keys and webhook signing secrets must never appear in a plan in any format. Live objects can
carry them in unexpected places (a ``secret`` field on a create response, a metadata value someone
pasted in the Dashboard), so every string that looks like one is replaced, wherever it sits; so
is the ``user:password`` part of a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "(sensitive)"

_SENSITIVE = re.compile(r"(?:whsec|[sr]k_(?:test|live))_[A-Za-z0-9_]+")
#: the ``user:password`` of a URL (manifests refuse them; a live URL may still carry them)
_USERINFO = re.compile(r"(?<=://)[^/?#@\s]+(?=@)")


def mask_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every secret-looking token (and every exact ``extra`` value) replaced."""
    for secret in extra:
        if secret:
            text = text.replace(secret, MASK)
    return _USERINFO.sub(MASK, _SENSITIVE.sub(MASK, text))


def mask(value: Any, extra: Iterable[str] = ()) -> Any:
    """A deep copy of a JSON-like ``value`` with sensitive strings masked (keys included)."""
    secrets = tuple(extra)
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, dict):
        return {mask_text(str(k), secrets): mask(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v, secrets) for v in value]
    return value

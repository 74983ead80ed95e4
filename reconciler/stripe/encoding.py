"""Form encoding exactly as Stripe's SDKs do it (stripe-python ``_api_encode`` + ``urlencode``).

Nested maps become ``a[b][c]=``, arrays are always indexed (``a[0]=``, ``a[0][b]=``), booleans
are ``true``/``false``, ``None`` is omitted and ``""`` is sent, because Stripe reads an empty
value as "unset this field". Empty maps and arrays produce nothing, as in the SDK.

One deliberate difference: stripe-python sends a boolean *inside an array* as ``True``; here
it is ``true`` everywhere, which is what the API documents.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode


def form_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten ``params`` into ordered ``(key, value)`` pairs in bracket notation."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(str(key), value, pairs)
    return pairs


def encode_form(params: Mapping[str, Any] | None) -> str:
    """The ``application/x-www-form-urlencoded`` body (or query string) for ``params``."""
    if not params:
        return ""
    return urlencode(form_pairs(params))


def _flatten(key: str, value: Any, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _flatten(f"{key}[{sub_key}]", sub_value, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if item is None:
                # Skipping it would shift every later index; Stripe has no "null item".
                raise TypeError(f"cannot form-encode None as an array item at {key}[{index}]")
            _flatten(f"{key}[{index}]", item, out)
    elif isinstance(value, bool):
        out.append((key, "true" if value else "false"))
    elif isinstance(value, str):
        out.append((key, value))
    elif isinstance(value, int | float | Decimal):
        out.append((key, str(value)))
    elif isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            # The SDK would silently use the machine's local time zone here.
            raise TypeError(f"cannot form-encode a naive datetime at {key}; give it a tzinfo")
        out.append((key, str(int(value.timestamp()))))
    else:
        raise TypeError(f"cannot form-encode a {type(value).__name__} at {key}")

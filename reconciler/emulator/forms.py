"""Decoding of Stripe's bracket-notation form bodies and query strings.

``a[b][c]=1`` nests maps, ``a[]=x`` appends to a list and ``a[0]=x`` indexes one. Indexed
arrays stay maps with digit keys here, because only the schema knows whether ``metadata[0]``
is a map key or an array index; :mod:`reconciler.emulator.validation` turns them into lists.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from reconciler.emulator.errors import invalid_param

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Fold decoded ``(key, value)`` pairs into nested dicts and lists."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if match is None:
            raise invalid_param(raw_key, f"Invalid parameter name: {raw_key}")
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        _assign(root, path, value, raw_key)
    return root


def parse_form(body: bytes) -> dict[str, Any]:
    """Parse an ``application/x-www-form-urlencoded`` body (blank values kept: they mean unset)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid_param("body", "Invalid request: body is not valid UTF-8") from error
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


def _assign(node: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    container: Any = node
    for position, segment in enumerate(path):
        last = position == len(path) - 1
        if isinstance(container, list):
            _descend_list(container, path[position:], value, raw_key)
            return
        if last:
            if isinstance(container.get(segment), dict | list):
                raise invalid_param(
                    raw_key, f"Invalid parameter: {raw_key} mixes a value and a map"
                )
            container[segment] = value
            return
        following = path[position + 1]
        existing = container.get(segment)
        if existing is None:
            existing = [] if following == "" else {}
            container[segment] = existing
        elif isinstance(existing, str):
            raise invalid_param(raw_key, f"Invalid parameter: {raw_key} mixes a value and a map")
        elif (following == "") != isinstance(existing, list):
            raise invalid_param(raw_key, f"Invalid parameter: {raw_key} mixes array styles")
        container = existing


def _descend_list(items: list[Any], rest: list[str], value: str, raw_key: str) -> None:
    """Handle ``a[]`` (rest[0] == ""): append, or fill the last object of ``a[][k]=`` runs."""
    tail = rest[1:]
    if not tail:
        items.append(value)
        return
    last = items[-1] if items else None
    # a[][type]=x&a[][jurisdiction]=y builds one object until a key repeats, like Rack does.
    if not isinstance(last, dict) or tail[0] in last:
        last = {}
        items.append(last)
    _assign(last, tail, value, raw_key)

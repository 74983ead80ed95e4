"""Turn pydantic validation errors into located, human-phrased diagnostics.

Pydantic reports a ``loc`` inside the model; the raw YAML data tells how much of it is a real
path (the rest names union branches such as ``literal['now']``). Errors for one path that come
from the branches of one union are folded into a single message.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from reconciler.manifest.diagnostics import DataPath, Diagnostic
from reconciler.manifest.suggest import did_you_mean
from reconciler.manifest.yamlsource import SourceMap


def model_diagnostics(
    error: ValidationError,
    model: type[BaseModel],
    raw: Any,
    smap: SourceMap,
    base: DataPath,
) -> list[Diagnostic]:
    """Diagnostics for ``error``, raised validating ``raw`` (found at ``base`` in the file)."""
    grouped: dict[DataPath, list[tuple[dict[str, Any], DataPath]]] = {}
    for details in error.errors(include_url=False):
        item: dict[str, Any] = dict(details)
        loc = tuple(item["loc"])
        real = _real_prefix(raw, loc)
        grouped.setdefault(real, []).append((item, loc[len(real) :]))
    typos = _typo_targets(grouped, model)
    diagnostics = []
    for real, items in grouped.items():
        path = (*base, *real)
        union_branches = all(tail and i["type"] != "missing" for i, tail in items)
        if union_branches and len(items) > 1:
            value = _get(raw, real)
            if any("literal['now']" in str(tail[0]) for _, tail in items if tail):
                message = f"expected now, an ISO-8601 date-time or unix seconds, got {_show(value)}"
            else:
                message = "; or ".join(_message(i, model, real) for i, _ in items)
            diagnostics.append(smap.diagnostic(path, message))
            continue
        for item, _ in items:
            kind = item["type"]
            if kind == "missing":
                name = str(item["loc"][-1])
                if (real, name) in typos:
                    continue  # "unknown key 'ur'; did you mean 'url'?" already says it
                diagnostics.append(
                    smap.diagnostic(
                        path, f"missing required key '{name}'", key=True, label=(*path, name)
                    )
                )
            else:
                diagnostics.append(
                    smap.diagnostic(
                        path, _message(item, model, real), key=kind == "extra_forbidden"
                    )
                )
    return diagnostics


def _typo_targets(
    grouped: dict[DataPath, list[tuple[dict[str, Any], DataPath]]], model: type[BaseModel]
) -> set[tuple[DataPath, str]]:
    """(parent path, field) pairs where an unknown key is a near-miss of that missing field."""
    targets: set[tuple[DataPath, str]] = set()
    for real, items in grouped.items():
        if not real or not any(item["type"] == "extra_forbidden" for item, _ in items):
            continue
        parent = real[:-1]
        close = difflib.get_close_matches(str(real[-1]), _fields_at(model, parent), n=1)
        if close:
            targets.add((parent, close[0]))
    return targets


def _real_prefix(raw: Any, loc: tuple[Any, ...]) -> DataPath:
    """The longest prefix of ``loc`` that exists in ``raw`` (for ``missing``: the parent)."""
    current = raw
    real: list[str | int] = []
    for part in loc:
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if not (in_dict or in_list):
            break
        current = current[part]
        real.append(part)
    return tuple(real)


def _get(raw: Any, path: DataPath) -> Any:
    for part in path:
        raw = raw[part]
    return raw


def _message(item: dict[str, Any], model: type[BaseModel], real: DataPath) -> str:
    kind: str = item["type"]
    value = item.get("input")
    ctx: dict[str, Any] = item.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(real[-1])
        fields = _fields_at(model, real[:-1])
        hint = did_you_mean(name, fields)
        if not hint and fields:
            hint = f"; allowed: {', '.join(sorted(fields))}"
        return f"unknown key '{name}'{hint}"
    if kind == "string_type":
        tip = ""
        if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
            shown = value.isoformat() if isinstance(value, dt.date) else value
            tip = f'; quote it: "{shown}"'
        return f"expected a string, got {_kind(value)}{tip}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        tip = "; write the number without quotes" if isinstance(value, str) else ""
        return f"expected a whole number, got {_show(value)}{tip}"
    if kind in ("bool_type", "bool_parsing"):
        tip = " (only these two words, unquoted, are booleans)" if isinstance(value, str) else ""
        return f"expected true or false, got {_show(value)}{tip}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_kind(value)}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected)
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
        return f"{_show(value)} is not allowed; expected {expected}{hint}"
    if kind == "string_too_short":
        # the one minimum the models set: a value Stripe cannot unset may not be empty
        return (
            "is empty; leave the field out instead (Stripe cannot unset it, so an empty "
            "value never takes)"
        )
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else 0
        return f"is {length} characters long; at most {ctx.get('max_length')} allowed"
    if kind == "too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"must list at least {ctx.get('min_length')} items"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {_show(value)}"
    if kind == "string_pattern_mismatch":
        return f"{_show(value)} does not match the pattern {ctx.get('pattern')}"
    return str(item.get("msg", kind))


def _fields_at(model: type[BaseModel], path: DataPath) -> list[str]:
    """Field names of the model found at ``path`` below ``model`` (for did-you-mean)."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return []
            current = current.model_fields[part].annotation
        elif get_origin(current) in (dict, tuple, list):
            args = get_args(current)
            current = args[-1] if args else Any
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, (list, dict)):
        return _kind(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dt.datetime):
        return "a date-time"
    if isinstance(value, dt.date):
        return "a date"
    return type(value).__name__

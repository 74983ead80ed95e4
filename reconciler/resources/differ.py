"""The one differ: declared fields in, field changes and request params out.

Both sides are flat *documents*, field path → value in the field's normal form
(:mod:`reconciler.resources.fields`): ``have`` read once from each live object, ``want`` from
the declared model. Comparing them takes three steps:

1. **Settle** (dnscontrol's "if you don't want it changed, copy it into desired",
   ``pkg/diff2/handsoff.go``): the live value is copied into ``want`` wherever no change may be
   planned: a path the manifest leaves out of an ``unmanaged``/``never_unset`` field, a shadowed
   value live does not record (unknowable), a declared value that is ``equivalent`` to the live
   one at the plan's clock, and whatever ``lifecycle.ignore_changes`` covers (never a
   ``reserved`` map key). After this the comparison itself needs no ignore logic.
2. **Fast path**: ``have == want`` means no changes; nearly every resource of a large account
   stops here (B3: 10,000 unchanged resources).
3. **Explain**: ``DeepDiff(have, want, view="tree", threshold_to_diff_deeper=0)`` (without the
   threshold deepdiff ≥ 8 reports a whole changed map as one change) and each reported level's
   ``path(output_format="list")`` is mapped to its field: the documents are flat, so a path's
   first part is a field's path, dots and all. A map field gives one change per key
   (``metadata.owner``), any other field one change of its whole value. Changes of ``replace``
   fields come first (they are why a replace happens), then the rest, each group in
   declaration order, map keys sorted.

A replace follows from the changes (:attr:`Diff.replaced`: the replace fields that changed,
sorted). Update params are the changed fields' new values, or the field's ``clear`` value when
the new value is absent; a ``whole`` map sends the whole declared map.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.resources.changes import NEW_ID, FieldChange, Request
from reconciler.resources.fields import Absence, Field, shadow_value

__all__ = [
    "Diff",
    "create_changes",
    "create_follow_ups",
    "create_params",
    "diff",
    "field_requests",
    "have_document",
    "ignored",
    "settle",
    "update_params",
    "want_document",
]


@dataclass(frozen=True)
class Diff:
    """What differs: the changes, and which of them are on ``replace`` fields (sorted)."""

    changes: tuple[FieldChange, ...] = ()
    replaced: tuple[str, ...] = ()


NO_DIFF = Diff()


def ignored(path: str, patterns: Iterable[str]) -> bool:
    """Whether ``lifecycle.ignore_changes`` covers ``path`` (exact, parent or glob)."""
    return any(
        path == pattern or path.startswith(pattern + ".") or fnmatch.fnmatchcase(path, pattern)
        for pattern in patterns
    )


def have_document(fields: Sequence[Field], obj: Mapping[str, Any]) -> dict[str, Any]:
    """The live document of one raw object."""
    return {f.path: f.read_live(obj) for f in fields}


def want_document(
    fields: Sequence[Field], model: Any, tags: Mapping[tuple[str, str], str] | None = None
) -> dict[str, Any]:
    """The declared document of one model; paths the manifest leaves unmanaged are left out.

    ``tags``: ``(map field, key) → value`` the tool writes itself (ownership tags); shadowed
    values are recorded the same way.
    """
    want: dict[str, Any] = {}
    written: dict[str, dict[str, str]] = {}
    for (map_path, key), value in (tags or {}).items():
        written.setdefault(map_path, {})[key] = value
    for f in fields:
        value = f.read_desired(model)
        if value is None and not f.managed_when_absent:
            continue
        want[f.path] = value
        if f.shadow is not None and value is not None:
            written.setdefault(f.shadow[0], {})[f.shadow[1]] = shadow_value(value)
    for map_path, values in written.items():
        merged = {**want[map_path], **values}
        want[map_path] = {key: merged[key] for key in sorted(merged)}
    return want


def settle(
    fields: Sequence[Field],
    have: Mapping[str, Any],
    want: Mapping[str, Any],
    patterns: Sequence[str] = (),
    *,
    obj: Mapping[str, Any] | None = None,
    now: int,
) -> dict[str, Any]:
    """``want`` with live values copied in where no change may be planned (step 1 above);
    ``obj`` is the raw live object and ``now`` the plan's clock, for ``equivalent``."""
    out = dict(want)
    for f in fields:
        path = f.path
        live = have.get(path)
        if (
            path not in want
            or (f.shadow is not None and live is None)
            or (
                f.equivalent is not None
                and want[path] != live
                and f.equivalent(want[path], obj or {}, now)
            )
        ):
            out[path] = live
        elif patterns and f.map_valued:
            out[path] = _settle_map(f, live or {}, want[path] or {}, patterns)
        elif patterns and ignored(path, patterns):
            out[path] = live
    for f in fields:
        if f.shadow is not None and patterns and ignored(f.path, patterns):
            _keep_recorded(f.shadow, have, out)
    return out


def _keep_recorded(shadow: tuple[str, str], have: Mapping[str, Any], out: dict[str, Any]) -> None:
    """An ignored shadowed field keeps the value its tag records: writing the declared one
    there would make the record say what the object is not (``connect: true`` on an endpoint
    created without it), and every later plan would trust it."""
    map_path, key = shadow
    recorded = (have.get(map_path) or {}).get(key)
    if recorded is not None and isinstance(out.get(map_path), Mapping):
        out[map_path] = {**out[map_path], key: recorded}


def _settle_map(
    f: Field, live: Mapping[str, Any], declared: Mapping[str, Any], patterns: Sequence[str]
) -> dict[str, Any]:
    merged = dict(declared)
    for key in set(live) | set(declared):
        # Reserved keys are the tool's bookkeeping, never the user's: ignoring the
        # secret-pending marker would hide an undelivered signing secret for good.
        if key in f.reserved or not ignored(f"{f.path}.{key}", patterns):
            continue
        if key in live:
            merged[key] = live[key]
        else:
            merged.pop(key, None)  # pragma: no mutate (declared here, so it is in merged)
    return {key: merged[key] for key in sorted(merged)}


def diff(
    fields: Sequence[Field],
    have: Mapping[str, Any],
    want: Mapping[str, Any],
    patterns: Sequence[str] = (),
    *,
    obj: Mapping[str, Any] | None = None,
    # only `equivalent` fields read the clock, and every plan passes its own
    now: int = 0,  # pragma: no mutate
) -> Diff:
    """The changes that take ``have`` to ``want`` (see the module docstring)."""
    settled = settle(fields, have, want, patterns, obj=obj, now=now)
    if settled == have:
        return NO_DIFF
    return explain(fields, have, settled)


def explain(fields: Sequence[Field], have: Mapping[str, Any], want: Mapping[str, Any]) -> Diff:
    """Changes between two settled documents, found by deepdiff (step 3 above)."""
    from deepdiff import DeepDiff  # only the documents that differ pay for the import

    by_path = {f.path: f for f in fields}
    whole: set[str] = set()
    keys: dict[str, set[str]] = {}
    # only the fields that differ: deepdiff's walk is the cost, and equal fields explain nothing
    differing = [f.path for f in fields if have.get(f.path) != want.get(f.path)]
    tree = DeepDiff(
        {path: have.get(path) for path in differing},
        {path: want.get(path) for path in differing},
        view="tree",
        threshold_to_diff_deeper=0,
    )
    for levels in tree.values():
        for level in levels:
            f, rest = _owner(by_path, level.path(output_format="list"))
            if not f.map_valued:
                whole.add(f.path)
            elif rest:
                keys.setdefault(f.path, set()).add(str(rest[0]))
            else:  # the whole map changed shape (e.g. absent → present): compare key by key
                old, new = have.get(f.path) or {}, want.get(f.path) or {}
                keys.setdefault(f.path, set()).update(
                    k for k in set(old) | set(new) if old.get(k) != new.get(k)
                )
    changes: list[FieldChange] = []
    ordered = [f for f in fields if f.replaces] + [f for f in fields if not f.replaces]
    for f in ordered:
        if f.path in whole:
            changes.append(FieldChange(f.path, have.get(f.path), want.get(f.path)))
        for key in sorted(keys.get(f.path, ())):
            old, new = have.get(f.path) or {}, want.get(f.path) or {}
            changes.append(FieldChange(f"{f.path}.{key}", old.get(key), new.get(key)))
    replaced = sorted(f.path for f in fields if f.replaces and (f.path in whole or f.path in keys))
    return Diff(tuple(changes), tuple(replaced))


def _owner(by_path: Mapping[str, Field], parts: Sequence[Any]) -> tuple[Field, list[Any]]:
    """The field a deepdiff path belongs to, and the rest of the path: deepdiff compares the
    documents of the differing fields, keyed by field path, so the first part is one."""
    return by_path[parts[0]], list(parts[1:])


def field_of(fields: Sequence[Field], path: str) -> tuple[Field, str | None]:
    """The field a change path belongs to, and the map key for a map field's change."""
    for f in fields:
        if path == f.path:
            return f, None
        if f.map_valued and path.startswith(f.path + "."):
            return f, path[len(f.path) + 1 :]
    raise KeyError(path)


def _shown(f: Field, value: Any) -> bool:
    """Whether a declared value says anything on create (not absent, not the default)."""
    return value is not None and not (f.absence is Absence.DEFAULT and value == f.default)


def create_changes(fields: Sequence[Field], want: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Every declared value of a new object, in declaration order (map keys sorted)."""
    changes: list[FieldChange] = []
    for f in fields:
        value = want.get(f.path)
        if not _shown(f, value):
            continue
        if f.map_valued and isinstance(value, Mapping):
            changes.extend(
                FieldChange(f"{f.path}.{k}", None, v) for k, v in value.items() if v is not None
            )
        else:
            changes.append(FieldChange(f.path, None, value))
    return tuple(changes)


def create_params(fields: Sequence[Field], want: Mapping[str, Any]) -> dict[str, Any]:
    """The create's params: every declared value the create can send."""
    params: dict[str, Any] = {}
    for f in fields:
        value = want.get(f.path)
        if f.on_create and _shown(f, value):
            _put(params, f.path, value)
    return params


def update_params(
    fields: Sequence[Field], changes: Iterable[FieldChange], want: Mapping[str, Any]
) -> dict[str, Any]:
    """The update's params for ``changes``: new values, or the field's clear value."""
    params: dict[str, Any] = {}
    for item in changes:
        f, key = field_of(fields, item.path)
        if f.replaces or f.request is not None:
            continue
        if f.whole:
            declared = want.get(f.path) or {}
            _put(params, f.path, {k: v for k, v in declared.items() if v not in (None, "")})
            continue
        value = f.clear if item.after is None else item.after
        # a map key is one part, whatever dots it holds
        _put(params, f.path, value, *(() if key is None else (key,)))
    return params


def field_requests(
    fields: Sequence[Field], changes: Iterable[FieldChange], object_path: str
) -> tuple[Request, ...]:
    """The requests of changed fields that are set by a request of their own (``request``)."""
    out: list[Request] = []
    for item in changes:
        f, _ = field_of(fields, item.path)
        if f.request is not None and not f.replaces:
            step, suffix = f.request(item.after)
            out.append(Request(step, "POST", object_path + suffix))
    return tuple(out)


def create_follow_ups(
    fields: Sequence[Field], want: Mapping[str, Any], collection: str
) -> tuple[Request, ...]:
    """What a create that cannot send a field is followed by: the field's own request for the
    new object (``{new_id}``), wherever the declared value says anything."""
    return tuple(
        Request(step, "POST", f"{collection}/{NEW_ID}{suffix}")
        for f in fields
        if f.request is not None and not f.on_create and _shown(f, want.get(f.path))
        for step, suffix in (f.request(want.get(f.path)),)
    )


def _put(params: dict[str, Any], path: str, value: Any, *keys: str) -> None:
    """Set dotted ``path`` (then ``keys``) in nested params."""
    parts = [*path.split("."), *keys]
    node = params
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value

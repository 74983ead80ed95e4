"""The one registry of kinds: every list of kinds in the tool is read from here.

:func:`register` adds a kind's :class:`~reconciler.resources.kind.KindSpec` and refuses a second
kind of the same name or order (octoDNS's ``Record.register_type``). The registrations themselves
are in :mod:`reconciler.resources` (one line per kind). Everything that used to spell kinds out
(the plan's kind order, the response shapes, the manifest sections a plan reads, the plan file's
``kind`` values, ``--target`` kinds, export's kinds, apply's phases) asks this module instead.

This module imports nothing at run time, so the value objects in
:mod:`reconciler.resources.changes` can sort by :func:`rank` without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from reconciler.resources.kind import KindSpec

__all__ = [
    "KINDS",
    "KIND_ORDER",
    "kind_names",
    "pools",
    "rank",
    "register",
    "spec_of",
    "specs",
]

#: name → spec, kept in ``order``
_SPECS: dict[str, KindSpec] = {}
_RANKS: dict[str, int] = {}


def register(spec: KindSpec) -> KindSpec:
    """Add ``spec``; a name or an order that is already taken is refused with ``ValueError``."""
    if spec.name in _SPECS:
        raise ValueError(f"kind {spec.name!r} is already registered")
    taken = next((s.name for s in _SPECS.values() if s.order == spec.order), None)
    if taken is not None:
        raise ValueError(f"kind {spec.name!r}: order {spec.order} is already {taken!r}'s")
    other = next((s for s in _SPECS.values() if s.limit is not None and s.pool == spec.pool), None)
    if other is not None and other.limit != spec.limit:
        raise ValueError(
            f"kind {spec.name!r}: pool {spec.pool!r} has limit {other.limit} ({other.name!r}'s)"
        )
    ordered = sorted([*_SPECS.values(), spec], key=lambda s: s.order)
    _SPECS.clear()
    _SPECS.update((s.name, s) for s in ordered)
    _RANKS.clear()
    _RANKS.update((name, index) for index, name in enumerate(_SPECS))
    return spec


def unregister(name: str) -> None:
    """Remove a kind (tests that register a toy kind clean up with it)."""
    _SPECS.pop(name)
    _RANKS.clear()
    _RANKS.update((kind, index) for index, kind in enumerate(_SPECS))


def specs() -> tuple[KindSpec, ...]:
    """Every registered kind, in order."""
    return tuple(_SPECS.values())


def pools() -> dict[str, tuple[KindSpec, ...]]:
    """Pool → the kinds with a ``limit`` that count against it, in order (kinds sharing one
    limit, such as webhook endpoints and event destinations, are one pool)."""
    found: dict[str, list[KindSpec]] = {}
    for spec in _SPECS.values():
        if spec.limit is not None:
            found.setdefault(spec.pool, []).append(spec)
    return {pool: tuple(members) for pool, members in found.items()}


def spec_of(kind: str) -> KindSpec:
    """The spec of ``kind``; ``KeyError`` for a kind nobody registered."""
    return _SPECS[kind]


def kind_names() -> tuple[str, ...]:
    return tuple(_SPECS)


def rank(kind: str) -> int:
    """Where ``kind`` sorts (plans list kinds, and apply handles them, in this order)."""
    return _RANKS[kind]


class _KindOrder(Sequence[str]):
    """The kind names in order, read from the registry whenever it is used."""

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return tuple(_SPECS)[index]

    def __len__(self) -> int:
        return len(_SPECS)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_SPECS))

    def __contains__(self, kind: object) -> bool:
        return kind in _SPECS

    def index(
        self,
        kind: object,
        # Sequence.index's signature; a kind has one place, so the range is never read
        start: int = 0,  # pragma: no mutate
        stop: int | None = None,
    ) -> int:
        if not isinstance(kind, str) or kind not in _RANKS:
            raise ValueError(f"{kind!r} is not a registered kind")
        return _RANKS[kind]

    def __repr__(self) -> str:
        return repr(tuple(_SPECS))

    def __eq__(self, other: object) -> bool:
        """Answers as the tuple of the names would (equal to it, not to a list or a name)."""
        return tuple(self) == other

    __hash__ = None  # type: ignore[assignment]


#: The kind names in order: the display and file order of kinds, and the order apply handles them.
KIND_ORDER: Sequence[str] = _KindOrder()


class _Kinds(Mapping[str, "KindSpec"]):
    """name → spec, in order; a read-only view of the registry."""

    def __getitem__(self, kind: str) -> KindSpec:
        return _SPECS[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_SPECS))

    def __len__(self) -> int:
        return len(_SPECS)

    def __repr__(self) -> str:
        return f"KINDS({', '.join(_SPECS)})"


#: name → spec of every registered kind, in order (``reconciler.resources.HANDLERS`` too).
KINDS: Mapping[str, KindSpec] = _Kinds()

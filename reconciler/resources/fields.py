"""A kind's fields, each declared once with its behaviour (Terraform Plugin Framework style).

A :class:`Field` says everything the generic differ (:mod:`reconciler.resources.differ`) needs
about one field: how a change is applied (``on_change``: an update, or a replace, as the
framework's ``RequiresReplace()`` plan modifier), how its value is compared (``set_valued``,
``map_valued``, ``equivalent``), how a missing value reads (:class:`Absence`), which map keys the
tool owns (``reserved``), where its live value is read (``live``) or recorded (``shadow``), and
whether the create sends it (``on_create``). Kinds list their fields in the order plans show
them; a field's declaration is the only place its name and rules are written.

Values travel in two flat *documents*, field path → value: ``have`` (read from the normalised
live object) and ``want`` (read from the declared model). A path a document does not hold is
"not declared", which only an ``unmanaged``/``never_unset`` field allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

__all__ = ["Absence", "Field", "OnChange", "read_path"]


class OnChange(str, Enum):
    """What a change of the field takes: an update in place, or a new object."""

    UPDATE = "update"
    REPLACE = "replace"


class Absence(str, Enum):
    """How a field the manifest leaves out (or sets to null) reads.

    ``DEFAULT``      it is the field's ``default`` (``description``: missing = null = ``""``),
                     on both sides, so null and the default never differ.
    ``CLEAR``        it is absent, and an update unsets it by sending the field's ``clear`` value
                     (``expires_at`` → ``""``; a metadata key → ``""``).
    ``UNMANAGED``    it is not managed: live keeps its value and no change is ever planned
                     (``api_version``: an omitted one must never force a replace).
    ``NEVER_UNSET``  Stripe cannot unset it, so leaving it out stops managing it, as UNMANAGED
                     (tax settings fields); it never has a ``clear`` value.
    """

    DEFAULT = "default"
    CLEAR = "clear"
    UNMANAGED = "unmanaged"
    NEVER_UNSET = "never_unset"


@dataclass(frozen=True)
class Field:
    """One field of a kind; see the module docstring.

    ``path``        dotted name, as plans show it and ``lifecycle.ignore_changes`` names it
    ``on_change``   :class:`OnChange` (``replace``: create-only fields)
    ``set_valued``  a set: sorted and deduplicated when read, so order never differs
    ``map_valued``  a string map compared key by key: one change per key (``metadata.owner``)
    ``whole``       (map) an update sends the whole declared map, not the changed keys
                    (the head office address is one value)
    ``absence``     :class:`Absence`; ``default`` (only with ``DEFAULT``) and ``clear`` go
                    with it
    ``reserved``    (map) keys the tool writes itself: never ignored, never the user's
    ``desired``     reads the declared value from the model (default: the attribute at ``path``)
    ``live``        reads the live value from the raw object (default: the key at ``path``);
                    ``disabled`` reads ``status``
    ``shadow``      ``(map field, key)`` where a value Stripe never returns is recorded;
                    the live value is read back from it, unknown (not compared) when missing
    ``shadow_read`` how a recorded text reads back (default: a flag, ``"true"`` → ``True``;
                    ``str`` for a text such as an EventBridge ``aws_region``)
    ``equivalent``  ``(declared, live object, now)`` → whether the declared value already
                    holds although it is written differently (semantic equality):
                    ``active_from: now`` holds for an active registration; declared
                    ``country_options`` hold when the response carries all it can of them
    ``on_create``   ``False`` when the create cannot send it and a follow-up request sets it
                    (webhook ``disabled``)
    ``request``     the field is set by a request of its own, not by the update's params:
                    value → ``(step, path suffix)`` POSTed to the object (an event
                    destination's ``disabled``: ``True`` → ``("disable", "/disable")``); a create
                    that cannot send it is followed by that request for the new object
    """

    path: str
    on_change: OnChange = OnChange.UPDATE
    set_valued: bool = False
    map_valued: bool = False
    whole: bool = False
    absence: Absence = Absence.CLEAR
    default: Any = None
    clear: Any = None
    reserved: frozenset[str] = frozenset()
    desired: Callable[[Any], Any] | None = None
    live: Callable[[Mapping[str, Any]], Any] | None = None
    shadow: tuple[str, str] | None = None
    shadow_read: Callable[[str], Any] = field(default=lambda text: text == "true", repr=False)
    equivalent: Callable[[Any, Mapping[str, Any], int], bool] | None = None
    on_create: bool = True
    request: Callable[[Any], tuple[str, str]] | None = field(default=None, repr=False)
    _parts: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if self.absence is Absence.NEVER_UNSET and self.clear is not None:
            raise ValueError(f"{self.path}: a field that is never unset has no clear value")
        if (self.reserved or self.whole) and not self.map_valued:
            raise ValueError(f"{self.path}: reserved keys and whole apply to map fields only")
        # so that a missing value reads as `default` whatever the absence: None unless DEFAULT
        if self.default is not None and self.absence is not Absence.DEFAULT:
            raise ValueError(f"{self.path}: only a field whose absence is DEFAULT has a default")
        # read once per resource on every plan (B3): keep the per-read work to lookups
        object.__setattr__(self, "_parts", tuple(self.path.split(".")))

    @property
    def replaces(self) -> bool:
        return self.on_change is OnChange.REPLACE

    @property
    def managed_when_absent(self) -> bool:
        """Whether a value the manifest leaves out is still compared (DEFAULT, CLEAR)."""
        return self.absence in (Absence.DEFAULT, Absence.CLEAR)

    def read(self, value: Any) -> Any:
        """A raw value (either side) in the field's normal form."""
        if value is None:
            return self.default
        if self.set_valued:
            return sorted(set(value))
        if self.map_valued:
            return {key: value[key] for key in sorted(value)}
        return value

    def read_live(self, obj: Mapping[str, Any]) -> Any:
        """The live value from the raw object."""
        if self.shadow is not None:
            recorded = (obj.get(self.shadow[0]) or {}).get(self.shadow[1])
            return None if recorded is None else self.shadow_read(recorded)
        if self.live is not None:
            return self.read(self.live(obj))
        value: Any = obj
        for part in self._parts:
            value = value.get(part) if isinstance(value, dict) else None
        if self.map_valued:
            return self.read(value or {})
        return self.read(value)

    def read_desired(self, model: Any) -> Any:
        """The declared value; ``None`` when the manifest leaves it out."""
        if self.desired is not None:
            value = self.desired(model)
        else:
            value = model
            for part in self._parts:
                value = getattr(value, part, None)
        kind = type(value)
        if kind is tuple:
            value = list(value)
        elif value is not None and kind not in _PLAIN and isinstance(value, BaseModel):
            value = value.model_dump()
        if value is None:
            if self.map_valued and self.managed_when_absent:
                return {}
            return self.default
        return self.read(value)


_PLAIN = frozenset({str, int, bool, float, list, dict})


def read_path(source: Any, path: str) -> Any:
    """The value at dotted ``path`` in a mapping or model; ``None`` where a part is missing."""
    value = source
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def shadow_value(value: Any) -> str:
    """How a shadowed value is recorded in a string map (``True`` → ``"true"``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)

"""Exporting a kind identified by ownership tags (webhook endpoints, event destinations).

Tagged objects are declared under their tagged name (a second one with the same name is left
out: plan deletes duplicates). Untagged ones are the exception: declaring one makes the plan
*adopt* it (tag it), which is a change. So they are declared only with ``adopt``, and only when
exactly one untagged object has their adoption value (plan adopts no other); otherwise they are
kept aside for the writer to show as comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.export.common import Names
from reconciler.resources.base import LiveObject
from reconciler.resources.kind import KindSpec
from reconciler.resources.tagged import Tagged, tagged_name

Entry = Callable[[LiveObject, str, list[str]], dict[str, Any]]


@dataclass
class TaggedSection:
    """What :func:`export_tagged` found: declared entries, entries kept aside, warnings, and
    the names of the untagged objects declared for adoption."""

    declared: dict[str, dict[str, Any]] = field(default_factory=dict)
    aside: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)


def export_tagged(
    spec: KindSpec,
    objects: Iterable[LiveObject],
    *,
    adopt: bool,
    entry: Entry,
    base_name: Callable[[LiveObject], str],
    prefix: str,
) -> TaggedSection:
    """The section of ``spec``: ``entry(obj, label, warnings)`` builds one manifest entry,
    ``base_name`` names an untagged object (made unique, also by the secret variable of
    ``prefix`` each name maps to)."""
    identity = spec.identity
    assert isinstance(identity, Tagged)
    out = TaggedSection()
    ordered = sorted(objects, key=lambda o: str(o.get("id")))
    tagged: dict[str, LiveObject] = {}
    untagged: list[LiveObject] = []
    for obj in ordered:
        name = tagged_name(obj)
        if name is None:
            untagged.append(obj)
        elif name in tagged:
            out.warnings.append(
                f"{spec.name}.{name}: {obj['id']} is tagged with the same name as "
                f"{tagged[name]['id']}; exported the latter only (plan will delete the duplicate)"
            )
        else:
            tagged[name] = obj
    names = Names(tagged, prefix=prefix)
    for name in sorted(tagged):
        out.declared[name] = entry(tagged[name], f"{spec.name}.{name}", out.warnings)
    shared: dict[str, int] = {}
    for obj in untagged:
        shared[identity.label(obj)] = shared.get(identity.label(obj), 0) + 1
    what = identity.adoption()
    for obj in sorted(untagged, key=lambda o: (identity.label(o), str(o.get("id")))):
        name = names.claim(base_name(obj))
        built = entry(obj, f"{spec.name}.{name}", out.warnings)
        twins = shared[identity.label(obj)] > 1
        if adopt and twins:
            out.warnings.append(
                f"{spec.name}.{name}: {obj['id']} shares its {what} with another untagged "
                f"{spec.short}; not adopted (plan could not tell them apart), listed as a comment"
            )
        if adopt and not twins:
            out.declared[name] = built
            out.adopted.append(name)
        else:
            out.aside[name] = built
    out.adopted.sort()
    return out

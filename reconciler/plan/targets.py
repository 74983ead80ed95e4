"""``--target`` addresses: each must name something, or the run is refused before it plans.

A target restricts the plan (:meth:`~reconciler.plan.model.Plan.only`); one that names nothing
restricts it to nothing, and a typo then prints ``No changes.`` and exits 0, which CI reads as
"nothing to do". A target is known when it is

* a kind (any registered one, :data:`reconciler.resources.registry.KINDS`),
* the address of a declared resource (``webhook_endpoints.orders``), or
* the address of a live object as plan shows one nothing declares
  (``webhook_endpoints[we_123]``, ``tax_registrations[taxreg_123]``, or
  ``webhook_endpoints.<name>[we_123]`` for one tagged with a name, which its name alone also
  covers), or any live object as ``<kind>[<id>]``.

Pure: called by ``plan`` and ``apply`` with the live state they read, never for a saved plan,
whose targets were checked when it was made (the object a target names may be gone by the time
the plan is applied, which is its purpose).
"""

from __future__ import annotations

import difflib
import re

from reconciler.errors import UsageError
from reconciler.manifest.model import Manifest
from reconciler.manifest.suggest import did_you_mean
from reconciler.plan.model import target_forms
from reconciler.resources.base import LiveState
from reconciler.resources.registry import KINDS

_HINT = (
    " (a target is a kind, a declared address such as webhook_endpoints.<name>, or a live "
    "object's address as plan shows it, such as webhook_endpoints[we_…])"
)


def known_targets(manifest: Manifest, live: LiveState) -> frozenset[str]:
    """Every address a ``--target`` may name for this manifest set and live state."""
    known = set(KINDS)
    for kind, spec in KINDS.items():
        known.update(spec.address(name) for name in spec.declared(manifest))
        for obj in live.of(kind):
            # objects without an id (the tax settings singleton) are addressed by their kind
            if obj.get("id"):
                # kind[id] always works; a tagged endpoint is also webhook_endpoints.<name>[id],
                # and its name alone covers it (a name no longer declared, or a duplicate)
                known.update(target_forms(kind, spec.live_address(obj), spec.live_id(obj)))
    return frozenset(known)


def check_targets(targets: tuple[str, ...], manifest: Manifest, live: LiveState) -> None:
    """Raise :class:`UsageError` naming every target that names nothing, with suggestions."""
    if not targets:
        return
    known = known_targets(manifest, live)
    problems = [_unknown(target, known) for target in targets if target not in known]
    if not problems:
        return
    message = "; ".join(text for text, _ in problems)
    if not all(helpful for _, helpful in problems):
        message += _HINT
    raise UsageError(message)


def _unknown(target: str, known: frozenset[str]) -> tuple[str, bool]:
    """Why ``target`` names nothing, and whether that already says what to write instead."""
    kind = re.split(r"[.\[]", target)[0]  # the kind ends at the first dot or bracket
    rest = target[len(kind) :]
    head = f"unknown --target '{target}'"
    # a singleton's address is its kind, whatever the name
    if kind in KINDS and KINDS[kind].address("") == kind:  # pragma: no mutate
        return f"{head}: {kind} is one object; target it as '{kind}'", True
    if kind not in KINDS:
        why, candidates = f"'{kind}' is not a kind", known
    else:
        # Only addresses of the same form, judged by the name alone: the long shared prefix
        # would make "webhook_endpoints.nope" look like any endpoint, or the whole kind.
        same = {k[len(kind) :]: k for k in known if k.startswith(kind + rest[:1])}
        # 0.6 is difflib's default cutoff, and did_you_mean keeps one candidate anyway
        close = difflib.get_close_matches(rest, list(same), n=1, cutoff=0.6)  # pragma: no mutate
        candidates = frozenset(same[c] for c in close)
        if rest.startswith("."):
            why = f"no {kind} named '{rest[1:]}' is declared"
        else:
            why = f"no live {kind} object has that id"
    hint = did_you_mean(target, candidates, n=1)
    return f"{head}: {why}{hint}", bool(hint)

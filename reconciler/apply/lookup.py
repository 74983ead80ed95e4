"""Finding the registrations that already are the one being created.

Apply lists registrations once per phase and, before each create, looks for one created after
the plan was made (by another apply, or by this plan's earlier run after Stripe's 24-hour key
window). Only a live object the plan would pair with the declared window counts, judged as
planning does (:func:`reconciler.resources.tax_registration.window_fit` tier 0: same natural key,
same window). Another window of the same key (the current registration next to its scheduled
successor) is not it, nor is a live object another action of the plan works on. Validation
refuses overlapping windows of one key, so no other declared window can be the exact twin.

The same test finds, after a phase, the *rivals* of a registration this apply created: twins
that an apply of another plan created at the same time (Stripe does not refuse a second
registration of one jurisdiction, and different plans have different idempotency keys).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from reconciler.manifest.model import TaxRegistration
from reconciler.resources.base import LiveObject
from reconciler.resources.tax_registration import CANDIDATE_STATUSES, natural_key, window_fit


def same_registration(
    params: Mapping[str, Any],
    live: Sequence[LiveObject],
    *,
    excluded: Collection[str],
    now: int,
) -> str | None:
    """The id of a live registration that already is what create ``params`` would make."""
    found = twins(params, live, excluded=excluded, now=now)
    return found[0] if found else None


def twins(
    params: Mapping[str, Any],
    live: Sequence[LiveObject],
    *,
    excluded: Collection[str],
    now: int,
) -> list[str]:
    """Ids of every active or scheduled registration that is what create ``params`` makes."""
    key = natural_key(str(params["country"]), params["country_options"])
    desired = _declared_window(params)
    return [
        str(obj.get("id"))
        for obj in live
        if str(obj.get("id")) not in excluded
        and obj.get("status") in CANDIDATE_STATUSES
        and natural_key(str(obj.get("country")), obj.get("country_options") or {}) == key
        and window_fit(desired, obj, now)[0] == 0
    ]


def _declared_window(params: Mapping[str, Any]) -> TaxRegistration:
    """The declared registration a create request was built from (its window is what counts).

    Built without validation: the request came from a validated manifest, and only the window
    is read, so nothing here can fail on a shape the model would word differently.
    """
    return TaxRegistration.model_construct(
        country=params["country"],
        country_options=params["country_options"],
        active_from=params.get("active_from", "now"),
        expires_at=params.get("expires_at"),
    )

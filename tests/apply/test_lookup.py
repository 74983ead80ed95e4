"""same_registration: only the same natural key and the same window is "already exists"."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.resources.tax_registration_windows import same_registration

CA = {"us": {"type": "state_sales_tax", "state": "CA"}}
NY = {"us": {"type": "state_sales_tax", "state": "NY"}}
NOW = 1_800_000_000
SWITCH = 1_812_153_600


def live(
    status: str, start: int, end: int | None, options: dict[str, Any] = CA, id_: str = "taxreg_1"
) -> dict[str, Any]:
    return {
        "id": id_,
        "country": "US",
        "country_options": options,
        "active_from": start,
        "expires_at": end,
        "status": status,
    }


NEXT = {"country": "US", "country_options": CA, "active_from": SWITCH}
CURRENT = {"country": "US", "country_options": CA, "active_from": "now", "expires_at": SWITCH}


@pytest.mark.parametrize(
    ("params", "objects", "excluded", "found"),
    [
        # the scheduled successor already exists
        (NEXT, [live("scheduled", SWITCH, None)], (), "taxreg_1"),
        # only the current window exists: it is not the successor (finding 3)
        (NEXT, [live("active", NOW - 10, SWITCH)], (), None),
        # `active_from: now` fits an active one with the same end, not a scheduled one
        (CURRENT, [live("active", NOW - 10, SWITCH)], (), "taxreg_1"),
        (CURRENT, [live("scheduled", NOW + 10, SWITCH)], (), None),
        (CURRENT, [live("active", NOW - 10, None)], (), None),
        # a create that names no start starts now
        (
            {"country": "US", "country_options": CA, "expires_at": SWITCH},
            [live("active", NOW - 10, SWITCH)],
            (),
            "taxreg_1",
        ),
        # another action of the plan works on it
        (NEXT, [live("scheduled", SWITCH, None)], ("taxreg_1",), None),
        # history and other jurisdictions never count
        (NEXT, [live("expired", SWITCH, None)], (), None),
        (NEXT, [live("scheduled", SWITCH, None, NY)], (), None),
        # the right one among others
        (
            NEXT,
            [live("active", NOW - 10, SWITCH, id_="taxreg_a"), live("scheduled", SWITCH, None)],
            (),
            "taxreg_1",
        ),
    ],
)
def test_same_registration(
    params: dict[str, Any],
    objects: list[dict[str, Any]],
    excluded: tuple[str, ...],
    found: str | None,
) -> None:
    assert same_registration(params, objects, excluded=excluded, now=NOW) == found

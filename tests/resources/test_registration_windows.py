"""How well a live registration fits a declared window (``window_fit``), one row per edge.

Windows are ``[start, end)`` under the plan's clock: the plan cases and the pairing properties
(tests/plan/test_window_pairing.py) reach these edges only now and then, so the table states them
directly: tier 0 the same window, 1 overlapping, 2 apart; then the distance between the starts.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.manifest.model import TaxRegistration
from reconciler.resources.tax_registration_windows import window_fit

NOW = 1_800_000_000
DAY = 86_400
OPEN = None

FIT_CASES = [
    # (id, declared (active_from, expires_at), live (active_from, expires_at, status), fit)
    (
        "the same window",
        (NOW + DAY, NOW + 5 * DAY),
        (NOW + DAY, NOW + 5 * DAY, "scheduled"),
        (0, 0),
    ),
    ("now fits a running one", ("now", OPEN), (NOW - 10 * DAY, OPEN, "active"), (0, 10 * DAY)),
    ("now only overlaps a scheduled one", ("now", OPEN), (NOW + DAY, OPEN, "scheduled"), (1, DAY)),
    (
        "a past start fits one that started later (Stripe cannot backdate)",
        (NOW - 10 * DAY, OPEN),
        (NOW - DAY, OPEN, "active"),
        (0, 9 * DAY),
    ),
    (
        "a past start fits one that started at the plan's clock",
        (NOW - 10 * DAY, OPEN),
        (NOW, OPEN, "active"),
        (0, 10 * DAY),
    ),
    (
        "a past start only overlaps one that started before it",
        (NOW - 10 * DAY, OPEN),
        (NOW - 11 * DAY, OPEN, "active"),
        (1, DAY),
    ),
    (
        "windows that overlap",
        (NOW + DAY, NOW + 5 * DAY),
        (NOW + 3 * DAY, NOW + 9 * DAY, "scheduled"),
        (1, 2 * DAY),
    ),
    (
        "a window that ends where a live one starts is apart from it",
        (NOW + DAY, NOW + 3 * DAY),
        (NOW + 3 * DAY, OPEN, "scheduled"),
        (2, 2 * DAY),
    ),
    (
        "a window that starts where a live one ends is apart from it",
        (NOW + 3 * DAY, OPEN),
        (NOW - DAY, NOW + 3 * DAY, "active"),
        (2, 4 * DAY),
    ),
    # `active_from: now` with `expires_at: now`: the instant itself
    ("the instant overlaps one that starts at it", ("now", "now"), (NOW, OPEN, "active"), (1, 0)),
    (
        "the instant is apart from one that ends at it",
        ("now", "now"),
        (NOW - DAY, NOW, "active"),
        (2, DAY),
    ),
]


@pytest.mark.parametrize(
    ("declared", "live", "fit"),
    [case[1:] for case in FIT_CASES],
    ids=[case[0] for case in FIT_CASES],
)
def test_window_fit(
    declared: tuple[Any, Any], live: tuple[Any, Any, str], fit: tuple[int, int]
) -> None:
    start, end = declared
    spec: dict[str, Any] = {
        "country": "US",
        "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
        "active_from": start,
    }
    if end is not None:
        spec["expires_at"] = end
    obj = {"id": "taxreg_1", "active_from": live[0], "expires_at": live[1], "status": live[2]}
    assert window_fit(TaxRegistration.model_validate(spec), obj, NOW) == fit

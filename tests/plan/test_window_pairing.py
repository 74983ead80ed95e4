"""Windows of one natural key keep their own live twins, whatever the names and ids (finding 2)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from plan_helpers import live_state

from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan

NOW = 1_750_000_000
OPTIONS = {"us": {"type": "state_sales_tax", "state": "CA"}}


@st.composite
def sequential_windows(draw: st.DrawFn) -> list[tuple[int, int | None]]:
    """Back-to-back windows of one key, the first one running now, the last one open."""
    count = draw(st.integers(min_value=1, max_value=4))
    gaps = draw(st.lists(st.integers(1, 10**7), min_size=count, max_size=count))
    start = NOW - gaps[0]
    windows: list[tuple[int, int | None]] = []
    for index in range(count):
        end = None if index == count - 1 else start + gaps[index] + 10**6
        windows.append((start, end))
        start = end if end is not None else start
    return windows


@settings(max_examples=60, deadline=None)
@given(
    windows=sequential_windows(),
    names=st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), unique=True,
                   min_size=4, max_size=4),
    ids=st.lists(st.from_regex(r"[A-Za-z0-9]{6}", fullmatch=True), unique=True,
                 min_size=4, max_size=4),
)  # fmt: skip
def test_matching_windows_plan_no_changes(
    windows: list[tuple[int, int | None]], names: list[str], ids: list[str]
) -> None:
    declared: dict[str, Any] = {}
    live: list[dict[str, Any]] = []
    for (start, end), name, live_id in zip(windows, names, ids, strict=False):
        spec: dict[str, Any] = {"country": "US", "country_options": OPTIONS, "active_from": start}
        if end is not None:
            spec["expires_at"] = end
        declared[name] = spec
        live.append(
            {
                "id": f"taxreg_{live_id}",
                "country": "US",
                "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
                "active_from": start,
                "expires_at": end,
                "status": "active" if start <= NOW else "scheduled",
            }
        )
    manifest = Manifest.model_validate({"version": 1, "tax_registrations": declared})
    plan = build_plan(manifest, live_state({"tax_registrations": live}), now=NOW)
    assert plan.summary.line() == "No changes."
    assert plan.reports == ()


@settings(max_examples=40, deadline=None)
@given(windows=sequential_windows(), delay=st.integers(0, 10**7))
def test_a_window_created_later_than_its_past_start_keeps_its_twin(
    windows: list[tuple[int, int | None]], delay: int
) -> None:
    """Stripe cannot backdate, so the running window was created `now`, after its declared
    start: it is still that window's twin, and the plan has nothing to do (issue 14 item 4)."""
    declared: dict[str, Any] = {}
    live: list[dict[str, Any]] = []
    for index, (start, end) in enumerate(windows):
        spec: dict[str, Any] = {"country": "US", "country_options": OPTIONS, "active_from": start}
        if end is not None:
            spec["expires_at"] = end
        declared[f"w{index}"] = spec
        began = min(start + delay, NOW) if index == 0 else start
        live.append(
            {
                "id": f"taxreg_{index}",
                "country": "US",
                "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
                "active_from": began,
                "expires_at": end,
                "status": "active" if began <= NOW else "scheduled",
            }
        )
    manifest = Manifest.model_validate({"version": 1, "tax_registrations": declared})
    plan = build_plan(manifest, live_state({"tax_registrations": live}), now=NOW)
    assert plan.summary.line() == "No changes."

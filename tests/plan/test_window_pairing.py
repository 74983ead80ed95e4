"""Windows of one natural key keep their own live twins, whatever the names and ids (finding 2)."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
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


DAY = 86_400
HEAD_OFFICE = {"status": "active", "head_office": {"address": {"country": "US", "state": "CA"}}}


def _overlaps(a: tuple[int, int | None], b: tuple[int, int | None]) -> bool:
    """``[start, end)`` windows, ``None`` an open end."""
    a_end = float("inf") if a[1] is None else a[1]
    b_end = float("inf") if b[1] is None else b[1]
    return a[0] < b_end and b[0] < a_end


@st.composite
def live_windows(draw: st.DrawFn) -> list[tuple[int, int | None]]:
    """Windows of one key in Stripe, one after another (gaps allowed): the first one running
    now, the others scheduled; the last one open or not."""
    count = draw(st.integers(1, 4))
    start = NOW - draw(st.integers(1, 400)) * DAY
    windows: list[tuple[int, int | None]] = []
    for index in range(count):
        length = draw(st.integers(1, 400)) * DAY
        if index == 0:
            length = max(length, NOW - start + DAY)  # the first one is still running
        last = index == count - 1
        end = None if last and draw(st.booleans()) else start + length
        windows.append((start, end))
        if end is None:
            break
        start = end + draw(st.sampled_from([0, 0, DAY, 30 * DAY]))
    return windows


def _registration(live_id: str, window: tuple[int, int | None]) -> dict[str, Any]:
    return {
        "id": live_id,
        "country": "US",
        "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
        "active_from": window[0],
        "expires_at": window[1],
        "status": "active" if window[0] <= NOW else "scheduled",
    }


def _declared(window: tuple[int, int | None]) -> dict[str, Any]:
    spec: dict[str, Any] = {"country": "US", "country_options": OPTIONS, "active_from": window[0]}
    if window[1] is not None:
        spec["expires_at"] = window[1]
    return spec


@settings(max_examples=150, deadline=None)
@given(
    windows=live_windows(),
    kept=st.lists(st.booleans(), min_size=4, max_size=4),
    start=st.integers(1, 1500),
    length=st.one_of(st.none(), st.integers(1, 600)),
)
def test_a_new_window_pairs_with_the_nearest_live_one_and_never_moves_a_declared_one(
    windows: list[tuple[int, int | None]], kept: list[bool], start: int, length: int | None
) -> None:
    """A declared window that matches no live one exactly takes, of the live registrations no
    other declared window matches, one whose window overlaps it if any does, and of those the
    one whose start is nearest to its own: that is the registration to move (or the plan would
    end one that is right and reschedule another). A live registration whose window is declared
    as it is is never moved to cover the new one, whatever the names."""
    live = [_registration(f"taxreg_{index}", w) for index, w in enumerate(windows)]
    copies = [w for w, keep in zip(windows, kept, strict=False) if keep]
    new = (NOW + start * DAY // 4, None if length is None else NOW + (start + length) * DAY // 4)
    assume(new not in windows)
    assume(not any(_overlaps(new, w) for w in copies))  # validation refuses overlapping windows
    declared = {f"copy{index}": _declared(w) for index, w in enumerate(copies)}
    declared["new"] = _declared(new)
    manifest = Manifest.model_validate({"version": 1, "tax_registrations": declared})
    plan = build_plan(
        manifest, live_state({"tax_registrations": live, "tax_settings": HEAD_OFFICE}), now=NOW
    )

    free = [obj for obj, w in zip(live, windows, strict=True) if w not in copies]
    overlapping = [obj for obj in free if _overlaps(new, (obj["active_from"], obj["expires_at"]))]
    pool = overlapping or free
    distances = sorted(abs(new[0] - obj["active_from"]) for obj in pool)
    assume(len(distances) < 2 or distances[0] != distances[1])  # a tie: names decide
    by_address = {a.address: a for a in plan.actions}
    assert all(f"tax_registrations.{name}" not in by_address for name in declared if name != "new")
    action = by_address["tax_registrations.new"]
    if not pool:
        assert action.action.value == "create"
        return
    nearest = min(pool, key=lambda obj: abs(new[0] - obj["active_from"]))
    assert action.live_id == nearest["id"], action
    assert action.action.value == "update"
    assert {c.path: c.after for c in action.changes} == {
        path: value
        for path, value in (("active_from", new[0]), ("expires_at", new[1]))
        if value != nearest[path]
    }

"""How the plan comment spends its room, exactly (``render_markdown``).

The room is the limit, less one (the comment must stay *under* it), less the head, less 300
characters kept for the truncation note. Reports and warnings (the tail) take at most half of
the room: a longer tail is cut after the last line that fits whole, and says so. Resources are
then shown in order while they fit whole beside the tail; the rest are counted in the note.
Each test sits on an edge, where one character more or less of room changes the output.
"""

from __future__ import annotations

import pytest

from reconciler.plan.model import Action, ActionType, FieldChange, Plan, Report
from reconciler.plan.render import PlanView, build_view, markdown_details, render_markdown

NOTE_RESERVE = 300
UNMANAGED = "unmanaged: https://example.com/hand (enabled) (policy.unmanaged: report)"
TRUNCATED = "- … (list truncated)\n\n"


def _reports(count: int) -> tuple[Report, ...]:
    # equal widths, so each line of the tail is as long as the next
    return tuple(
        Report(
            "webhook_endpoints", f"webhook_endpoints[we_{i:03}]", UNMANAGED, live_id=f"we_{i:03}"
        )
        for i in range(count)
    )


def _actions(count: int) -> list[Action]:
    return [
        Action(
            kind="webhook_endpoints",
            address=f"webhook_endpoints.e{i:03}",
            action=ActionType.UPDATE,
            reason="fields differ",
            live_id=f"we_e{i:03}",
            changes=(FieldChange("description", "old", "new"),),
        )
        for i in range(count)
    ]


def _head(view: PlanView) -> str:
    whole = render_markdown(view, limit=10**9)
    return whole[
        : min(whole.find(mark) for mark in ("<details>", "**Reported", "<sub>") if mark in whole)
    ]


def _limit(view: PlanView, room: int) -> int:
    """The limit that leaves exactly ``room`` for resources and the tail."""
    return room + 1 + len(_head(view)) + NOTE_RESERVE


def _checksum(view: PlanView) -> str:
    return f"<sub>checksum `{view.checksum}`</sub>\n"


REPORTS_VIEW = build_view(Plan(reports=_reports(40)))
LINE = f"- `webhook_endpoints[we_000]`: {UNMANAGED}\n"
TITLE = "**Reported, no action**\n\n"


def _report_lines(count: int) -> str:
    return "".join(f"- `webhook_endpoints[we_{i:03}]`: {UNMANAGED}\n" for i in range(count))


@pytest.mark.parametrize(
    ("room", "lines"),
    [
        # half the room ends right after the 7th line's newline: 7 lines; one less, 6
        (2 * (len(TITLE) + 7 * len(LINE)), 7),
        (2 * (len(TITLE) + 7 * len(LINE)) - 1, 6),
        # half the room ends right before the 8th line's newline: still 7 lines
        (2 * (len(TITLE) + 8 * len(LINE) - 1) + 1, 7),
        (2 * (len(TITLE) + 8 * len(LINE)), 8),
    ],
)
def test_a_long_tail_is_cut_after_the_last_line_within_half_the_room(room: int, lines: int) -> None:
    comment = render_markdown(REPORTS_VIEW, limit=_limit(REPORTS_VIEW, room))
    assert comment == (
        _head(REPORTS_VIEW) + TITLE + _report_lines(lines) + TRUNCATED + _checksum(REPORTS_VIEW)
    )
    assert len(comment) < _limit(REPORTS_VIEW, room)


def test_a_tail_of_exactly_half_the_room_is_shown_whole() -> None:
    view = build_view(Plan(reports=_reports(12)))
    tail = TITLE + _report_lines(12) + "\n" + _checksum(view)
    whole = render_markdown(view, limit=_limit(view, 2 * len(tail)))
    assert whole == _head(view) + tail
    # a character less in half the room, and it is cut
    assert TRUNCATED in render_markdown(view, limit=_limit(view, 2 * len(tail) - 2))


ACTIONS_VIEW = build_view(Plan.of(_actions(10), list(_reports(6)), [], 0))
BLOCK = len(markdown_details(ACTIONS_VIEW.actions[0]))
TAIL = TITLE + _report_lines(6) + "\n" + _checksum(ACTIONS_VIEW)


def _note(hidden: int, total: int) -> str:
    return (
        f"> ✂️ Truncated: {hidden} of {total} resources not shown to keep this comment under "
        "65,536 characters. Run `stripe-reconciler plan` for the full plan.\n\n"
    )


@pytest.mark.parametrize(
    ("room", "shown"),
    [
        (4 * BLOCK + len(TAIL), 4),  # four blocks and the tail fill the room exactly
        (4 * BLOCK + len(TAIL) - 1, 3),
        (5 * BLOCK + len(TAIL) - 1, 4),
        (5 * BLOCK + len(TAIL), 5),
    ],
)
def test_resources_are_shown_while_they_fit_whole_beside_the_tail(room: int, shown: int) -> None:
    assert all(len(markdown_details(a)) == BLOCK for a in ACTIONS_VIEW.actions)
    assert len(TAIL) <= room // 2  # the tail is not cut here
    comment = render_markdown(ACTIONS_VIEW, limit=_limit(ACTIONS_VIEW, room))
    blocks = "".join(markdown_details(a) for a in ACTIONS_VIEW.actions[:shown])
    assert comment == _head(ACTIONS_VIEW) + blocks + _note(10 - shown, 10) + TAIL
    assert len(comment) < _limit(ACTIONS_VIEW, room)

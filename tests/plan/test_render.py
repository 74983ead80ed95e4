"""Renderers: exact text, colour on request, the markdown cap, stable JSON and checksums."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from markdown_structure import (
    HOSTILE,
    HOSTILE_DESIRED,
    HOSTILE_KEY,
    HOSTILE_LIVE,
    HOSTILE_URL,
    as_code,
    cell_text,
    forbidden_inline,
    html_tags,
    list_items,
    one_line,
    only_code,
    paragraphs,
    parse,
    stray_html,
    tables,
)
from plan_helpers import plan_of
from render_fixture import DESIRED, LIVE, small_plan

from reconciler.plan.model import Action, ActionType, FieldChange, Plan
from reconciler.plan.render import (
    MARKDOWN_LIMIT,
    build_view,
    format_value,
    render,
    render_json,
    render_markdown,
    render_text,
)

EXPECTED_TEXT = """\
  + webhook_endpoints.billing: create
      # no endpoint is tagged with this name
      url: (none) → "https://example.com/billing"
      enabled_events: (none) → ["invoice.paid"]
      connect: (none) → false
      metadata.managed_by: (none) → "stripe-reconciler"
      metadata.reconciler_connect: (none) → "false"
      metadata.reconciler_name: (none) → "billing"

  - webhook_endpoints.gone[we_gone]: delete
      # tagged as managed by stripe-reconciler but no longer declared

  ~ webhook_endpoints.orders: update (we_orders)
      # fields differ
      enabled_events: ["invoice.paid"] → ["charge.refunded", "invoice.paid"]

  x tax_registrations.us-ca: expire (taxreg_ca)
      # expires_at: now ends this registration
      expires_at: (none) → "now"

Reported, no action:
  ? webhook_endpoints[we_hand]: unmanaged: https://example.com/hand (disabled) \
(policy.unmanaged: report)

Plan: 1 to create, 1 to update, 0 to replace, 1 to delete, 1 to expire.
"""


def test_text_is_exact() -> None:
    assert render_text(build_view(small_plan())) == EXPECTED_TEXT


def test_text_no_changes() -> None:
    assert render_text(build_view(Plan())) == "No changes.\n"


def test_adopt_counts_as_update_and_uses_tilde() -> None:
    plan = plan_of(
        {
            "version": 1,
            "webhook_endpoints": {"a": {"url": "https://x.io", "enabled_events": ["*"]}},
        },
        {
            "webhook_endpoints": [
                {"id": "we_1", "url": "https://x.io", "enabled_events": ["*"], "metadata": {}}
            ]
        },
    )
    text = render_text(build_view(plan))
    assert text.startswith("  ~ webhook_endpoints.a: adopt (we_1)\n")
    assert text.endswith(
        "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire.\n"
    )


def test_colour_only_when_asked() -> None:
    view = build_view(small_plan())
    assert "\x1b[" not in render_text(view)
    coloured = render_text(view, color=True)
    assert "\x1b[32m+ webhook_endpoints.billing\x1b[0m: create" in coloured
    assert "\x1b[31m- webhook_endpoints.gone[we_gone]\x1b[0m: delete" in coloured
    assert render(view, "text", color=False) == render_text(view)


def test_markdown_has_summary_table_and_details_per_resource() -> None:
    markdown = render_markdown(build_view(small_plan()))
    assert "**Plan: 1 to create, 1 to update, 0 to replace, 1 to delete, 1 to expire.**" in markdown
    assert "| 1 | 1 | 0 | 1 | 1 | 0 |" in markdown
    assert markdown.count("<details>") == 4
    assert markdown.count("</details>") == 4
    assert (
        '| `enabled_events` | `["invoice.paid"]` | `["charge.refunded", "invoice.paid"]` |'
        in markdown
    )
    assert "Truncated" not in markdown


def _huge_plan(count: int) -> Plan:
    actions = [
        Action(
            kind="webhook_endpoints",
            address=f"webhook_endpoints.e{i:05d}",
            action=ActionType.UPDATE,
            reason="fields differ",
            live_id=f"we_{i}",
            changes=tuple(FieldChange(f"metadata.k{j}", "a" * 80, "b" * 80) for j in range(5)),
        )
        for i in range(count)
    ]
    return Plan.of(actions, [], [], 0)


def test_markdown_is_capped_with_a_truncation_note() -> None:
    plan = _huge_plan(2000)
    markdown = render_markdown(build_view(plan))
    assert len(markdown) < MARKDOWN_LIMIT
    shown = markdown.count("<details>")
    assert 0 < shown < 2000
    assert f"Truncated: {2000 - shown} of 2000 resources not shown" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")


def test_markdown_small_limit_still_respected() -> None:
    markdown = render_markdown(build_view(_huge_plan(50)), limit=5000)
    assert len(markdown) < 5000
    assert "Truncated" in markdown


def test_json_is_versioned_stable_and_byte_identical() -> None:
    first = render_json(build_view(plan_of(DESIRED, LIVE)))
    second = render_json(build_view(plan_of(DESIRED, LIVE)))
    assert first == second
    document = json.loads(first)
    assert document["format_version"] == 1
    assert document["summary"] == {
        "create": 1,
        "update": 1,
        "replace": 0,
        "delete": 1,
        "expire": 1,
        "unchanged": 0,
    }
    assert [a["address"] for a in document["actions"]] == [
        "webhook_endpoints.billing",
        "webhook_endpoints.gone[we_gone]",
        "webhook_endpoints.orders",
        "tax_registrations.us-ca",
    ]
    assert document["checksum"] == small_plan().checksum


def test_checksum_is_independent_of_live_order_and_changes_with_content() -> None:
    shuffled = {**LIVE, "webhook_endpoints": list(reversed(LIVE["webhook_endpoints"]))}
    assert plan_of(DESIRED, shuffled).checksum == small_plan().checksum
    changed = {
        **DESIRED,
        "webhook_endpoints": {
            **DESIRED["webhook_endpoints"],
            "billing": {"url": "https://example.com/b2", "enabled_events": ["invoice.paid"]},
        },
    }
    assert plan_of(changed, LIVE).checksum != small_plan().checksum
    assert len(small_plan().checksum) == 64


def test_target_restricts_actions_and_reports() -> None:
    plan = small_plan().only(("webhook_endpoints.orders", "tax_registrations"))
    assert [a.address for a in plan.actions] == [
        "webhook_endpoints.orders",
        "tax_registrations.us-ca",
    ]
    assert plan.reports == ()


def test_timestamps_are_shown_with_their_utc_date() -> None:
    plan = plan_of(
        {
            "version": 1,
            "tax_registrations": {
                "us-ca": {
                    "country": "US",
                    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
                    "expires_at": "2027-12-31T00:00:00Z",
                }
            },
        },
        {
            "tax_registrations": [
                {
                    "id": "taxreg_1",
                    "country": "US",
                    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
                    "active_from": 1700000000,
                    "expires_at": None,
                    "status": "active",
                }
            ]
        },
    )
    view = build_view(plan)
    assert "      expires_at: (none) → 1830211200 (2027-12-31T00:00:00Z)\n" in render_text(view)
    assert "| `expires_at` | `—` | `1830211200 (2027-12-31T00:00:00Z)` |" in render_markdown(view)
    assert json.loads(render_json(view))["actions"][0]["changes"][0]["after"] == 1830211200


@pytest.mark.parametrize(
    ("value", "path", "shown"),
    [
        (None, "description", "(none)"),
        ("Büro → Lager", "description", '"Büro → Lager"'),  # text as written
        # maps with their keys sorted, however Stripe ordered them
        (
            {"line1": "Main St 1", "country": "US", "state": {"z": 1, "a": 2}},
            "head_office.address",
            '{"country": "US", "line1": "Main St 1", "state": {"a": 2, "z": 1}}',
        ),
        (1830211200, "expires_at", "1830211200 (2027-12-31T00:00:00Z)"),
        (1830211200, "country_options.us.active_from", "1830211200 (2027-12-31T00:00:00Z)"),
        # only the timestamp fields are read as dates
        (1830211200, "", "1830211200"),
        (True, "disabled", "true"),
    ],
)
def test_format_value(value: object, path: str, shown: str) -> None:
    assert format_value(value, path) == shown


def test_a_timestamp_no_date_can_show_is_shown_as_a_number() -> None:
    """Manifests refuse such values; a live object may carry one, and rendering must not crash."""
    plan = plan_of(
        {
            "version": 1,
            "tax_registrations": {
                "us-ca": {
                    "country": "US",
                    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
                    "expires_at": "2027-12-31T00:00:00Z",
                }
            },
        },
        {
            "tax_registrations": [
                {
                    "id": "taxreg_1",
                    "country": "US",
                    "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
                    "active_from": 1700000000,
                    "expires_at": 10**30,
                    "status": "active",
                }
            ]
        },
    )
    view = build_view(plan)
    assert f"      expires_at: {10**30} → 1830211200 (2027-12-31T00:00:00Z)\n" in render_text(view)
    assert f"| `expires_at` | `{10**30}` |" in render_markdown(view)
    assert format_value(253402300799, "active_from") == "253402300799 (9999-12-31T23:59:59Z)"
    assert format_value(253402300800, "active_from") == "253402300800"
    assert format_value(-(10**20), "expires_at") == str(-(10**20))


def _shown(value: object) -> str:
    """A value as a plan cell shows it: JSON, backticks as ', at most 300 characters."""
    text = as_code(format_value(value))
    return text if len(text) <= 300 else text[:299] + "…"


def test_markdown_structure_survives_hostile_values() -> None:
    view = build_view(plan_of(HOSTILE_DESIRED, HOSTILE_LIVE))
    tokens = parse(render_markdown(view))
    assert stray_html(tokens) == []
    assert forbidden_inline(tokens) == []
    assert html_tags(tokens, "<details>") == html_tags(tokens, "</details>") == 2
    summary, changes = tables(tokens)
    assert [cell_text(cell) for cell in summary.rows[0]] == ["0", "1", "0", "1", "0", "0"]
    assert [cell_text(cell) for cell in changes.header] == ["field", "before", "after"]
    shown = {
        only_code(path): (only_code(before), only_code(after))
        for path, before, after in (changes.rows)
    }
    assert shown == {
        "url": (_shown(HOSTILE_URL), _shown("https://example.com/orders")),
        "description": (_shown(HOSTILE), _shown("Orders")),
        as_code(f"metadata.{HOSTILE_KEY}"): (_shown("v"), "—"),
        "metadata.team": (_shown(HOSTILE), _shown("payments")),
    }
    assert paragraphs(tokens) == [
        "Plan: 0 to create, 1 to update, 0 to replace, 1 to delete, 0 to expire.",
        "tagged as managed by stripe-reconciler but no longer declared",
        "fields differ",
        "Reported, no action",
        f"<sub>checksum {view.checksum}</sub>",
    ]
    assert list_items(tokens) == [
        f"webhook_endpoints[we_hand]: unmanaged: {one_line(HOSTILE_URL)} (enabled) "
        "(policy.unmanaged: report)"
    ]


FULL_DESIRED: dict[str, Any] = {
    "version": 1,
    "webhook_endpoints": {
        "orders": {"url": "https://example.com/hooks", "enabled_events": ["invoice.paid"]}
    },
    "tax_registrations": {
        "us-ca": {
            "country": "US",
            "country_options": {"us": {"type": "state_sales_tax", "state": "CA"}},
            "active_from": 1900000000,
        }
    },
}
FULL_LIVE: dict[str, Any] = {
    "webhook_endpoints": [
        {"id": f"we_{x}", "url": "https://example.com/hooks", "enabled_events": ["invoice.paid"]}
        for x in "ba"
    ],
    "tax_registrations": [
        {
            "id": "taxreg_1",
            "country": "US",
            "country_options": {"us": {"state": "CA", "type": "state_sales_tax"}},
            "active_from": 1910000000,
            "expires_at": None,
            "status": "scheduled",
        }
    ],
    "tax_settings": {"status": "active", "head_office": {"address": {"country": "US"}}},
}
UNMANAGED = "unmanaged: https://example.com/hooks (enabled) (policy.unmanaged: report)"
NOT_ADOPTED = (
    "webhook_endpoints.orders: 2 untagged endpoints already use https://example.com/hooks "
    "(we_a, we_b); not adopting either, a new endpoint will be created"
)
EXPECTED_FULL_TEXT = f"""\
  + webhook_endpoints.orders: create
      # no endpoint is tagged with this name
      url: (none) → "https://example.com/hooks"
      enabled_events: (none) → ["invoice.paid"]
      connect: (none) → false
      metadata.managed_by: (none) → "stripe-reconciler"
      metadata.reconciler_connect: (none) → "false"
      metadata.reconciler_name: (none) → "orders"

  ~ tax_registrations.us-ca: update (taxreg_1)
      # time window differs
      active_from: 1910000000 (2030-07-11T11:33:20Z) → 1900000000 (2030-03-17T17:46:40Z)

Reported, no action:
  ? webhook_endpoints[we_a]: {UNMANAGED}
  ? webhook_endpoints[we_b]: {UNMANAGED}

Warnings:
  ! {NOT_ADOPTED}

Plan: 1 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire.
"""


def test_text_with_reports_and_warnings_is_exact_and_painted_on_request() -> None:
    view = build_view(plan_of(FULL_DESIRED, FULL_LIVE))
    assert render_text(view) == EXPECTED_FULL_TEXT
    coloured = render_text(view, color=True)
    assert "  \x1b[36m?\x1b[0m webhook_endpoints[we_a]: " in coloured
    assert f"  \x1b[33m!\x1b[0m {NOT_ADOPTED}\n" in coloured
    assert "  \x1b[33m~ tax_registrations.us-ca\x1b[0m: update (taxreg_1)\n" in coloured
    assert re.sub("\x1b\\[[0-9]+m", "", coloured) == EXPECTED_FULL_TEXT


def test_render_picks_the_format() -> None:
    view = build_view(plan_of(FULL_DESIRED, FULL_LIVE))
    assert render(view, "text", color=True) == render_text(view, color=True)
    assert render(view, "text") == render_text(view)
    assert render(view, "json") == render_json(view)
    assert render(view, "markdown") == render_markdown(view)


def test_json_is_the_documented_document() -> None:
    """The JSON plan (README "Plan JSON format"): every key of an action, a change and a report,
    indented with sorted keys, text as written."""
    orders = {**FULL_DESIRED["webhook_endpoints"]["orders"], "description": "Büro → Lager"}
    desired = {**FULL_DESIRED, "webhook_endpoints": {"orders": orders}}
    text = render_json(build_view(plan_of(desired, FULL_LIVE)))
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert '"after": "Büro → Lager"' in text
    document = json.loads(text)
    assert sorted(document) == [
        "actions",
        "checksum",
        "format_version",
        "reports",
        "summary",
        "summary_line",
        "warnings",
    ]
    assert document["actions"][1] == {
        "action": "update",
        "kind": "tax_registrations",
        "address": "tax_registrations.us-ca",
        "live_id": "taxreg_1",
        "reason": "time window differs",
        "changes": [{"path": "active_from", "before": 1910000000, "after": 1900000000}],
        "requests": [
            {
                "step": "update",
                "method": "POST",
                "path": "/v1/tax/registrations/taxreg_1",
                "params": {"active_from": 1900000000},
            }
        ],
        "warnings": [],
    }
    assert document["reports"][0] == {
        "kind": "webhook_endpoints",
        "address": "webhook_endpoints[we_a]",
        "live_id": "we_a",
        "message": UNMANAGED,
    }
    assert document["warnings"] == [NOT_ADOPTED]


def test_markdown_lists_reports_and_warnings_after_the_resources() -> None:
    view = build_view(plan_of(FULL_DESIRED, FULL_LIVE))
    comment = render_markdown(view)
    assert comment.startswith(
        "### stripe-reconciler plan\n\n"
        "**Plan: 1 to create, 1 to update, 0 to replace, 0 to delete, 0 to expire.**\n\n"
        "| create | update | replace | delete | expire | unchanged |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
        "| 1 | 1 | 0 | 0 | 0 | 0 |\n\n"
    )
    assert comment.endswith(
        "</details>\n\n"
        "**Reported, no action**\n\n"
        f"- `webhook_endpoints[we_a]`: {UNMANAGED}\n"
        f"- `webhook_endpoints[we_b]`: {UNMANAGED}\n\n"
        "**Warnings**\n\n"
        f"- ⚠️ {NOT_ADOPTED}\n\n"
        f"<sub>checksum `{view.checksum}`</sub>\n"
    )


def test_markdown_shows_an_actions_warning_and_shortens_long_values() -> None:
    events = [f"event.number_{i:03}" for i in range(40)]
    plan = plan_of(
        {
            "version": 1,
            "webhook_endpoints": {
                "orders": {"url": "https://x.io/h", "enabled_events": events, "api_version": "b"}
            },
        },
        {
            "webhook_endpoints": [
                {
                    "id": "we_1",
                    "url": "https://x.io/h",
                    "enabled_events": ["*"],
                    "api_version": "a",
                    "metadata": {
                        "managed_by": "stripe-reconciler",
                        "reconciler_name": "orders",
                        "reconciler_connect": "false",
                    },
                }
            ]
        },
    )
    details = render_markdown(build_view(plan))
    assert (
        "> ⚠️ webhook_endpoints.orders: replacing creates a new endpoint with a new signing "
        "secret; consumers must switch to the new secret\n</details>"
    ) in details
    row = next(line for line in details.splitlines() if line.startswith("| `enabled_events`"))
    after = row.split(" | ")[2].removesuffix(" |")
    assert len(after) == 300 + 2 and after.endswith("…`") and after.startswith('`["event.')


def test_a_value_is_shortened_only_past_the_limit() -> None:
    from reconciler.plan import markdown

    assert markdown.code("x" * 300, limit=300) == "`" + "x" * 300 + "`"
    assert markdown.code("x" * 301, limit=300) == "`" + "x" * 299 + "…`"
    assert markdown.code("a|b", table=True) == "`a\\|b`"

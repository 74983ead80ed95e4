"""Renderers over one drift report: exact text, stable JSON, markdown limits, GitHub commands."""

from __future__ import annotations

import dataclasses
import json

import pytest
from markdown_structure import (
    HOSTILE_DESIRED,
    HOSTILE_KEY,
    HOSTILE_LIVE,
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

from reconciler.drift.check import drift_from_plan
from reconciler.drift.model import DriftKind, DriftReport, FieldDrift, ResourceDrift
from reconciler.drift.render import (
    describe_change,
    render,
    render_github,
    render_json,
    render_markdown,
    render_text,
)
from reconciler.manifest.diagnostics import Location
from reconciler.manifest.model import Manifest
from reconciler.plan.builder import build_plan
from reconciler.resources.base import LiveState

SECRET = "whsec_" + "s" * 20
KEY = "sk_test_" + "k" * 24


def _report(*drift: ResourceDrift, checked: int = 5) -> DriftReport:
    return DriftReport(
        account_id="acct_1",
        mode="test",
        stripe_account=None,
        checked_at="2026-11-26T03:17:00Z",
        resources_checked=checked,
        drift=drift,
        tax_settings_status="active",
        tool_version="0.1.0",
    )


CHANGED = ResourceDrift(
    address="webhook_endpoints.orders",
    kind="webhook_endpoints",
    drift=DriftKind.CHANGED,
    message="fields differ from the manifest",
    live_id="we_1",
    changes=(
        FieldDrift("url", "https://a.example/hook", "https://b.example/hook"),
        FieldDrift("enabled_events", ["invoice.paid", "charge.failed"], ["invoice.paid", "x.y"]),
    ),
)
MISSING = ResourceDrift(
    address="webhook_endpoints.billing",
    kind="webhook_endpoints",
    drift=DriftKind.MISSING,
    message="declared but not found in Stripe",
)
UNMANAGED = ResourceDrift(
    address="webhook_endpoints[we_9]",
    kind="webhook_endpoints",
    drift=DriftKind.UNMANAGED,
    message="not declared: https://c.example/x",
    live_id="we_9",
)
PENDING = ResourceDrift(
    address="tax_settings",
    kind="tax_settings",
    drift=DriftKind.PENDING,
    message="tax settings are pending; missing fields: head_office",
)


def test_in_sync_text_is_one_line() -> None:
    assert render_text(_report(checked=7)) == "No drift: 7 resources in sync.\n"
    assert render_text(_report(checked=1)) == "No drift: 1 resource in sync.\n"


def test_text_lists_every_drifted_resource_in_kind_then_address_order() -> None:
    text = render_text(_report(UNMANAGED, MISSING, PENDING, CHANGED))
    assert text == (
        "Drift detected in acct_1 (test mode):\n"
        "\n"
        "… tax_settings: pending — tax settings are pending; missing fields: head_office\n"
        "- webhook_endpoints.billing: missing — declared but not found in Stripe\n"
        "~ webhook_endpoints.orders (we_1): changed — fields differ from the manifest\n"
        '    url: declared "https://a.example/hook", live "https://b.example/hook"\n'
        '    enabled_events: live adds "x.y"; live lacks "charge.failed"\n'
        "? webhook_endpoints[we_9]: unmanaged — not declared: https://c.example/x\n"
        "\n"
        "Drift: 1 changed, 1 missing, 1 unmanaged, 1 pending.\n"
    )


def test_text_colour_only_when_asked() -> None:
    report = _report(MISSING)
    assert "\x1b[" not in render_text(report)
    assert "\x1b[31m- webhook_endpoints.billing: missing\x1b[0m" in render_text(report, color=True)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (FieldDrift("description", None, "x"), 'description: declared (none), live "x"'),
        (FieldDrift("disabled", False, True), "disabled: declared false, live true"),
        (FieldDrift("metadata", {"a": "1"}, {}), 'metadata: declared {"a": "1"}, live {}'),
        (FieldDrift("enabled_events", ["a"], ["a", "b"]), 'enabled_events: live adds "b"'),
        # same set in another order: nothing to add or lack, fall back to the plain form
        (FieldDrift("e", ["a", "b"], ["b", "a"]), 'e: declared ["a", "b"], live ["b", "a"]'),
        # timestamps as plan shows them
        (
            FieldDrift("expires_at", 1830211200, 1767225600),
            "expires_at: declared 1830211200 (2027-12-31T00:00:00Z), "
            "live 1767225600 (2026-01-01T00:00:00Z)",
        ),
        (
            FieldDrift("active_from", "now", 1767225600),
            'active_from: declared "now", live 1767225600 (2026-01-01T00:00:00Z)',
        ),
    ],
)
def test_describe_change(change: FieldDrift, expected: str) -> None:
    assert describe_change(change) == expected


def test_json_document_is_versioned_and_complete() -> None:
    document = json.loads(render_json(_report(CHANGED, PENDING)))
    assert document == {
        "format_version": 1,
        "tool_version": "0.1.0",
        "checked_at": "2026-11-26T03:17:00Z",
        "account": {"id": "acct_1", "mode": "test", "stripe_account": None},
        "in_sync": False,
        "summary": {"resources_checked": 5, "drifted": 2, "by_drift": {"changed": 1, "pending": 1}},
        "tax_settings_status": "active",
        "drift": [
            {
                "address": "tax_settings",
                "kind": "tax_settings",
                "drift": "pending",
                "id": None,
                "message": "tax settings are pending; missing fields: head_office",
                "changes": [],
            },
            {
                "address": "webhook_endpoints.orders",
                "kind": "webhook_endpoints",
                "drift": "changed",
                "id": "we_1",
                "message": "fields differ from the manifest",
                "changes": [
                    {
                        "path": "url",
                        "declared": "https://a.example/hook",
                        "live": "https://b.example/hook",
                    },
                    {
                        "path": "enabled_events",
                        "declared": ["invoice.paid", "charge.failed"],
                        "live": ["invoice.paid", "x.y"],
                    },
                ],
            },
        ],
    }


def test_json_in_sync() -> None:
    document = json.loads(render_json(_report()))
    assert document["in_sync"] is True
    assert document["drift"] == []
    assert document["summary"] == {"resources_checked": 5, "drifted": 0, "by_drift": {}}


def test_secrets_are_masked_in_every_format() -> None:
    leaky = ResourceDrift(
        address="webhook_endpoints.orders",
        kind="webhook_endpoints",
        drift=DriftKind.CHANGED,
        message=f"someone pasted {KEY}",
        changes=(FieldDrift("metadata.note", SECRET, f"https://x.example/?k={KEY}"),),
    )
    report = _report(leaky)
    for output_format in ("text", "json", "markdown", "github"):
        out = render(report, output_format)
        assert SECRET not in out and KEY not in out, output_format
        assert "(sensitive)" in out, output_format


def test_markdown_table_and_details() -> None:
    md = render_markdown(_report(CHANGED, MISSING))
    assert md.startswith(
        "### Stripe drift — acct_1 (test mode)\n\n**Drift: 1 changed, 1 missing.**\n\n"
        "| resource | drift | what |\n|---|---|---|\n"
        "| `webhook_endpoints.billing` | missing | declared but not found in Stripe |\n"
        "| `webhook_endpoints.orders` | changed | fields differ from the manifest |\n"
    )
    assert md.count("<details>") == 2
    assert md.endswith(
        "\n<details><summary><code>webhook_endpoints.billing</code> — missing</summary>\n"
        "\ndeclared but not found in Stripe\n"
        "\n</details>\n"
        "\n<details><summary><code>webhook_endpoints.orders</code> — changed</summary>\n"
        "\nStripe id: `we_1`\n"
        "\nfields differ from the manifest\n"
        '\n- `url: declared "https://a.example/hook", live "https://b.example/hook"`'
        '\n- `enabled_events: live adds "x.y"; live lacks "charge.failed"`\n'
        "\n</details>\n"
    )
    assert '- `url: declared "https://a.example/hook", live "https://b.example/hook"`' in md


def test_markdown_escapes_pipes_in_cells() -> None:
    item = ResourceDrift("tax_settings", "tax_settings", DriftKind.PENDING, "a | b")
    assert "| `tax_settings` | pending | a \\| b |" in render_markdown(_report(item))


def test_markdown_truncates_with_a_note_under_the_limit() -> None:
    many = [
        ResourceDrift(
            f"tax_registrations.r{i:03d}",
            "tax_registrations",
            DriftKind.MISSING,
            "declared but not found " + "x" * 200,
        )
        for i in range(300)
    ]
    md = render_markdown(_report(*many), limit=20_000)
    assert len(md) <= 20_000
    rows = md.count("| missing |")
    assert 0 < rows < 300
    assert md.endswith(
        f"\n_{300 - rows} more drifted resources not shown (rows): output truncated at 20000 "
        "characters; use `--format json` for the full report._\n"
    )
    assert "<details>" not in md


def test_markdown_drops_details_before_rows() -> None:
    many = [
        ResourceDrift(f"tax_registrations.r{i}", "tax_registrations", DriftKind.MISSING, "gone")
        for i in range(40)
    ]
    md = render_markdown(_report(*many), limit=4_000)
    assert len(md) <= 4_000
    assert md.count("| missing |") == 40
    shown = md.count("<details>")
    assert 0 < shown < 40
    assert f"_{40 - shown} more drifted resources not shown (details)" in md


def test_markdown_in_sync() -> None:
    assert render_markdown(_report(checked=3)) == (
        "### Stripe drift — acct_1 (test mode)\n\n**No drift: 3 resources in sync.**\n"
    )


def test_github_emits_one_warning_per_resource_with_escaping() -> None:
    out = render_github(_report(CHANGED, MISSING))
    lines = out.splitlines()
    assert lines == [
        "::warning title=Stripe drift%3A webhook_endpoints.billing (missing)::"
        "declared but not found in Stripe",
        "::warning title=Stripe drift%3A webhook_endpoints.orders (changed)::"
        "fields differ from the manifest"
        '%0Aurl: declared "https://a.example/hook", live "https://b.example/hook"'
        '%0Aenabled_events: live adds "x.y"; live lacks "charge.failed"',
        "Drift: 1 changed, 1 missing.",
    ]


def test_github_escapes_percent_and_commas_in_titles() -> None:
    item = ResourceDrift("webhook_endpoints.a,b", "webhook_endpoints", DriftKind.MISSING, "50%")
    assert render_github(_report(item)).splitlines()[0] == (
        "::warning title=Stripe drift%3A webhook_endpoints.a%2Cb (missing)::50%25"
    )


def test_github_in_sync_has_no_annotation() -> None:
    assert render_github(_report(checked=2)) == "No drift: 2 resources in sync.\n"


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown drift format 'yaml'"):
        render(_report(), "yaml")


def test_markdown_structure_survives_hostile_values() -> None:
    """The live account's values (plan's hostile fixture) in every part of drift's markdown."""
    manifest = Manifest.model_validate(HOSTILE_DESIRED)
    live = LiveState(
        objects={
            "webhook_endpoints": tuple(HOSTILE_LIVE["webhook_endpoints"]),
            "tax_registrations": (),
            "tax_settings": (),
        }
    )
    report = drift_from_plan(
        build_plan(manifest, live, check_limits=False),
        manifest,
        live,
        account_id="acct_1",
        mode="test",
        stripe_account=None,
        checked_at="2026-11-26T03:17:00Z",
    )
    assert [item.drift for item in report.drift] == [
        DriftKind.ORPHANED,  # tagged with the hostile name
        DriftKind.CHANGED,
        DriftKind.UNMANAGED,
    ]
    tokens = parse(render_markdown(report))
    assert stray_html(tokens) == []
    assert forbidden_inline(tokens) == []
    assert html_tags(tokens, "<details>") == html_tags(tokens, "</details>") == 3
    (table,) = tables(tokens)
    assert [cell_text(cell) for cell in table.header] == ["resource", "drift", "what"]
    assert [
        (only_code(address), cell_text(drift), cell_text(what))
        for address, drift, what in table.rows
    ] == [(as_code(i.address), i.drift.value, one_line(i.message)) for i in report.drift]
    changed = report.drift[1]
    assert list_items(tokens) == [as_code(describe_change(c)) for c in changed.changes]
    assert {"url", "description", f"metadata.{HOSTILE_KEY}", "metadata.team"} <= {
        c.path for c in changed.changes
    }
    assert [one_line(i.message) for i in report.drift] == [
        p for p in paragraphs(tokens) if not p.startswith(("Drift", "Stripe id"))
    ]


def test_github_points_each_declared_resource_at_its_manifest_line() -> None:
    duplicate = dataclasses.replace(
        UNMANAGED, address="webhook_endpoints.orders[we_2]", drift=DriftKind.ORPHANED
    )
    locations = {
        "webhook_endpoints.orders": Location("stripe/hooks.yaml", 7, 3),
        "webhook_endpoints.billing": Location("stripe/a,b:c.yaml", 12, 3),
        "tax_settings": Location("stripe/tax.yaml", 2, 1),
    }
    lines = render_github(_report(CHANGED, MISSING, UNMANAGED, duplicate), locations=locations)
    assert [line.split("::")[1] for line in lines.splitlines()[:-1]] == [
        "warning file=stripe/a%2Cb%3Ac.yaml,line=12,col=3,"
        "title=Stripe drift%3A webhook_endpoints.billing (missing)",
        "warning file=stripe/hooks.yaml,line=7,col=3,"
        "title=Stripe drift%3A webhook_endpoints.orders (changed)",
        # live objects nobody declared (a duplicate of a declared name too) have no file
        "warning title=Stripe drift%3A webhook_endpoints.orders[we_2] (orphaned)",
        "warning title=Stripe drift%3A webhook_endpoints[we_9] (unmanaged)",
    ]
    assert render(_report(CHANGED), "github", locations=locations).startswith(
        "::warning file=stripe/hooks.yaml,line=7,col=3,"
    )

"""No format leaks a key or signing secret; the plan file round-trips and detects tampering."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from plan_helpers import plan_of
from render_fixture import DESIRED, LIVE, small_plan

from reconciler.errors import PlanFileError
from reconciler.manifest.model import Manifest
from reconciler.plan.planfile import PlanFile, dump_plan_file, load_plan_file
from reconciler.plan.render import build_view, render

API_KEY = "sk_test_" + "k" * 24
SECRET = "whsec_" + "s" * 32

LEAKY_LIVE = {
    "webhook_endpoints": [
        {
            # a create response carries the secret; someone pasted it and the key into fields
            "id": "we_1",
            "url": "https://example.com/orders",
            "enabled_events": ["invoice.paid"],
            "status": "enabled",
            "secret": SECRET,
            "description": f"key {API_KEY}",
            "metadata": {
                "managed_by": "stripe-reconciler",
                "reconciler_name": "orders",
                "reconciler_connect": "false",
                "signing": SECRET,
            },
        },
        {
            "id": "we_2",
            "url": f"https://example.com/hook?token={SECRET}",
            "enabled_events": ["*"],
            "status": "enabled",
            "metadata": {"note": API_KEY},
        },
    ]
}

LEAKY_DESIRED = {
    "version": 1,
    "webhook_endpoints": {
        "orders": {
            "url": "https://example.com/orders",
            "enabled_events": ["invoice.paid", "charge.failed"],
        }
    },
}


def _plan_file(desired: dict[str, object], live: dict[str, object]) -> PlanFile:
    return PlanFile(
        account_id="acct_123",
        mode="test",
        stripe_account=None,
        api_version="2026-09-30.endive",
        desired=Manifest.model_validate(desired),
        plan=plan_of(desired, live),
        targets=("webhook_endpoints",),
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_no_format_contains_the_key_or_the_secret(fmt: str) -> None:
    plan = plan_of(LEAKY_DESIRED, LEAKY_LIVE)
    # the plan really touches the leaky values: description and metadata.signing change
    paths = [c.path for a in plan.actions for c in a.changes]
    assert "description" in paths
    assert "metadata.signing" in paths
    output = render(build_view(plan, secrets=(API_KEY,)), fmt)
    assert SECRET not in output
    assert API_KEY not in output
    assert "whsec_" not in output
    assert "(sensitive)" in output


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_no_format_shows_a_password_in_a_live_url(fmt: str) -> None:
    """Manifests refuse credentials in URLs; one set in the Dashboard is still masked."""
    live = {
        "webhook_endpoints": [
            {
                "id": "we_1",
                "url": "https://deploy:hunter2@example.com/orders",
                "enabled_events": ["invoice.paid"],
                "status": "enabled",
                "metadata": {
                    "managed_by": "stripe-reconciler",
                    "reconciler_name": "orders",
                    "reconciler_connect": "false",
                },
            },
            {
                "id": "we_2",
                "url": "https://ops:hunter2@example.com/other",
                "enabled_events": ["*"],
                "status": "enabled",
                "metadata": {},
            },
        ]
    }
    plan = plan_of(LEAKY_DESIRED, live)
    assert [c.path for a in plan.actions for c in a.changes if c.path == "url"] == ["url"]
    output = render(build_view(plan), fmt)
    assert "hunter2" not in output
    assert "https://(sensitive)@example.com/orders" in output
    assert "https://(sensitive)@example.com/other" in output


def test_plan_file_contains_neither() -> None:
    text = dump_plan_file(_plan_file(LEAKY_DESIRED, LEAKY_LIVE), secrets=(API_KEY,))
    assert SECRET not in text
    assert API_KEY not in text
    assert "whsec_" not in text


def test_dump_refuses_when_a_secret_would_be_written() -> None:
    desired = {
        "version": 1,
        "webhook_endpoints": {
            "a": {"url": "https://x.io", "enabled_events": ["*"], "description": API_KEY}
        },
    }
    with pytest.raises(PlanFileError, match="would contain a key or secret"):
        dump_plan_file(_plan_file(desired, {}), secrets=(API_KEY,))


def test_plan_file_round_trips() -> None:
    original = _plan_file(DESIRED, LIVE)
    loaded = load_plan_file(dump_plan_file(original))
    assert loaded == original
    assert loaded.plan.checksum == small_plan().checksum
    assert loaded.checksum == original.checksum
    document = json.loads(dump_plan_file(original))
    assert document["format_version"] == 1
    assert document["account"] == {"id": "acct_123", "mode": "test", "stripe_account": None}
    fingerprints = [a["fingerprint"] for a in document["plan"]["actions"]]
    assert fingerprints[0] is None  # a create has no live object
    assert all(len(f) == 64 for f in fingerprints[1:])


def test_the_writers_version_is_kept() -> None:
    """A file written by another version loads as that version wrote it (its checksum too)."""
    original = replace(_plan_file(DESIRED, LIVE), tool_version="0.0.1")
    loaded = load_plan_file(dump_plan_file(original))
    assert loaded.tool_version == "0.0.1"
    assert loaded.checksum == original.checksum


def test_plan_file_is_byte_identical_across_runs() -> None:
    assert dump_plan_file(_plan_file(DESIRED, LIVE)) == dump_plan_file(_plan_file(DESIRED, LIVE))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["account"].update(id="acct_999"), "checksum does not match"),
        (lambda d: d["plan"]["actions"].pop(), "checksum does not match"),
        (lambda d: d.update(checksum="0" * 64), "checksum does not match"),
        (lambda d: d.update(format_version=99), "format_version 99 is not supported"),
    ],
)
def test_tampering_is_detected(edit: object, message: str) -> None:
    document = json.loads(dump_plan_file(_plan_file(DESIRED, LIVE)))
    edit(document)  # type: ignore[operator]
    with pytest.raises(PlanFileError, match=message):
        load_plan_file(json.dumps(document))


def test_garbage_is_a_plan_file_error() -> None:
    with pytest.raises(PlanFileError, match="not valid JSON"):
        load_plan_file("{not json")
    with pytest.raises(PlanFileError, match="not a JSON object"):
        load_plan_file("[]")


def test_the_live_ids_seen_are_kept_sorted_and_sealed() -> None:
    """apply --plan tells objects created after the plan by the ids the file says it saw."""
    original = replace(_plan_file(DESIRED, LIVE), seen=("we_2", "we_1"))
    text = dump_plan_file(original)
    assert json.loads(text)["seen"] == ["we_1", "we_2"]
    assert load_plan_file(text).seen == ("we_1", "we_2")
    assert json.loads(dump_plan_file(_plan_file(DESIRED, LIVE)))["seen"] is None


def test_the_file_is_indented_sorted_json_that_keeps_unicode() -> None:
    """Plan files are reviewed and diffed: one key per line, keys sorted, text as written."""
    desired = {
        "version": 1,
        "webhook_endpoints": {
            "orders": {
                "url": "https://example.com/orders",
                "enabled_events": ["invoice.paid"],
                "description": "Bestellungen → Büro",
            }
        },
    }
    text = dump_plan_file(_plan_file(desired, {}))
    assert text.endswith("}\n")
    assert '"description": "Bestellungen → Büro"' in text
    assert text.startswith('{\n  "account": {\n    "id": "acct_123",\n')
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_signing_secret_is_refused_without_being_told_it() -> None:
    leaky = replace(_plan_file(DESIRED, LIVE), targets=("whsec_" + "t" * 24,))
    with pytest.raises(PlanFileError) as refused:
        dump_plan_file(leaky)
    assert str(refused.value) == "refusing to write a plan file that would contain a key or secret"


def test_a_given_secret_is_masked_inside_lists_and_maps() -> None:
    """Exact secrets handed to the view (the API key the run uses) are masked wherever they
    sit in a value, however deep, as the key patterns are; in a map's keys too (the request
    that removes a metadata key names it)."""
    token = "opaque-token-" + "q" * 12
    live = {
        "webhook_endpoints": [
            {
                "id": "we_1",
                "url": "https://example.com/orders",
                "enabled_events": ["invoice.paid", token],
                "status": "enabled",
                "metadata": {
                    "managed_by": "stripe-reconciler",
                    "reconciler_name": "orders",
                    "reconciler_connect": "false",
                    "note": token,
                    token: "x",
                },
            }
        ]
    }
    view = build_view(plan_of(LEAKY_DESIRED, live), secrets=(token,))
    for fmt in ("text", "json", "markdown"):
        assert token not in render(view, fmt)
    changes = {c.path: c.before for c in view.actions[0].changes}
    assert changes == {
        "enabled_events": ["invoice.paid", "(sensitive)"],
        "metadata.note": "(sensitive)",
        "metadata.(sensitive)": "x",
    }
    assert view.actions[0].requests[0]["params"]["metadata"] == {"note": "", "(sensitive)": ""}


def test_reasons_and_warnings_that_quote_a_live_id_are_masked_in_the_plan_itself() -> None:
    """The plan file is written from the plan, not from a rendered view, so the builder masks
    every text that quotes live state once: here ids that carry a key, which a reason ("the
    duplicate of which object") and an adoption warning name."""
    kept, adopted = f"we_{API_KEY}", f"we_x{API_KEY}"
    tags = {"managed_by": "stripe-reconciler", "reconciler_connect": "false"}
    orders = {"url": "https://example.com/orders", "enabled_events": ["invoice.paid"]}
    billing = {"url": "https://example.com/billing", "enabled_events": ["invoice.paid"]}
    live = {
        "webhook_endpoints": [
            # the kept twin matches the manifest, so no action names its id
            {**orders, "id": kept, "created": 2, "metadata": {**tags, "reconciler_name": "orders"}},
            {
                **orders,
                "id": "we_old",
                "created": 1,
                "metadata": {**tags, "reconciler_name": "orders"},
            },
            {**billing, "id": adopted, "metadata": {}},
        ]
    }
    desired = {"version": 1, "webhook_endpoints": {"orders": orders, "billing": billing}}
    plan = plan_of(desired, live)
    assert [(a.address, a.reason, a.warnings) for a in plan.actions] == [
        (
            "webhook_endpoints.billing",
            "exactly one untagged endpoint has the declared URL",
            (
                "webhook_endpoints.billing: adopting we_x(sensitive); its signing secret stays "
                "unknown to stripe-reconciler (roll it in the Dashboard to get one)",
            ),
        ),
        ("webhook_endpoints.orders[we_old]", "duplicate of we_(sensitive) (orders)", ()),
    ]
    # the kept twin's id is quoted only by texts: the file holds it nowhere
    assert kept not in dump_plan_file(_plan_file(desired, live))

"""A plan file is validated whole: any content with a valid checksum loads or is a PlanFileError.

The checksum only says the file is what some writer wrote; a hand-edited file with a recomputed
checksum (or a file from another tool) must still never reach apply as a TypeError, KeyError or
AttributeError. Hypothesis mutates a real plan file, recomputes both checksums and checks that
loading either succeeds (and the result renders) or raises PlanFileError.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_helpers import plan_of
from render_fixture import DESIRED, LIVE

from reconciler.cli.main import cli
from reconciler.errors import PlanFileError
from reconciler.manifest.model import Manifest
from reconciler.plan.model import sha256_of
from reconciler.plan.planfile import PlanFile, dump_plan_file, load_plan_file
from reconciler.plan.render import build_view, render


def _document() -> dict[str, Any]:
    plan_file = PlanFile(
        account_id="acct_123",
        mode="test",
        stripe_account=None,
        api_version="2026-09-30.endive",
        desired=Manifest.model_validate(DESIRED),
        plan=plan_of(DESIRED, LIVE),
        targets=("webhook_endpoints",),
    )
    document: dict[str, Any] = json.loads(dump_plan_file(plan_file))
    return document


DOCUMENT = _document()


def _resealed(document: Any) -> str:
    """The document with both checksums recomputed, as a careful forger would."""
    # what a forger can write is JSON: a mutation that put an index into a mapping (the list
    # it stood for was replaced) is a string key there, as json.dumps writes it
    document = json.loads(json.dumps(document))
    if isinstance(document, dict):
        document = dict(document)
        document.pop("checksum", None)
        if isinstance(document.get("plan"), (dict, list)):
            document["plan_checksum"] = sha256_of(document["plan"])
        document["checksum"] = sha256_of(document)
    return json.dumps(document)


def _sealed_only_outside(document: dict[str, Any]) -> str:
    """The document with its outer checksum recomputed and its plan_checksum left as it is."""
    document = {k: v for k, v in document.items() if k != "checksum"}
    return json.dumps({**document, "checksum": sha256_of(document)})


def _edited(edit: Callable[[dict[str, Any]], object]) -> str:
    document = copy.deepcopy(DOCUMENT)
    edit(document)
    return _resealed(document)


def test_the_untouched_document_loads() -> None:
    assert load_plan_file(_resealed(DOCUMENT)).account_id == "acct_123"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(account="x"), "account: expected a mapping, got a string"),
        (lambda d: d.update(plan=1.5), "plan: expected a mapping, got a number (1.5)"),
        (
            lambda d: d["account"].update(id=7),
            'account.id: expected a string, got a number (7); quote it: "7"',
        ),
        (
            lambda d: d["account"].update(id="x"),
            "account.id: 'x' does not match the pattern ^acct_[A-Za-z0-9]+$",
        ),
        (
            lambda d: d["account"].update(mode="prod"),
            "account.mode: 'prod' is not allowed; expected 'test' or 'live'",
        ),
        (lambda d: d.pop("api_version"), "api_version: missing required key 'api_version'"),
        (lambda d: d.update(targets="webhook_endpoints"), "targets: expected a list, got a string"),
        (
            lambda d: d["plan"].update(unchanged="3"),
            "plan.unchanged: expected a whole number, got '3'; write the number without quotes",
        ),
        (lambda d: d["plan"].update(unchanged=-1), "plan.unchanged: must be at least 0, got -1"),
        (
            lambda d: d["plan"]["actions"][0].update(kind="customers"),
            "plan.actions[0].kind: 'customers' is not allowed; expected 'tax_settings', "
            "'webhook_endpoints', 'event_destinations' or 'tax_registrations'",
        ),
        (
            lambda d: d["plan"]["actions"][0].update(action="destroy"),
            "plan.actions[0].action: 'destroy' is not allowed; expected 'create', 'update', "
            "'adopt', 'replace', 'delete' or 'expire'",
        ),
        (
            lambda d: d["plan"]["actions"][0].update(protected="no"),
            "plan.actions[0].protected: expected true or false, got 'no' (only these two words, "
            "unquoted, are booleans)",
        ),
        (
            lambda d: d["plan"]["actions"][0]["requests"][0].update(method="PATCH"),
            "plan.actions[0].requests[0].method: 'PATCH' is not allowed; expected 'GET', 'POST' "
            "or 'DELETE'",
        ),
        (
            lambda d: d["plan"]["actions"][0]["requests"][0].update(params=[]),
            "plan.actions[0].requests[0].params: expected a mapping, got a list",
        ),
        (
            lambda d: d["plan"]["reports"].append({}),
            "plan.reports[1].kind: missing required key 'kind' (and 3 more)",
        ),
        (
            lambda d: d.update(colour="blue"),
            "colour: unknown key 'colour'; allowed: account, api_version, desired, format_version, "
            "plan, plan_checksum, seen, targets, tool_version",
        ),
        (
            lambda d: d["desired"].update(version=2),
            "desired: version: 2 is not allowed; expected 1",
        ),
        (
            lambda d: d["account"].update(id=7, mode="prod"),
            'account.id: expected a string, got a number (7); quote it: "7" (and 1 more)',
        ),
    ],
)
def test_a_resealed_edit_is_refused_with_its_place(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan_file(_edited(edit))
    assert str(caught.value) == f"plan file is malformed (edited by hand?): {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "plan file is not a JSON object"),
        (
            json.dumps({**DOCUMENT, "plan_checksum": "0" * 64}),
            "plan file checksum does not match its content: it was modified",
        ),
        (
            _sealed_only_outside({**DOCUMENT, "plan_checksum": "0" * 64}),
            "plan file actions do not match their checksum",
        ),
        (
            json.dumps({k: v for k, v in DOCUMENT.items() if k != "checksum"}),
            "plan file checksum does not match its content: it was modified",
        ),
    ],
    ids=["not-an-object", "edited", "actions-resealed-without-their-checksum", "no-checksum"],
)
def test_documents_that_are_no_plan_file(text: str, message: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan_file(text)
    assert str(caught.value) == message


def test_a_plan_with_reports_warnings_protection_and_unchanged_resources_round_trips() -> None:
    desired = {
        "version": 1,
        "webhook_endpoints": {
            "orders": {
                "url": "https://example.com/hooks",
                "enabled_events": ["invoice.paid"],
                "lifecycle": {"protect": True},
            },
            "kept": {"url": "https://example.com/kept", "enabled_events": ["invoice.paid"]},
        },
    }
    untagged = {"url": "https://example.com/hooks", "enabled_events": ["invoice.paid"]}
    kept = {
        "id": "we_k",
        "url": "https://example.com/kept",
        "enabled_events": ["invoice.paid"],
        "metadata": {
            "managed_by": "stripe-reconciler",
            "reconciler_name": "kept",
            "reconciler_connect": "false",
        },
    }
    live = {"webhook_endpoints": [{"id": "we_a", **untagged}, {"id": "we_b", **untagged}, kept]}
    plan = plan_of(desired, live)
    assert plan.reports and plan.warnings and plan.unchanged == 1
    assert [a.protected for a in plan.actions] == [True]  # apply --plan must still refuse
    original = PlanFile(
        account_id=None,
        mode="live",
        stripe_account="acct_9",
        api_version="2026-09-30.endive",
        desired=Manifest.model_validate(desired),
        plan=plan,
    )
    loaded = load_plan_file(dump_plan_file(original).encode())
    assert loaded == original
    assert loaded.plan.warnings == plan.warnings and loaded.plan.unchanged == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (bytes(range(256)), "plan file is not UTF-8 text (byte 0x80 at offset 128)"),
        (b"\xff\xfe{}", "plan file is not UTF-8 text (byte 0xff at offset 0)"),
        (b"[" * 100_000 + b"]" * 100_000, "plan file is nested too deeply to be a plan file"),
        (b"{\x00}", "plan file is not valid JSON: "),
    ],
)
def test_bytes_that_are_no_plan_file(raw: bytes, message: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan_file(raw)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("raw", [bytes(range(256)) * 4, b"version: 1\n\xe9\n"])
def test_apply_plan_on_a_binary_file_is_one_error_line(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(raw)
    result = CliRunner().invoke(cli, ["apply", "--plan", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: plan file is not UTF-8 text (byte ")
    assert len(result.stderr.splitlines()) == 1


# -- property: a resealed mutation loads or is a PlanFileError --------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


PATHS = [path for path in _paths(DOCUMENT) if path[0] != "checksum"]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(DOCUMENT)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()):
                parent[path[-1]] = draw(JSON)
            else:
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this place
    return document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=mutated() | JSON)
def test_any_resealed_content_loads_or_is_a_plan_file_error(document: Any) -> None:
    try:
        loaded = load_plan_file(_resealed(document))
    except PlanFileError:
        return
    view = build_view(loaded.plan)
    for fmt in ("text", "markdown", "json"):
        render(view, fmt)


def test_a_plan_of_event_destinations_round_trips() -> None:
    """v2 requests (``/v2/core/event_destinations``, its ``…/disable``) load back from a file."""
    desired = {
        "version": 1,
        "event_destinations": {
            "bridge": {
                "type": "amazon_eventbridge",
                "event_payload": "snapshot",
                "enabled_events": ["invoice.paid"],
                "amazon_eventbridge": {"aws_account_id": "123456789012", "aws_region": "eu-west-1"},
                "disabled": True,
            }
        },
    }
    plan_file = PlanFile(
        account_id="acct_123",
        mode="test",
        stripe_account=None,
        api_version="2026-09-30.endive",
        desired=Manifest.model_validate(desired),
        plan=plan_of(desired),
        targets=(),
    )
    loaded = load_plan_file(dump_plan_file(plan_file))
    assert [r.path for a in loaded.plan.actions for r in a.requests] == [
        "/v2/core/event_destinations",
        "/v2/core/event_destinations/{new_id}/disable",
    ]

"""One small table per Field option, as the Terraform framework's ``requires_replace_test.go``:
a declared model and a live object in, the field changes, the replace decision and the request
params out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from reconciler.resources.changes import FieldChange
from reconciler.resources.differ import (
    create_changes,
    create_params,
    diff,
    have_document,
    update_params,
    want_document,
)
from reconciler.resources.fields import Absence, Field, OnChange, read_path, shadow_value


class Declared(BaseModel):
    """A declared resource with every shape a field can read (extra fields allowed)."""

    model_config = ConfigDict(extra="allow")


def plan(
    fields: tuple[Field, ...],
    declared: Mapping[str, Any],
    live: Mapping[str, Any],
    *,
    ignore: tuple[str, ...] = (),
    now: int = 0,
) -> tuple[list[tuple[str, Any, Any]], tuple[str, ...], dict[str, Any]]:
    """(changes, replace fields, update params) for one declared model against one live object."""
    want = want_document(fields, Declared(**declared))
    have = have_document(fields, live)
    result = diff(fields, have, want, ignore, obj=live, now=now)
    changes = [(c.path, c.before, c.after) for c in result.changes]
    return changes, result.replaced, update_params(fields, result.changes, want)


# -- on_change: update | replace (RequiresReplace) ---------------------------------------------

REPLACE = (Field("version", on_change=OnChange.REPLACE), Field("name"))


@pytest.mark.parametrize(
    ("declared", "live", "changes", "replaced"),
    [
        ({"version": "a", "name": "x"}, {"version": "a", "name": "x"}, [], ()),
        ({"version": "a", "name": "y"}, {"version": "a", "name": "x"}, [("name", "x", "y")], ()),
        (
            {"version": "b", "name": "x"},
            {"version": "a", "name": "x"},
            [("version", "a", "b")],
            ("version",),
        ),
        # what forces the replace is listed first, whatever the declaration order
        (
            {"version": "b", "name": "y"},
            {"version": "a", "name": "x"},
            [("version", "a", "b"), ("name", "x", "y")],
            ("version",),
        ),
    ],
    ids=["equal", "update-only", "replace", "replace-listed-first"],
)
def test_on_change(
    declared: dict[str, Any],
    live: dict[str, Any],
    changes: list[Any],
    replaced: tuple[str, ...],
) -> None:
    found, found_replaced, params = plan(REPLACE, declared, live)
    assert (found, found_replaced) == (changes, replaced)
    assert "version" not in params  # a replace field never goes into an update


def test_replace_reasons_are_sorted_and_deduplicated() -> None:
    fields = (
        Field("zeta", on_change=OnChange.REPLACE),
        Field("tags", map_valued=True, on_change=OnChange.REPLACE),
        Field("alpha", on_change=OnChange.REPLACE),
    )
    _, replaced, _ = plan(
        fields,
        {"zeta": 2, "alpha": 2, "tags": {"a": "2", "b": "2"}},
        {"zeta": 1, "alpha": 1, "tags": {"a": "1", "b": "1"}},
    )
    assert replaced == ("alpha", "tags", "zeta")


# -- set_valued ---------------------------------------------------------------------------------

SETS = (Field("events", set_valued=True),)


@pytest.mark.parametrize(
    ("declared", "live", "changes"),
    [
        (["b", "a"], ["a", "b"], []),
        (["a", "a", "b"], ["b", "a"], []),
        (["a", "c"], ["b", "a"], [("events", ["a", "b"], ["a", "c"])]),
    ],
    ids=["order", "duplicates", "member-changed"],
)
def test_set_valued(declared: list[str], live: list[str], changes: list[Any]) -> None:
    found, _, params = plan(SETS, {"events": declared}, {"events": live})
    assert found == changes
    assert params == ({"events": ["a", "c"]} if changes else {})


def test_a_desired_reader_may_hand_back_a_set() -> None:
    """Only models are dumped: any other value a reader returns is read as the field reads."""
    fields = (Field("events", set_valued=True, desired=lambda d: set(d.events)),)
    want = want_document(fields, Declared(events=["b", "a", "b"]))
    assert want == {"events": ["a", "b"]}


# -- map_valued: one change per key; a removed key is cleared ---------------------------------

MAPS = (Field("metadata", map_valued=True, clear=""),)


@pytest.mark.parametrize(
    ("declared", "live", "changes", "params"),
    [
        ({"a": "1"}, {"a": "1"}, [], {}),
        ({"a": "2"}, {"a": "1"}, [("metadata.a", "1", "2")], {"metadata": {"a": "2"}}),
        ({}, {"a": "1"}, [("metadata.a", "1", None)], {"metadata": {"a": ""}}),
        (
            {"b": "2", "a": "1"},
            {"c": "3", "a": "1"},
            [("metadata.b", None, "2"), ("metadata.c", "3", None)],
            {"metadata": {"b": "2", "c": ""}},
        ),
        # a key with dots is one key
        (
            {"team.owner": "x"},
            {},
            [("metadata.team.owner", None, "x")],
            {"metadata": {"team.owner": "x"}},
        ),
    ],
    ids=["equal", "value-changed", "key-removed", "keys-added-and-removed", "dotted-key"],
)
def test_map_valued(
    declared: dict[str, str],
    live: dict[str, str],
    changes: list[Any],
    params: dict[str, Any],
) -> None:
    assert plan(MAPS, {"metadata": declared}, {"metadata": live})[::2] == (changes, params)


def test_whole_map_is_sent_whole_without_absent_parts() -> None:
    fields = (Field("address", map_valued=True, whole=True, absence=Absence.NEVER_UNSET),)
    changes, _, params = plan(
        fields,
        {"address": {"city": "Berlin", "line1": "B 2", "state": None}},
        {"address": {"city": "Berlin", "line1": "A 1", "state": "CA"}},
    )
    assert changes == [("address.line1", "A 1", "B 2"), ("address.state", "CA", None)]
    assert params == {"address": {"city": "Berlin", "line1": "B 2"}}


def test_whole_map_leaves_empty_parts_out_and_the_fields_after_it_are_sent_too() -> None:
    fields = (
        Field("address", map_valued=True, whole=True, absence=Absence.NEVER_UNSET),
        Field("name"),
    )
    changes, _, params = plan(
        fields,
        {"address": {"city": "Berlin", "line2": ""}, "name": "HQ"},
        {"address": {"city": "Munich", "line2": "Hof"}, "name": "Office"},
    )
    assert changes == [
        ("address.city", "Munich", "Berlin"),
        ("address.line2", "Hof", ""),
        ("name", "Office", "HQ"),
    ]
    assert params == {"address": {"city": "Berlin"}, "name": "HQ"}


# -- absence: default | clear | unmanaged | never_unset ----------------------------------------


@pytest.mark.parametrize(
    ("field", "declared", "live", "changes", "params"),
    [
        # default: missing = null = the default, on both sides
        (Field("d", absence=Absence.DEFAULT, default=""), None, None, [], {}),
        (Field("d", absence=Absence.DEFAULT, default=""), None, "", [], {}),
        (Field("d", absence=Absence.DEFAULT, default=""), "", None, [], {}),
        (Field("d", absence=Absence.DEFAULT, default=""), None, "x", [("d", "x", "")], {"d": ""}),
        # clear: absent is a value an update sets with the clear value
        (Field("c", clear=""), None, 5, [("c", 5, None)], {"c": ""}),
        (Field("c", clear=""), None, None, [], {}),
        # unmanaged: absent never changes anything; declared it is compared
        (Field("u", absence=Absence.UNMANAGED), None, "live", [], {}),
        (
            Field("u", absence=Absence.UNMANAGED),
            "mine",
            "live",
            [("u", "live", "mine")],
            {"u": "mine"},
        ),
        # never_unset: absent stops managing it; declared it is compared
        (Field("n", absence=Absence.NEVER_UNSET), None, "live", [], {}),
        (Field("n", absence=Absence.NEVER_UNSET), "x", "live", [("n", "live", "x")], {"n": "x"}),
    ],
    ids=[
        "default-both-missing",
        "default-null-vs-default",
        "default-default-vs-null",
        "default-live-set",
        "clear-unsets",
        "clear-both-absent",
        "unmanaged-absent",
        "unmanaged-declared",
        "never-unset-absent",
        "never-unset-declared",
    ],
)
def test_absence(
    field: Field, declared: Any, live: Any, changes: list[Any], params: dict[str, Any]
) -> None:
    field = dataclasses.replace(field)  # built here, not at collection: __post_init__ under test
    assert plan((field,), {field.path: declared}, {field.path: live})[::2] == (changes, params)


def test_an_omitted_unmanaged_replace_field_never_forces_a_replace() -> None:
    field = Field("api_version", on_change=OnChange.REPLACE, absence=Absence.UNMANAGED)
    assert plan((field,), {}, {"api_version": "2024-06-20"}) == ([], (), {})


def test_a_never_unset_field_has_no_clear_value() -> None:
    with pytest.raises(ValueError, match="never unset"):
        Field("n", absence=Absence.NEVER_UNSET, clear="")


def test_only_a_default_absence_has_a_default() -> None:
    """Anything else reads as absent, so a default there would never be what it reads."""
    with pytest.raises(ValueError) as refused:
        Field("c", default="x")
    assert str(refused.value) == "c: only a field whose absence is DEFAULT has a default"


def test_reserved_and_whole_are_for_maps() -> None:
    with pytest.raises(ValueError, match="map fields only"):
        Field("name", reserved=frozenset({"x"}))


@pytest.mark.parametrize(
    ("source", "path", "value"),
    [
        ({"webhook_endpoint": {"url": "https://x"}}, "webhook_endpoint.url", "https://x"),
        (Declared(webhook_endpoint=Declared(url="https://x")), "webhook_endpoint.url", "https://x"),
        ({"webhook_endpoint": None}, "webhook_endpoint.url", None),
        ({}, "webhook_endpoint.url", None),
        (Declared(), "webhook_endpoint.url", None),
        ({"webhook_endpoint": "https://x"}, "webhook_endpoint.url", None),
    ],
    ids=["mapping", "model", "null-part", "missing-key", "missing-attribute", "a-text-part"],
)
def test_read_path(source: Any, path: str, value: Any) -> None:
    """Dotted paths into a mapping or a model (a create's answer, a declared model): a part
    that is missing, null or neither reads as None."""
    assert read_path(source, path) == value


@pytest.mark.parametrize(
    ("value", "recorded"),
    [(True, "true"), (False, "false"), ("EU-Central-1", "EU-Central-1"), (7, "7")],
)
def test_shadow_value(value: Any, recorded: str) -> None:
    """Flags are recorded as Stripe's metadata spells them; a text exactly as declared."""
    assert shadow_value(value) == recorded


# -- reserved keys are never ignored ----------------------------------------------------------

RESERVED = (Field("metadata", map_valued=True, clear="", reserved=frozenset({"ours"})),)


@pytest.mark.parametrize(
    "ignore", [("metadata",), ("metadata.*",), ("*",), ("metadata.ours", "metadata.team")]
)
def test_ignore_changes_never_covers_reserved_keys(ignore: tuple[str, ...]) -> None:
    changes, _, params = plan(
        RESERVED,
        {"metadata": {"team": "a"}},
        {"metadata": {"team": "b", "ours": "true"}},
        ignore=ignore,
    )
    assert changes == [("metadata.ours", "true", None)]
    assert params == {"metadata": {"ours": ""}}


@pytest.mark.parametrize(
    ("ignore", "changes"),
    [
        ((), [("description", "live", "mine"), ("metadata.team", "b", "a")]),
        (("description",), [("metadata.team", "b", "a")]),
        (("metadata",), [("description", "live", "mine")]),
        (("metadata.team",), [("description", "live", "mine")]),
        (("meta*",), [("description", "live", "mine")]),
        (("*",), []),
    ],
    ids=["none", "exact", "parent", "key", "glob", "all"],
)
def test_ignore_changes_keeps_live_values(ignore: tuple[str, ...], changes: list[Any]) -> None:
    fields = (Field("description"), *RESERVED)
    found, _, _ = plan(
        fields,
        {"description": "mine", "metadata": {"team": "a"}},
        {"description": "live", "metadata": {"team": "b"}},
        ignore=ignore,
    )
    assert found == changes


# -- live reader, shadow, on_create ------------------------------------------------------------

DISABLED = Field(
    "disabled",
    absence=Absence.DEFAULT,
    default=False,
    live=lambda obj: obj.get("status") == "disabled",
    on_create=False,
)


@pytest.mark.parametrize(
    ("declared", "status", "changes"),
    [
        (False, "enabled", []),
        (True, "disabled", []),
        (False, "disabled", [("disabled", True, False)]),
        (True, None, [("disabled", False, True)]),
    ],
)
def test_live_reader(declared: bool, status: str | None, changes: list[Any]) -> None:
    assert plan((DISABLED,), {"disabled": declared}, {"status": status})[0] == changes


def test_on_create_false_is_shown_but_not_sent_on_create() -> None:
    fields = (Field("url"), DISABLED)
    want = want_document(fields, Declared(url="u", disabled=True))
    assert create_changes(fields, want) == (
        FieldChange("url", None, "u"),
        FieldChange("disabled", None, True),
    )
    assert create_params(fields, want) == {"url": "u"}
    # its default says nothing on create
    enabled = want_document(fields, Declared(url="u", disabled=False))
    assert create_changes(fields, enabled) == (FieldChange("url", None, "u"),)


SHADOWED = (
    Field("connect", on_change=OnChange.REPLACE, shadow=("metadata", "recorded")),
    Field("metadata", map_valued=True, clear=""),
)


@pytest.mark.parametrize(
    ("declared", "recorded", "changes", "replaced"),
    [
        (True, "true", [], ()),
        # unknown live value (never recorded): not compared; the record itself is written
        (True, None, [("metadata.recorded", None, "true")], ()),
        (
            True,
            "false",
            [("connect", False, True), ("metadata.recorded", "false", "true")],
            ("connect",),
        ),
    ],
    ids=["recorded-equal", "unknown", "recorded-differs"],
)
def test_shadow(
    declared: bool, recorded: str | None, changes: list[Any], replaced: tuple[str, ...]
) -> None:
    live = {"metadata": {} if recorded is None else {"recorded": recorded}}
    found, found_replaced, _ = plan(SHADOWED, {"connect": declared, "metadata": {}}, live)
    assert (found, found_replaced) == (changes, replaced)


def test_a_shadowed_value_is_recorded_on_create() -> None:
    want = want_document(SHADOWED, Declared(connect=False, metadata={"team": "a"}))
    assert create_params(SHADOWED, want) == {
        "connect": False,
        "metadata": {"recorded": "false", "team": "a"},
    }


# -- equivalent (semantic equality) and the desired reader -------------------------------------


def _started(declared: Any, obj: Mapping[str, Any], now: int) -> bool:
    return declared == "now" and obj.get("status") == "active"


@pytest.mark.parametrize(
    ("declared", "live", "changes"),
    [
        ("now", {"start": 100, "status": "active"}, []),
        ("now", {"start": 100, "status": "scheduled"}, [("start", 100, "now")]),
        (100, {"start": 100, "status": "scheduled"}, []),
    ],
)
def test_equivalent(declared: Any, live: dict[str, Any], changes: list[Any]) -> None:
    assert plan((Field("start", equivalent=_started),), {"start": declared}, live)[0] == changes


def test_desired_reader_and_nested_paths() -> None:
    fields = (
        Field("endpoint.url"),
        Field("labels", map_valued=True, desired=lambda d: {"name": d.name}),
    )
    declared = Declared(endpoint=Declared(url="https://x"), name="n")
    want = want_document(fields, declared)
    assert want == {"endpoint.url": "https://x", "labels": {"name": "n"}}
    assert create_params(fields, want) == {
        "endpoint": {"url": "https://x"},
        "labels": {"name": "n"},
    }
    have = have_document(fields, {"endpoint": {"url": "https://y"}, "labels": {"name": "n"}})
    result = diff(fields, have, want)
    assert result.changes == (FieldChange("endpoint.url", "https://y", "https://x"),)
    assert update_params(fields, result.changes, want) == {"endpoint": {"url": "https://x"}}

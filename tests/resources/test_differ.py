"""The generic differ: an equality fast path, and deepdiff only to explain documents that differ,
each reported path mapped to its field (the documents are flat, keyed by field path)."""

from __future__ import annotations

from typing import Any

import deepdiff
import pytest

from reconciler.resources.changes import FieldChange
from reconciler.resources.differ import Diff, diff, explain, field_of
from reconciler.resources.fields import Field, OnChange

FIELDS = (
    Field("url"),
    Field("events", set_valued=True),
    Field("options", on_change=OnChange.REPLACE),  # a nested value, compared whole
    Field("address.parts", map_valued=True),  # a dotted map field
    Field("metadata", map_valued=True, clear=""),
)

HAVE: dict[str, Any] = {
    "url": "https://x",
    "events": ["a", "b"],
    "options": {"de": {"standard": {"scheme": "small_seller"}, "type": "standard"}},
    "address.parts": {"city": "Berlin", "line1": None},
    "metadata": {"owner": "a", "team": "t"},
}


@pytest.fixture
def no_deepdiff(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("deepdiff was asked about documents that are equal")

    monkeypatch.setattr(deepdiff, "DeepDiff", refuse)


def test_equal_documents_take_the_fast_path(no_deepdiff: None) -> None:
    assert diff(FIELDS, HAVE, dict(HAVE)) == Diff()


def test_documents_equal_once_settled_take_the_fast_path(no_deepdiff: None) -> None:
    want = {**HAVE, "url": "https://y", "metadata": {"owner": "b", "team": "t"}}
    want.pop("address.parts")  # not declared: an unmanaged path takes the live value
    assert diff(FIELDS, HAVE, want, ("metadata.owner", "url")) == Diff()


def test_the_deepdiff_path_explains_every_field_in_declaration_order() -> None:
    want = {
        "url": "https://y",
        "events": ["a", "c", "d"],
        "options": {"de": {"standard": {"scheme": "inbound_goods"}, "type": "standard"}},
        "address.parts": {"city": "Munich", "line1": "Marienplatz 1"},
        "metadata": {"owner": "a", "added": "1"},
    }
    result = diff(FIELDS, HAVE, want)
    assert result == Diff(
        changes=(
            # the replace field first: it is why the object is replaced
            FieldChange("options", HAVE["options"], want["options"]),
            FieldChange("url", "https://x", "https://y"),
            FieldChange("events", ["a", "b"], ["a", "c", "d"]),
            FieldChange("address.parts.city", "Berlin", "Munich"),
            FieldChange("address.parts.line1", None, "Marienplatz 1"),
            FieldChange("metadata.added", None, "1"),
            FieldChange("metadata.team", "t", None),
        ),
        replaced=("options",),
    )


def test_nested_maps_give_one_change_per_key_whatever_is_nested_below() -> None:
    fields = (Field("routes", map_valued=True),)
    have = {"routes": {"eu": {"region": "eu-west-1", "ids": [1, 2]}, "us": {"region": "us-1"}}}
    want = {"routes": {"eu": {"region": "eu-west-1", "ids": [1, 3]}, "us": {"region": "us-1"}}}
    assert diff(fields, have, want).changes == (
        FieldChange("routes.eu", have["routes"]["eu"], want["routes"]["eu"]),
    )


def test_a_map_that_appears_is_explained_key_by_key() -> None:
    fields = (Field("metadata", map_valued=True),)
    assert diff(fields, {"metadata": None}, {"metadata": {"b": "2", "a": "1"}}).changes == (
        FieldChange("metadata.a", None, "1"),
        FieldChange("metadata.b", None, "2"),
    )


def test_a_map_that_goes_away_is_explained_key_by_key() -> None:
    fields = (Field("metadata", map_valued=True),)
    assert diff(fields, {"metadata": {"b": "2", "a": "1"}}, {"metadata": None}).changes == (
        FieldChange("metadata.a", "1", None),
        FieldChange("metadata.b", "2", None),
    )


def test_a_change_path_belongs_to_its_own_field_whatever_is_declared_before_it() -> None:
    """Kinds list fields in plan order, so a map field may come before the others."""
    fields = (
        Field("metadata", map_valued=True),
        Field("a"),
        Field("a.b", map_valued=True),
        Field("url"),
    )
    assert field_of(fields, "url") == (fields[3], None)
    assert field_of(fields, "a") == (fields[1], None)
    assert field_of(fields, "a.b.k") == (fields[2], "k")
    assert field_of(fields, "metadata.team.owner") == (fields[0], "team.owner")
    with pytest.raises(KeyError) as unknown:
        field_of(fields, "urls")
    assert unknown.value.args == ("urls",)


def test_sets_are_compared_sorted() -> None:
    fields = (Field("events", set_valued=True),)
    have = {"events": fields[0].read(["b", "a"])}
    assert diff(fields, have, {"events": fields[0].read(["a", "b", "a"])}) == Diff()


def test_deepdiff_reports_below_the_field_and_maps_to_its_first_part() -> None:
    fields = (Field("a"), Field("a.b", map_valued=True))
    have = {"a": 1, "a.b": {"k": {"deep": 1}}}
    want = {"a": 1, "a.b": {"k": {"deep": 2}}}
    # without threshold_to_diff_deeper=0 deepdiff ≥ 8 would report the whole map as one change
    assert explain(fields, have, want).changes == (FieldChange("a.b.k", {"deep": 1}, {"deep": 2}),)


def test_explain_is_only_asked_about_differing_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []
    real = deepdiff.DeepDiff

    def spy(t1: Any, t2: Any, **kwargs: Any) -> Any:
        seen.append((t1, t2))
        assert kwargs == {"view": "tree", "threshold_to_diff_deeper": 0}
        return real(t1, t2, **kwargs)

    monkeypatch.setattr(deepdiff, "DeepDiff", spy)
    diff(FIELDS, HAVE, {**HAVE, "url": "https://y"})
    assert seen == [({"url": "https://x"}, {"url": "https://y"})]

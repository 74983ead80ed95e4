"""The registry of kinds: it refuses duplicates, it is the order, and a kind registered in it
is planned and applied with no other change (a toy kind stands in for a fourth one)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from reconciler.apply.executor import ApplyTarget, execute_plan, phase_of
from reconciler.apply.progress import Status
from reconciler.apply.secrets import SecretSinks
from reconciler.manifest.model import Lifecycle, Manifest
from reconciler.plan.builder import build_plan
from reconciler.plan.model import KIND_ORDER, ActionType
from reconciler.resources import HANDLERS, registry, tax_settings, webhook_endpoint
from reconciler.resources.base import LiveObject, LiveState, Matching, Pair
from reconciler.resources.fields import Field, OnChange
from reconciler.resources.kind import Identity, KindSpec


def test_the_registry_is_the_order() -> None:
    assert registry.kind_names() == (
        "tax_settings",
        "webhook_endpoints",
        "event_destinations",
        "tax_registrations",
    )
    assert tuple(KIND_ORDER) == registry.kind_names()
    assert [spec.order for spec in registry.specs()] == sorted(s.order for s in registry.specs())
    assert HANDLERS is registry.KINDS
    assert [registry.rank(kind) for kind in registry.kind_names()] == [0, 1, 2, 3]


def test_the_kind_order_is_a_sequence_of_the_registered_names() -> None:
    """KIND_ORDER stands where a tuple of names used to (plan files, drift sorting, export):
    it must answer as that tuple would."""
    names = registry.kind_names()
    assert names == KIND_ORDER
    assert list(names) != KIND_ORDER  # a tuple, as before
    assert not KIND_ORDER == "tax_settings"  # noqa: SIM201 (the comparison itself is tested)
    assert KIND_ORDER[0] == "tax_settings"
    assert KIND_ORDER[-1] == "tax_registrations"
    assert KIND_ORDER[1:] == names[1:]
    assert len(KIND_ORDER) == 4
    assert "webhook_endpoints" in KIND_ORDER
    assert "customers" not in KIND_ORDER
    assert [KIND_ORDER.index(kind) for kind in names] == [0, 1, 2, 3]
    for unknown in ("customers", 1):
        with pytest.raises(ValueError) as refused:
            KIND_ORDER.index(unknown)
        assert str(refused.value) == f"{unknown!r} is not a registered kind"
    assert repr(KIND_ORDER) == repr(names)
    assert (
        repr(HANDLERS)
        == "KINDS(tax_settings, webhook_endpoints, event_destinations, tax_registrations)"
    )
    with pytest.raises(TypeError):
        hash(KIND_ORDER)


def test_every_kind_is_the_manifest_section_of_its_name() -> None:
    """The loader reads sections from the manifest model; each kind is the one of its name."""
    from reconciler.manifest import loader

    sections = {**loader._SINGLE, **loader._NAMED}
    assert {spec.name: sections.get(spec.name) for spec in registry.specs()} == {
        spec.name: spec.model for spec in registry.specs()
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "kind 'webhook_endpoints' is already registered"),
        ({"name": "other"}, "kind 'other': order 20 is already 'webhook_endpoints''s"),
    ],
    ids=["same-name", "same-order"],
)
def test_register_refuses_duplicates(changes: dict[str, Any], message: str) -> None:
    before = registry.kind_names()
    with pytest.raises(ValueError) as refused:
        registry.register(dataclasses.replace(webhook_endpoint.SPEC, **changes))
    assert str(refused.value) == message
    assert registry.kind_names() == before
    assert registry.spec_of("webhook_endpoints") is webhook_endpoint.SPEC


# -- a toy kind --------------------------------------------------------------------------------


class Widget(BaseModel):
    size: int
    color: str
    lifecycle: Lifecycle = Lifecycle()


#: what the toy kind's manifest section would hold
DECLARED: dict[str, Widget] = {}


class ByName(Identity):
    """Live widgets are named by their id."""

    create_reason = "no widget has this name"

    def declared(self, spec: KindSpec, manifest: Manifest) -> Mapping[str, Any]:
        return DECLARED

    def match(
        self, spec: KindSpec, declared: Mapping[str, Any], live: tuple[LiveObject, ...], now: int
    ) -> Matching:
        by_id = {str(obj["id"]): obj for obj in live}
        return Matching(
            pairs=tuple(Pair(name, declared[name], by_id.get(name)) for name in sorted(declared)),
            leftovers=tuple(obj for obj in live if obj["id"] not in declared),
        )


TOY = KindSpec(
    name="toy_widgets",
    order=5,
    noun="toy widget",
    model=Widget,
    schema="webhook_endpoint",
    path="/v1/toy_widgets",
    identity=ByName(),
    fields=(Field("size"), Field("color", on_change=OnChange.REPLACE)),
    depends_on=(tax_settings.SPEC.name,),
)


def test_what_a_new_kinds_identity_says_unless_it_says_otherwise() -> None:
    """Messages name a live object by its id, and say an untagged one is adopted by its key;
    the tagged kinds say URL and name instead (README "Adding a kind")."""
    identity = TOY.identity
    assert identity.label({"id": "w_1", "name": "large"}) == "w_1"
    assert identity.adoption() == "key"
    assert identity.defaults("large") == {}


@pytest.fixture
def toy() -> Iterator[KindSpec]:
    registry.register(TOY)
    try:
        yield TOY
    finally:
        registry.unregister(TOY.name)
        DECLARED.clear()


def test_a_registered_kind_is_planned_in_its_order(toy: KindSpec) -> None:
    assert registry.kind_names()[0] == "toy_widgets"
    DECLARED.update(
        big=Widget(size=3, color="red"),
        small=Widget(size=1, color="blue"),
        new=Widget(size=2, color="red"),
    )
    live = LiveState(
        objects={
            "toy_widgets": (
                {"id": "big", "size": 2, "color": "red"},
                {"id": "small", "size": 1, "color": "green"},
                {"id": "stray", "size": 9, "color": "red"},
            ),
            "webhook_endpoints": (),
        }
    )
    manifest = Manifest.model_validate(
        {"version": 1, "policy": {"unmanaged": "delete"}, "webhook_endpoints": {}}
    )
    plan = build_plan(manifest, live, now=1_800_000_000)
    assert [(a.address, a.action.value, a.reason) for a in plan.actions] == [
        ("toy_widgets.big", "update", "fields differ"),
        ("toy_widgets.new", "create", "no widget has this name"),
        ("toy_widgets.small", "replace", "create-only field changed: color"),
        ("toy_widgets[stray]", "delete", "not declared and policy.unmanaged is delete"),
    ]
    update, create, replace, delete = plan.actions
    assert [r.to_dict() for r in update.requests] == [
        {"step": "update", "method": "POST", "path": "/v1/toy_widgets/big", "params": {"size": 3}}
    ]
    assert [r.to_dict() for r in create.requests] == [
        {
            "step": "create",
            "method": "POST",
            "path": "/v1/toy_widgets",
            "params": {"size": 2, "color": "red"},
        }
    ]
    assert [(r.step, r.path) for r in replace.requests] == [
        ("create", "/v1/toy_widgets"),
        ("delete", "/v1/toy_widgets/small"),
    ]
    assert [(r.method, r.path) for r in delete.requests] == [("DELETE", "/v1/toy_widgets/stray")]
    assert [phase_of(a) for a in plan.actions] == [2, 2, 3, 4]


class ToyStripe:
    """Records what apply sends; creates answer with a new id."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        self.sent.append((method, path, dict(params or {})))
        return {"id": f"toy_{len(self.sent)}"} if path == "/v1/toy_widgets" else {}

    async def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        raise AssertionError("the toy kind needs no listing")
        yield {}  # pragma: no cover


def test_a_registered_kind_is_applied_through_the_generic_steps(toy: KindSpec) -> None:
    DECLARED.update(new=Widget(size=2, color="red"), small=Widget(size=1, color="blue"))
    live = LiveState(objects={"toy_widgets": ({"id": "small", "size": 1, "color": "green"},)})
    plan = build_plan(Manifest.model_validate({"version": 1}), live, now=1_800_000_000)
    client = ToyStripe()
    target = ApplyTarget(account="acct_1", mode="test", stripe_account=None, plan_checksum="c")
    result = asyncio.run(execute_plan(plan, client, target, SecretSinks([])))
    assert [(r.address, r.status, r.stripe_id) for r in result.results] == [
        ("toy_widgets.new", Status.DONE, "toy_1"),
        ("toy_widgets.small", Status.DONE, "toy_2"),
    ]
    assert client.sent == [
        ("POST", "/v1/toy_widgets", {"size": 2, "color": "red"}),
        ("POST", "/v1/toy_widgets", {"size": 1, "color": "blue"}),
        ("DELETE", "/v1/toy_widgets/small", {}),
    ]
    assert {a.action for a in plan.actions} == {ActionType.CREATE, ActionType.REPLACE}


def test_kinds_of_one_limit_pool_share_its_limit() -> None:
    """Webhook endpoints and event destinations count against one limit of 16."""
    assert {pool: [s.name for s in members] for pool, members in registry.pools().items()} == {
        "endpoints": ["webhook_endpoints", "event_destinations"]
    }
    other = dataclasses.replace(webhook_endpoint.SPEC, name="other", order=99, limit=17)
    with pytest.raises(ValueError) as refused:
        registry.register(other)
    assert str(refused.value) == (
        "kind 'other': pool 'endpoints' has limit 16 ('webhook_endpoints''s)"
    )
    assert "other" not in registry.kind_names()

"""The registry is the only list of kinds, and the engine never names a kind.

Read from the source (ast), outside the kind modules themselves (the module that builds a
registered spec, and its helpers named after it) and the emulator (a separate Stripe surface):

- no collection, dict or ``Literal[...]`` lists two kinds, and no function names two (an
  ``if kind == …`` chain is a list too);
- the engine (planning, apply, drift, the manifest loader) names no kind at all: a kind name in
  a comparison there is a branch on a kind, which belongs in the kind's spec.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import reconciler
from reconciler.resources import registry

ROOT = Path(reconciler.__file__).parent
KIND_NAMES = frozenset(registry.kind_names())

#: per-kind code that is not planning and still writes kinds out; a new kind extends it:
#: export's section builders and writers, the export command's summary, and the JSON Schema's
#: per-section constraints
NOT_YET_FROM_THE_REGISTRY = frozenset(
    {"export/build.py", "export/write.py", "cli/export.py", "manifest/schema.py"}
)

#: the engine: these never name a kind
ENGINE = (
    "resources/__init__.py",
    "resources/base.py",
    "resources/changes.py",
    "resources/differ.py",
    "resources/engine.py",
    "resources/fields.py",
    "resources/kind.py",
    "resources/registry.py",
    "resources/shape.py",
    "resources/tagged.py",
    "plan/*.py",
    "apply/*.py",
    "apply/steps/*.py",
    "drift/check.py",
    "manifest/loader.py",
)


def kind_modules() -> frozenset[str]:
    """The modules that build a registered spec, and their helpers (``tax_registration_*``)."""
    stems = set()
    for path in (ROOT / "resources").glob("[!_]*.py"):
        module = importlib.import_module(f"reconciler.resources.{path.stem}")
        if getattr(module, "SPEC", None) in registry.specs():
            stems.add(path.stem)
    assert len(stems) == len(KIND_NAMES)
    return frozenset(
        f"resources/{path.name}"
        for path in (ROOT / "resources").glob("*.py")
        if any(path.stem == stem or path.stem.startswith(stem + "_") for stem in stems)
    )


def sources() -> Iterator[tuple[str, ast.Module]]:
    skip = kind_modules() | NOT_YET_FROM_THE_REGISTRY
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("emulator/") or relative in skip:
            continue
        yield relative, ast.parse(path.read_text(encoding="utf-8"))


def docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def named_kinds(node: ast.AST, skip: set[int]) -> set[str]:
    """The kinds a piece of code names: a string that is a kind, or starts an address of one."""
    found = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and id(item) not in skip:
            found.update(
                kind
                for kind in KIND_NAMES
                if item.value == kind or item.value.startswith((f"{kind}.", f"{kind}["))
            )
    return found


def lists_of_kinds() -> list[str]:
    found = []
    for relative, tree in sources():
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Subscript)):
                where = "a collection"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"{node.name}()"
            else:
                continue
            kinds = named_kinds(node, skip)
            if len(kinds) > 1:
                found.append(f"{relative}:{node.lineno} {where} names {sorted(kinds)}")
    return found


def test_no_list_of_kinds_outside_the_registry() -> None:
    assert lists_of_kinds() == []


@pytest.mark.parametrize("pattern", ENGINE)
def test_the_engine_names_no_kind(pattern: str) -> None:
    paths = sorted(ROOT.glob(pattern))
    assert paths, pattern
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for kind in sorted(named_kinds(tree, docstrings(tree))):
            found.append(f"{path.relative_to(ROOT).as_posix()} names {kind}")
    assert found == []


def test_the_checks_can_fail() -> None:
    listed = ast.parse('KINDS = ("tax_settings", "webhook_endpoints")\n')
    assert named_kinds(listed, set()) == {"tax_settings", "webhook_endpoints"}
    branch = ast.parse('def f(a):\n    """webhook_endpoints"""\n    return a == "tax_settings"\n')
    assert named_kinds(branch, docstrings(branch)) == {"tax_settings"}
    address = ast.parse('x = f"webhook_endpoints.{name}"\n')
    assert named_kinds(address, set()) == {"webhook_endpoints"}

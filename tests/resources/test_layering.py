"""Each step's package only knows the ones before it (STYLE.md): checked from the import lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reconciler

ROOT = Path(reconciler.__file__).parent

#: package → packages it must never import (the ones after it in the data flow)
LATER = {
    "manifest": ("stripe", "resources", "plan", "apply", "drift", "export", "cli"),
    "resources": ("plan", "apply", "drift", "export", "cli"),
    "plan": ("apply", "drift", "export", "cli"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(LATER))
def test_package_imports_no_later_step(package: str) -> None:
    offending = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).glob("*.py"))
        for module in imported_modules(path)
        if any(
            module == f"reconciler.{later}" or module.startswith(f"reconciler.{later}.")
            for later in LATER[package]
        )
    )
    assert offending == []


def test_plan_package_has_no_lazy_attribute_hook() -> None:
    import reconciler.plan

    assert not hasattr(reconciler.plan, "__getattr__")
    assert reconciler.plan.build_plan.__module__ == "reconciler.plan.builder"

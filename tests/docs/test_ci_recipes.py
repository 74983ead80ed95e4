"""Every ``stripe-reconciler`` call in the CI recipes and the pre-commit hook exists in the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from docs_helpers import ROOT, Invocation, check_invocation, find_invocations

CI = ROOT / "examples" / "ci"
RECIPES = sorted(p for p in CI.rglob("*") if p.suffix in (".yml", ".yaml"))

#: The commands each recipe must run: a recipe that silently lost its apply step fails here too.
EXPECTED_COMMANDS = {
    "github/stripe-plan.yml": ["validate", "plan"],
    "github/stripe-apply.yml": ["apply"],
    "github/stripe-drift.yml": ["drift"],
    "gitlab/.gitlab-ci.yml": ["validate", "plan", "apply", "drift"],
}


def shell_snippets(path: Path) -> list[str]:
    """The shell a CI system would run: GitHub ``steps[].run``, GitLab ``*script`` entries."""
    document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    snippets: list[str] = []
    if "jobs" in document:  # GitHub Actions
        for job in document["jobs"].values():
            snippets.extend(step["run"] for step in job.get("steps", []) if "run" in step)
        return snippets
    for job in document.values():  # GitLab CI: every mapping may hold scripts
        if not isinstance(job, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            entries = job.get(key, [])
            snippets.extend([entries] if isinstance(entries, str) else entries)
    return snippets


def recipe_invocations(path: Path) -> list[Invocation]:
    name = str(path.relative_to(CI))
    return [
        invocation
        for snippet in shell_snippets(path)
        for invocation in find_invocations(snippet, name)
    ]


def test_every_recipe_is_known() -> None:
    assert sorted(str(p.relative_to(CI)) for p in RECIPES) == sorted(EXPECTED_COMMANDS)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: str(p.relative_to(CI)))
def test_recipe_invocations_exist_in_the_cli(path: Path) -> None:
    invocations = recipe_invocations(path)
    assert [i.command for i in invocations] == EXPECTED_COMMANDS[str(path.relative_to(CI))]
    assert [problem for i in invocations for problem in check_invocation(i)] == []


def test_pre_commit_hook_runs_an_existing_command() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["stripe-reconciler-validate"]
    invocations = find_invocations(hooks[0]["entry"] + " stripe/", ".pre-commit-hooks.yaml")
    assert [i.command for i in invocations] == ["validate"]
    assert check_invocation(invocations[0]) == []


@pytest.mark.parametrize(
    ("shell", "problems"),
    [
        ("stripe-reconciler plan stripe/ --format markdown --out p.json --detailed-exitcode", []),
        ("stripe-reconciler --no-color --log-level=debug drift stripe/ --format github", []),
        ("stripe-reconciler --emulator-state s.json apply --plan p.json --auto-approve", []),
        ("python -m reconciler validate stripe/ --format json > out.json", []),
        ("stripe-reconciler --version", []),
        ('stripe-reconciler drift d/ --format "$FORMAT"', []),
        ("stripe-reconciler plan stripe/ --bogus", ["r:1: plan: no such option --bogus"]),
        (
            "stripe-reconciler plan stripe/ --format github",
            ["r:1: plan: --format: --format 'github' is not one of text, json, markdown"],
        ),
        ("stripe-reconciler --no-colour plan s/", ["r:1: global: no such option --no-colour"]),
        ("stripe-reconciler frobnicate s/", ["r:1: no such command 'frobnicate'"]),
        ("stripe-reconciler schema extra", ["r:1: schema takes no arguments, got ['extra']"]),
        ("stripe-reconciler apply --plan", ["r:1: apply: --plan needs a value"]),
        (
            "stripe-reconciler apply --force=yes",
            ["r:1: apply: --force is a flag and takes no value"],
        ),
        (
            "stripe-reconciler --api-key",
            ["r:1: global: --api-key needs a value", "r:1: no command"],
        ),
        (
            "stripe-reconciler validate a | tee log && stripe-reconciler nope",
            ["r:1: no such command 'nope'"],
        ),
        ("pip install stripe-reconciler==0.1.0", []),
        ("APP_HOST=x stripe-reconciler plan s/ --outt p", ["r:1: plan: no such option --outt"]),
    ],
)
def test_the_checker_rejects_what_the_cli_would(shell: str, problems: list[str]) -> None:
    found = [p for i in find_invocations(shell, "r") for p in check_invocation(i)]
    assert found == problems


def test_continuation_lines_join_into_one_invocation() -> None:
    shell = (
        "stripe-reconciler --no-color plan stripe/ --out p.json \\\n  --format markdown > plan.md\n"
    )
    assert find_invocations(shell, "r") == [
        Invocation(
            "r:1",
            ("--no-color", "plan", "stripe/", "--out", "p.json", "--format", "markdown"),
        )
    ]

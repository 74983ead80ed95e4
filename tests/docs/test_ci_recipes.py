"""Every ``stripe-reconciler`` call in the CI recipes, the pre-commit hook and the GitHub Action
exists in the CLI.

A recipe step that ``uses:`` this repository's action counts as the call the action makes: its
``with:`` inputs go through the action's own :meth:`Inputs.argv` (``action/run_action.py``).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from docs_helpers import ROOT, Invocation, check_invocation, find_invocations, run_action

CI = ROOT / "examples" / "ci"
RECIPES = sorted(p for p in CI.rglob("*") if p.suffix in (".yml", ".yaml"))
#: How a recipe names this repository's action (placeholder owner, pinned commit).
ACTION = "OWNER/stripe-reconciler@"

#: The commands each recipe must run: a recipe that silently lost its apply step fails here too.
EXPECTED_COMMANDS = {
    "github/stripe-plan.yml": ["validate", "plan"],
    "github/stripe-apply.yml": ["plan", "apply"],
    "github/stripe-drift.yml": ["drift"],
    "github/stripe-fleet.yml": ["plan", "apply"],
    "gitlab/.gitlab-ci.yml": ["validate", "plan", "apply", "drift"],
}


def action_call(inputs: dict[str, Any]) -> str:
    """The command line the action runs for these ``with:`` inputs."""
    env = {f"INPUT_{name.upper()}": str(value) for name, value in inputs.items()}
    env.setdefault("INPUT_PATHS", "stripe/")
    return shlex.join(["stripe-reconciler", *run_action.Inputs.from_env(env).argv()])


def shell_snippets(path: Path) -> list[str]:
    """The shell a CI system would run: GitHub ``steps[].run`` and action calls, GitLab
    ``*script`` entries."""
    document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    snippets: list[str] = []
    if "jobs" in document:  # GitHub Actions
        for job in document["jobs"].values():
            for step in job.get("steps", []):
                if "run" in step:
                    snippets.append(step["run"])
                elif str(step.get("uses", "")).startswith(ACTION):
                    snippets.append(action_call(step.get("with", {})))
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


# -- what the recipes promise about keys, permissions and exit codes ----------------------------
def load(name: str) -> Any:
    return yaml.safe_load((CI / name).read_text(encoding="utf-8"))


def secret_uses(job: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(step name or uses, environment variable, secret) for every secret a job's steps read."""
    scopes = [("(job env)", job.get("env") or {})]
    scopes += [(str(s.get("name", s.get("uses"))), s.get("env") or {}) for s in job["steps"]]
    return [
        (where, variable, secret)
        for where, env in scopes
        for variable, value in env.items()
        for secret in re.findall(r"secrets\.(\w+)", str(value))
    ]


GUARD = "Refuse a write key that is not an environment secret"


@pytest.mark.parametrize(
    ("name", "permissions"),
    [
        ("github/stripe-plan.yml", {"contents": "read", "pull-requests": "write"}),
        ("github/stripe-apply.yml", {"contents": "read"}),
        ("github/stripe-drift.yml", {"contents": "read"}),
        ("github/stripe-fleet.yml", {"contents": "read"}),
    ],
)
def test_github_permissions_are_minimal(name: str, permissions: dict[str, str]) -> None:
    workflow = load(name)
    assert workflow["permissions"] == permissions
    assert [job for job in workflow["jobs"].values() if "permissions" in job] == []


GITHUB = [
    "github/stripe-plan.yml",
    "github/stripe-apply.yml",
    "github/stripe-drift.yml",
    "github/stripe-fleet.yml",
]


@pytest.mark.parametrize("name", GITHUB)
def test_only_the_approved_apply_job_holds_the_write_key(name: str) -> None:
    for job_name, job in load(name)["jobs"].items():
        for step, variable, secret in secret_uses(job):
            if secret == "STRIPE_WRITE_KEY" and step == GUARD:
                assert variable == "WRITE_KEY"  # only tested for being empty
            elif variable == "STRIPE_API_KEY":
                protected = job.get("environment") == "stripe-production"
                expected = "STRIPE_WRITE_KEY" if protected else "STRIPE_READ_KEY"
                assert secret == expected, job_name
                assert protected == (job_name == "apply")
            else:
                assert secret == "SLACK_WEBHOOK_URL", (job_name, step, secret)


def test_apply_plans_the_tip_of_main_and_applies_only_changes_after_approval() -> None:
    workflow = load("github/stripe-apply.yml")
    assert workflow["concurrency"] == {"group": "stripe-apply", "cancel-in-progress": False}
    plan, apply = workflow["jobs"]["plan"], workflow["jobs"]["apply"]
    assert plan["steps"][0]["with"]["ref"] == "main"  # not the pushed commit: never older
    assert "environment" not in plan
    assert apply["needs"] == "plan"
    assert apply["if"] == "needs.plan.outputs.exitcode == '2'"  # 0: nothing to approve
    assert apply["environment"] == "stripe-production"
    assert plan["outputs"]["exitcode"] == "${{ steps.plan.outputs.exitcode }}"
    assert apply["steps"][0]["with"]["ref"] == "${{ needs.plan.outputs.sha }}"


@pytest.mark.parametrize("name", GITHUB)
def test_every_plan_or_drift_exit_code_is_used(name: str) -> None:
    """A step that computes 0/2 is read by a later ``if:`` (label, skip or fail)."""
    text = (CI / name).read_text(encoding="utf-8")
    for job in load(name)["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith(ACTION) and step["with"]["command"] in (
                "plan",
                "drift",
            ):
                assert f"steps.{step['id']}.outputs.exitcode" in text


def test_the_fleet_matrix_plans_and_applies_every_shard_once() -> None:
    workflow = load("github/stripe-fleet.yml")
    plan, apply = workflow["jobs"]["plan"], workflow["jobs"]["apply"]
    shards = plan["strategy"]["matrix"]["shard"]
    assert shards == apply["strategy"]["matrix"]["shard"] == list(range(1, len(shards) + 1))
    step = next(s for s in plan["steps"] if s.get("id") == "plan")
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in step["with"]["args"]
    assert apply["needs"] == "plan" and apply["environment"] == "stripe-production"
    assert "environment" not in plan


def test_gitlab_keys_per_job_and_apply_rules() -> None:
    pipeline = load("gitlab/.gitlab-ci.yml")
    keys = {
        name: job.get("variables", {}).get("STRIPE_API_KEY")
        for name, job in pipeline.items()
        if isinstance(job, dict) and "script" in job
    }
    assert keys == {
        "validate": None,
        "plan": "$STRIPE_READ_KEY",
        "apply": "$STRIPE_WRITE_KEY",
        "drift": "$STRIPE_READ_KEY",
    }
    (rule,) = pipeline["apply"]["rules"]
    assert rule["changes"] == ["stripe/**/*"]
    assert pipeline["apply"]["resource_group"] == "stripe-apply"
    header = (CI / "gitlab" / ".gitlab-ci.yml").read_text(encoding="utf-8").split("stages:")[0]
    assert "Masked, NOT protected" in header and "Masked AND protected" in header

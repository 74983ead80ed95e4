"""The shipped manifest JSON Schema works with a third-party checker and in editors as documented.

``check-jsonschema`` (a test dependency, run offline) validates every example manifest against
the schema the wheel ships, and refuses a broken manifest, so a schema that rejects a documented
``${VAR}`` (or accepts anything) fails here. README shows the modeline and VS Code's
``yaml.schemas`` setting with the schema's ``$id``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from docs_helpers import ROOT, check_jsonschema, readme, section

from reconciler.manifest.schema import PACKAGED_SCHEMA, SCHEMA_ID, packaged_schema

#: The file the wheel carries (tests/docs/test_packaging.py checks the wheel holds these bytes).
SHIPPED = ROOT / "reconciler" / "manifest" / PACKAGED_SCHEMA
COMMITTED = ROOT / "schemas" / "manifest.schema.json"
MANIFESTS = sorted(
    path
    for path in (ROOT / "examples").rglob("*")
    if path.suffix in (".yaml", ".yml")
    and "ci" not in path.relative_to(ROOT / "examples").parts
    and path.name != "fleet.yaml"
)
#: Fleet files (README "Connect platforms") have their own schema.
FLEETS = sorted((ROOT / "examples").rglob("fleet.yaml"))
FLEET_SCHEMA = ROOT / "schemas" / "fleet.schema.json"
_MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<ref>\S+)\n")

BROKEN = """\
version: 1
account:
  mode: staging
  stripe_account: acct-not-an-id
webhook_endpoints:
  orders:
    url: https://user:pw@shop.example.com/hooks
    enabled_events: []
    disabled: yes
"""


def test_examples_pass_check_jsonschema_against_the_shipped_schema() -> None:
    names = {str(path.relative_to(ROOT)) for path in MANIFESTS}
    # the two that once failed: an account id from ${VAR}
    assert {"examples/connect/connected-shop.yaml", "examples/environments/live/account.yaml"} <= (
        names
    )
    result = check_jsonschema("--schemafile", SHIPPED, *MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_check_jsonschema_refuses_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = check_jsonschema("--schemafile", SHIPPED, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    for where in (
        "$.account.mode",
        "$.account.stripe_account",
        "$.webhook_endpoints.orders.url",
        "$.webhook_endpoints.orders.enabled_events",
        "$.webhook_endpoints.orders.disabled",
    ):
        assert f"{broken}::{where}" in result.stdout, where


def test_the_package_copy_is_the_committed_schema() -> None:
    assert SHIPPED.read_bytes() == COMMITTED.read_bytes()
    assert packaged_schema() == json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert packaged_schema()["$id"] == SCHEMA_ID


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_names_the_committed_schema_in_its_modeline(manifest: Path) -> None:
    found = _MODELINE.match(manifest.read_text(encoding="utf-8"))
    assert found is not None, "the first line points editors at the schema"
    assert (manifest.parent / found["ref"]).resolve() == COMMITTED


def test_readme_shows_the_modeline_and_the_vs_code_setting() -> None:
    text = section(readme(), "Manifest reference")
    assert f"# yaml-language-server: $schema={SCHEMA_ID}\n" in text
    (settings,) = re.findall(r"^```json\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)
    schemas = json.loads(settings)["yaml.schemas"]
    assert SCHEMA_ID in schemas
    assert "importlib.resources" in text
    assert f"check-jsonschema --schemafile {COMMITTED.relative_to(ROOT)}" in text


def test_example_fleet_files_pass_check_jsonschema_and_name_their_schema(tmp_path: Path) -> None:
    assert [str(path.relative_to(ROOT)) for path in FLEETS] == ["examples/fleet/fleet.yaml"]
    shipped = ROOT / "reconciler" / "fleet" / "fleet.schema.json"
    assert shipped.read_bytes() == FLEET_SCHEMA.read_bytes()
    result = check_jsonschema("--schemafile", shipped, *FLEETS)
    assert result.returncode == 0, result.stdout + result.stderr
    for fleet in FLEETS:
        found = _MODELINE.match(fleet.read_text(encoding="utf-8"))
        assert found is not None
        assert (fleet.parent / found["ref"]).resolve() == FLEET_SCHEMA
    broken = tmp_path / "fleet.yaml"
    broken.write_text("version: 1\naccounts: [{stripe_account: acct-1}]\n", encoding="utf-8")
    refused = check_jsonschema("--schemafile", shipped, broken)
    assert refused.returncode == 1
    assert f"{broken}::$.accounts[0].stripe_account" in refused.stdout

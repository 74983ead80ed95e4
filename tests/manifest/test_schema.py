"""The committed JSON Schema is the generated one, is valid, and accepts the example manifests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # via openapi-schema-validator
import pytest
import yaml

from reconciler.manifest.country_options import country_option_schemas
from reconciler.manifest.schema import SCHEMA_ID, manifest_json_schema, render_schema

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "manifest.schema.json"
EXAMPLES = sorted((ROOT / "examples" / "basic").glob("*.yaml"))


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_schema(), (
        "schemas/manifest.schema.json is stale: run `stripe-reconciler schema --out "
        "schemas/manifest.schema.json`"
    )


def test_schema_header_and_validity() -> None:
    schema = manifest_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"] == "stripe-reconciler manifest"
    jsonschema.Draft202012Validator.check_schema(schema)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        manifest_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _as_json(document: Any) -> Any:
    # YAML timestamps become ISO strings, as an editor's YAML language server sees them.
    return json.loads(json.dumps(document, default=lambda value: value.isoformat()))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate_against_the_schema(example: Path) -> None:
    document = _as_json(yaml.safe_load(example.read_text(encoding="utf-8")))
    assert [error.message for error in _validator().iter_errors(document)] == []


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"version": 1, "webhook_endpoints": {"Bad.Name": {}}}, "does not match"),
        (
            {"version": 1, "tax_registrations": {"x": {"country": "US", "country_options": {}}}},
            "should be non-empty",
        ),
        ({"version": 1, "colour": "blue"}, "Additional properties are not allowed"),
        (
            {"version": 1, "webhook_endpoints": {"x": {"metadata": {"owner": ""}}}},
            "should be non-empty",
        ),
        (
            {"version": 1, "webhook_endpoints": {"x": {"disabled": "yes"}}},
            "'yes' is not valid under any of the given schemas",
        ),
        ({"version": 1, "policy": {"max_destroy": "3"}}, "'3' is not valid under any"),
        ({"version": 1, "policy": {"max_destroy": -1}}, "-1 is not valid under any"),
        (
            {"version": 1, "webhook_endpoints": {"x": {"url": "https://u:p@example.com/x"}}},
            "does not match",
        ),
        (
            {"version": 1, "webhook_endpoints": {"x": {"url": "https://example.com/a b"}}},
            "does not match",
        ),
        (
            {"version": 1, "webhook_endpoints": {"x": {"url": "https://example.com/\n"}}},
            "does not match",
        ),
        (
            {"version": 1, "webhook_endpoints": {"x": {"url": "https://example.com/\u200b"}}},
            "does not match",
        ),
    ],
)
def test_schema_rejects_what_the_loader_rejects(document: dict[str, Any], complaint: str) -> None:
    messages = [error.message for error in _validator().iter_errors(document)]
    assert any(complaint in message for message in messages), messages


def test_country_options_in_schema_come_from_stripe_spec() -> None:
    properties = manifest_json_schema()["$defs"]["TaxRegistration"]["properties"]
    options = properties["country_options"]["properties"]
    assert sorted(options) == sorted(country_option_schemas())
    assert options["us"]["required"] == ["state", "type"]
    assert "x-stripeBypassValidation" not in json.dumps(options)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks?a=b#c",
        "https://${APP_HOST}/hooks",
        "${STRIPE_EXPORT_ORDERS_URL}",
        "http://[::1]:8080/x",
        "https://example.com/pay@me",
    ],
)
def test_schema_accepts_the_urls_the_loader_accepts(url: str) -> None:
    document = {"version": 1, "webhook_endpoints": {"x": {"url": url, "enabled_events": ["*"]}}}
    assert [error.message for error in _validator().iter_errors(document)] == []


def test_a_whole_reference_may_stand_for_a_boolean_or_integer() -> None:
    """As the loader allows (an unquoted ${VAR} is typed after expansion)."""
    document = {
        "version": 1,
        "policy": {"max_destroy": "${MAX_DESTROY:-3}"},
        "webhook_endpoints": {
            "x": {
                "url": "https://example.com/x",
                "enabled_events": ["*"],
                "disabled": "${DISABLED}",
                "lifecycle": {"protect": "${PROTECT:-true}"},
            }
        },
    }
    assert [error.message for error in _validator().iter_errors(document)] == []

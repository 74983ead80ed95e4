"""The committed JSON Schema is the generated one, is valid, and accepts the example manifests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # via openapi-schema-validator
import pytest
import yaml

from reconciler.manifest import load_manifests
from reconciler.manifest.country_options import country_option_schemas
from reconciler.manifest.schema import SCHEMA_ID, manifest_json_schema, render_schema

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "manifest.schema.json"
#: The copy shipped in the wheel (package data, read by ``packaged_schema``).
PACKAGED = ROOT / "reconciler" / "manifest" / "manifest.schema.json"
EXAMPLES = sorted((ROOT / "examples" / "basic").glob("*.yaml"))


@pytest.mark.parametrize("committed", [COMMITTED, PACKAGED], ids=lambda p: p.parent.name)
def test_committed_schema_is_up_to_date(committed: Path) -> None:
    where = committed.relative_to(ROOT)
    assert committed.read_text(encoding="utf-8") == render_schema(), (
        f"{where} is stale: run `stripe-reconciler schema --out {where}`"
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


#: Manifests the loader accepts once their ${VAR}s are expanded (with ENVIRON): a reference in
#: every kind of constrained string (pattern, enum, const, format) and in typed positions.
ENVIRON = {
    "ACCOUNT": "acct_123",
    "SUFFIX": "123",
    "MODE": "test",
    "UNMANAGED": "ignore",
    "MAX": "3",
    "BEHAVIOR": "inclusive",
    "TYPE": "state_sales_tax",
    "FROM": "1767225600",
    "DAY": "05",
    "HOST": "example.com",
    "OFF": "false",
}
REFERENCING = {
    "account id": "account:\n  id: ${ACCOUNT}\n",
    "connected account": "account:\n  stripe_account: ${ACCOUNT}\n",
    "text around": "account:\n  id: acct_${SUFFIX}\n",
    "quoted": 'account:\n  stripe_account: "${ACCOUNT}"\n',
    "default": "account:\n  id: ${UNSET_ACCOUNT:-acct_9}\n",
    "enum": "account:\n  mode: ${MODE}\npolicy:\n  unmanaged: ${UNMANAGED}\n",
    "integer": "policy:\n  max_destroy: ${MAX}\n",
    "nested enum": "tax_settings:\n  defaults:\n    tax_behavior: ${BEHAVIOR}\n",
    "boolean": (
        "webhook_endpoints:\n  a:\n    url: https://${HOST}/a\n    enabled_events: ['*']\n"
        "    disabled: ${OFF}\n    lifecycle:\n      protect: ${OFF:-true}\n"
    ),
    "stripe enum": (
        "tax_registrations:\n  r:\n    country: US\n    country_options:\n"
        "      us:\n        type: ${TYPE}\n        state: CA\n"
    ),
    "timestamps": (
        "tax_registrations:\n  r:\n    country: US\n    country_options:\n"
        "      us: {type: state_sales_tax, state: CA}\n    active_from: ${FROM}\n"
        "    expires_at: 2030-01-${DAY}T00:00:00Z\n"
    ),
}


@pytest.mark.parametrize("body", REFERENCING.values(), ids=REFERENCING.keys())
def test_schema_accepts_a_reference_wherever_the_loader_expands_one(
    body: str, tmp_path: Path
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\n" + body, encoding="utf-8")
    load_manifests([path], environ=ENVIRON)  # the loader accepts it: raises otherwise
    document = _as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert [error.message for error in _validator().iter_errors(document)] == []


@pytest.mark.parametrize(
    "document",
    [
        # a boolean or integer takes only a whole reference (YAML types it after expansion)
        {"version": 1, "policy": {"max_destroy": "3${MAX}"}},
        {"version": 1, "webhook_endpoints": {"x": {"disabled": "no${OFF}"}}},
        # "$${" is a literal "${": nothing is expanded, so the value is judged as written
        {"version": 1, "account": {"id": "$${ACCOUNT}"}},
        {"version": 1, "account": {"mode": "${"}},
        {"version": 1, "account": {"mode": "${1A}"}},
        # keys are never expanded
        {"version": 1, "webhook_endpoints": {"${NAME}": {}}},
        {"version": 1, "webhook_endpoints": {"x": {"metadata": {"a[${B}]": "v"}}}},
        # nor is the version
        {"version": "${VERSION}"},
    ],
)
def test_references_do_not_loosen_what_is_never_expanded(document: dict[str, Any]) -> None:
    assert list(_validator().iter_errors(document)) != []

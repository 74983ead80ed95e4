"""load_manifests: merging, locations, warnings, YAML quirks, environment expansion."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import (
    DesiredState,
    Diagnostic,
    Location,
    diagnostics_to_json,
    load_manifests,
)
from reconciler.manifest.country_options import country_option_schemas, natural_key
from reconciler.manifest.expand import expand
from reconciler.manifest.model import TaxRegistration

ROOT = Path(__file__).resolve().parents[2]


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(paths: list[Path], **kwargs: object) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths, environ={}, **kwargs)  # type: ignore[arg-type]
    return [f"{d.line}:{d.column}: {d.path}: {d.message}" for d in caught.value.diagnostics]  # type: ignore[attr-defined]


def test_example_merges_into_one_desired_state() -> None:
    state = load_manifests([ROOT / "examples" / "basic"], environ={})
    assert isinstance(state, DesiredState)
    manifest = state.manifest
    assert sorted(manifest.webhook_endpoints) == ["billing-alerts", "orders"]
    assert manifest.webhook_endpoints["orders"].url == "https://shop.example.com/stripe/webhooks"
    assert manifest.webhook_endpoints["orders"].lifecycle.protect is True
    assert sorted(manifest.tax_registrations) == ["ca-bc-pst", "de-oss", "us-ca-sales"]
    assert manifest.tax_registrations["ca-bc-pst"].expires_at == int(
        dt.datetime(2027, 12, 31, tzinfo=dt.timezone.utc).timestamp()
    )
    assert manifest.tax_settings is not None
    assert manifest.tax_settings.head_office is not None
    assert manifest.tax_settings.head_office.address.postal_code == "94103"
    assert manifest.policy.max_destroy == 3
    webhooks = str(ROOT / "examples" / "basic" / "webhooks.yaml")
    tax = str(ROOT / "examples" / "basic" / "tax.yaml")
    assert dict(state.locations) == {
        "account": Location(webhooks, 5, 1),
        "policy": Location(webhooks, 7, 1),
        "webhook_endpoints.orders": Location(webhooks, 11, 3),
        "webhook_endpoints.billing-alerts": Location(webhooks, 24, 3),
        "tax_settings": Location(tax, 4, 1),
        "tax_registrations.us-ca-sales": Location(tax, 16, 3),
        "tax_registrations.de-oss": Location(tax, 21, 3),
        "tax_registrations.ca-bc-pst": Location(tax, 26, 3),
    }
    assert state.warnings == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.warnings = ()  # type: ignore[misc]


def test_environment_is_used_for_expansion() -> None:
    state = load_manifests([ROOT / "examples" / "basic"], environ={"APP_HOST": "pay.example.org"})
    assert (
        state.manifest.webhook_endpoints["orders"].url == "https://pay.example.org/stripe/webhooks"
    )


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        ("plain", {}, "plain"),
        ("${A}", {"A": "x"}, "x"),
        ("a-${A}-b", {"A": "x"}, "a-x-b"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": ""}, "fallback"),
        ("${A}", {"A": ""}, ""),
        ("${A:-}", {}, ""),
        ("$$", {}, "$"),
        ("$${A}", {"A": "x"}, "${A}"),
        ("costs $5", {}, "costs $5"),
        ("$", {}, "$"),
        ("${A}${B}", {"A": "1", "B": "2"}, "12"),
        # a default may hold references, as in a POSIX shell
        ("${A:-${B}}", {"B": "b"}, "b"),
        ("${A:-${B}}", {"A": "a"}, "a"),  # an unused default is not expanded: B may be unset
        ("${A:-${B}}", {"A": "", "B": "b"}, "b"),
        ("${A:-${B:-c}}", {}, "c"),
        ("${A:-x${B}y}-z", {"B": "2"}, "x2y-z"),
        ("${A:-$$}", {}, "$"),
        ("${A:-a}b}", {}, "ab}"),
    ],
)
def test_expand_values(text: str, environ: dict[str, str], expected: str) -> None:
    assert expand(text, environ) == (expected, [])


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("x${MISSING}", 1, "environment variable MISSING is not set; set it or give a default "
         "with ${MISSING:-default}"),
        ("${", 0, "unterminated '${': add the closing '}'"),
        ("a${}", 1, "invalid variable reference '${}': use ${NAME} or ${NAME:-default} "
         "(write $$ for a literal $)"),
        ("${A:-${B}}", 5, "environment variable B is not set; set it or give a default "
         "with ${B:-default}"),
        ("${A:-${B}", 0, "unterminated '${': add the closing '}'"),
        ("x${A:-${B:-c}", 1, "unterminated '${': add the closing '}'"),
        ("${A:-${1X}}", 5, "invalid variable reference '${1X}': use ${NAME} or "
         "${NAME:-default} (write $$ for a literal $)"),
        # review finding 10: 500 levels were a RecursionError traceback
        ("${A:-" * 500 + "x" + "}" * 500, 80, "references nest deeper than 16 levels in "
         "defaults"),
    ],
)  # fmt: skip
def test_expand_problems(text: str, offset: int, message: str) -> None:
    _, problems = expand(text, {})
    assert [(p.offset, p.message) for p in problems] == [(offset, message)]


def test_expansion_error_column_inside_a_quoted_string(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        'version: 1\nwebhook_endpoints:\n  a:\n    url: "https://${H:-x.io}/${P}"\n'
        "    enabled_events: ['*']\n",
    )
    assert _errors([path]) == [
        "4:30: webhook_endpoints.a.url: environment variable P is not set; set it or give a "
        "default with ${P:-default}"
    ]


def test_nested_default_in_a_manifest(tmp_path: Path) -> None:
    text = (
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://${H:-${FALLBACK}}/x\n"
        "    enabled_events: ['*']\n"
    )
    path = _write(tmp_path, "m.yaml", text)
    state = load_manifests([path], environ={"FALLBACK": "b.example.com"})
    assert state.manifest.webhook_endpoints["a"].url == "https://b.example.com/x"
    state = load_manifests([path], environ={"H": "a.example.com"})
    assert state.manifest.webhook_endpoints["a"].url == "https://a.example.com/x"
    assert _errors([path]) == [
        "4:23: webhook_endpoints.a.url: environment variable FALLBACK is not set; set it or "
        "give a default with ${FALLBACK:-default}"
    ]
    path = _write(tmp_path, "m.yaml", text.replace("}}/x", "}/x"))
    assert _errors([path]) == [
        "4:18: webhook_endpoints.a.url: unterminated '${': add the closing '}'"
    ]


def test_a_url_broken_by_a_variable_is_refused(tmp_path: Path) -> None:
    """A trailing newline (``$(cat host.txt)``) or a space in a variable: urlsplit would drop
    the newline silently, so the check runs on the characters first."""
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://${HOST}/hooks\n"
        "    enabled_events: ['*']\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([path], environ={"HOST": "example.com\n"})
    assert [d.message for d in caught.value.diagnostics] == [  # type: ignore[attr-defined]
        "the URL contains a line break (U+000A) at character 20; remove it"
    ]
    with pytest.raises(ManifestError) as caught:
        load_manifests([path], environ={"HOST": "deploy:hunter2@example.com"})
    assert "hunter2" not in str(caught.value)
    assert "must not carry a user name or password" in str(caught.value)


def test_credentials_are_never_echoed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: deploy:hunter2@example.com/hooks\n"
        "    enabled_events: ['*']\n",
    )
    assert _errors([path]) == [
        "4:10: webhook_endpoints.a.url: the URL is not an absolute https URL "
        "(e.g. https://example.com/stripe/webhooks)"
    ]


def test_yaml_12_booleans_keep_norway_and_names_as_strings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  yes:\n    url: https://example.com/a\n"
        "    enabled_events: ['*']\n    disabled: false\n  2024:\n    url: https://example.com/b\n"
        "    enabled_events: ['*']\n    disabled: true\ntax_registrations:\n  no:\n"
        "    country: NO\n    country_options: {no: {type: standard}}\n",
    )
    manifest = load_manifests([path], environ={}).manifest
    assert manifest.webhook_endpoints["yes"].disabled is False
    assert manifest.webhook_endpoints["2024"].disabled is True
    assert manifest.tax_registrations["no"].country == "NO"


_TYPED = (
    "version: 1\npolicy:\n  max_destroy: MAX\nwebhook_endpoints:\n  a:\n"
    "    url: https://example.com/a\n    enabled_events: ['*']\n    disabled: DISABLED\n"
    "    metadata:\n      build: ${BUILD}\n"
)


@pytest.mark.parametrize(
    ("disabled", "max_destroy", "environ", "expected"),
    [
        ("${D}", "${M}", {"D": "true", "M": "3"}, (True, 3)),
        ("${D}", "${M}", {"D": "False", "M": "+0"}, (False, 0)),
        ("${D:-false}", "${M:-${FALLBACK:-2}}", {}, (False, 2)),
    ],
)
def test_a_whole_unquoted_reference_is_typed_by_yaml_rules(
    tmp_path: Path,
    disabled: str,
    max_destroy: str,
    environ: dict[str, str],
    expected: tuple[bool, int],
) -> None:
    text = _TYPED.replace("DISABLED", disabled).replace("MAX", max_destroy)
    path = _write(tmp_path, "m.yaml", text)
    manifest = load_manifests([path], environ={**environ, "BUILD": "42"}).manifest
    endpoint = manifest.webhook_endpoints["a"]
    assert (endpoint.disabled, manifest.policy.max_destroy) == expected
    assert endpoint.metadata == {"build": "42"}  # a string field keeps the text
    assert type(endpoint.metadata["build"]) is str


@pytest.mark.parametrize(
    ("disabled", "max_destroy", "environ", "errors"),
    [
        (
            "${D}",
            "${M}",
            {"D": "yes", "M": "3.0"},
            [
                "3:16: policy.max_destroy: expected a whole number, got '3.0'; write the number "
                "without quotes",
                "8:15: webhook_endpoints.a.disabled: expected true or false, got 'yes' (only "
                "these two words, unquoted, are booleans)",
            ],
        ),
        (
            '"${D}"',
            "'${M}'",
            {"D": "true", "M": "3"},
            [
                "3:16: policy.max_destroy: expected a whole number, got '3'; write the number "
                "without quotes",
                "8:15: webhook_endpoints.a.disabled: expected true or false, got 'true' (only "
                "these two words, unquoted, are booleans)",
            ],
        ),
        (
            "x${D}",
            "${M}0",
            {"D": "true", "M": "3"},
            [
                "3:16: policy.max_destroy: expected a whole number, got '30'; write the number "
                "without quotes",
                "8:15: webhook_endpoints.a.disabled: expected true or false, got 'xtrue' (only "
                "these two words, unquoted, are booleans)",
            ],
        ),
    ],
)
def test_other_strings_never_fill_a_boolean_or_integer(
    tmp_path: Path, disabled: str, max_destroy: str, environ: dict[str, str], errors: list[str]
) -> None:
    text = _TYPED.replace("DISABLED", disabled).replace("MAX", max_destroy)
    path = _write(tmp_path, "m.yaml", text)
    with pytest.raises(ManifestError) as caught:
        load_manifests([path], environ={**environ, "BUILD": "42"})
    assert [f"{d.line}:{d.column}: {d.path}: {d.message}" for d in caught.value.diagnostics] == (  # type: ignore[attr-defined]
        errors
    )


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nx-defaults: &hook\n  enabled_events: [invoice.paid]\n",
    )
    assert _errors([path]) == [
        "2:1: x-defaults: unknown key 'x-defaults'; allowed: version, account, policy, "
        "tax_settings, webhook_endpoints, event_destinations, tax_registrations"
    ]
    path = _write(
        tmp_path,
        "n.yaml",
        "version: 1\nwebhook_endpoints:\n  a: &hook\n    url: https://example.com/a\n"
        "    enabled_events: [invoice.paid]\n  b:\n    <<: *hook\n    url: https://example.com/b\n",
    )
    endpoints = load_manifests([path], environ={}).manifest.webhook_endpoints
    assert endpoints["b"].url == "https://example.com/b"
    assert endpoints["b"].enabled_events == ("invoice.paid",)


def test_alias_bomb_is_a_diagnostic(tmp_path: Path) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = _write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    errors = _errors([path])
    assert len(errors) == 1
    assert "document expands to more than 100000 nodes (alias bomb?)" in errors[0]


def test_equal_account_and_policy_may_repeat(tmp_path: Path) -> None:
    a = _write(
        tmp_path, "a.yaml", "version: 1\naccount: {mode: test}\npolicy: {unmanaged: report}\n"
    )
    b = _write(tmp_path, "b.yaml", "version: 1\naccount: {}\npolicy: {}\n")
    state = load_manifests([a, b], environ={})
    assert state.manifest.account.mode == "test"
    assert state.locations["account"] == Location(str(a), 2, 1)


def test_policy_conflict_cites_both_files(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", "version: 1\npolicy: {max_destroy: 1}\n")
    b = _write(tmp_path, "b.yaml", "version: 1\npolicy: {max_destroy: 2}\n")
    assert _errors([a, b]) == [
        f"2:1: policy: policy differs from the one at {a}:2:1 (max_destroy: 2 here, 1 there); "
        "repeated policy must be equal"
    ]


def test_same_file_twice_is_loaded_once(tmp_path: Path) -> None:
    a = _write(
        tmp_path,
        "a.yaml",
        "version: 1\nwebhook_endpoints:\n  a: {url: 'https://x.io', enabled_events: ['*']}\n",
    )
    state = load_manifests([a, tmp_path, a], environ={})
    assert list(state.manifest.webhook_endpoints) == ["a"]


def test_warnings_do_not_fail_the_load(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: http://localhost:8000/h\n"
        "    enabled_events: ['*', invoice.paid, invoice.paid]\n",
    )
    state = load_manifests([path], environ={})
    assert [(d.line, d.column, d.severity, d.message) for d in state.warnings] == [
        (5, 41, "warning", "'invoice.paid' is listed twice"),
    ]
    assert diagnostics_to_json(state.warnings)[0] == {
        "file": str(path),
        "line": 5,
        "column": 41,
        "path": "webhook_endpoints.a.enabled_events[2]",
        "message": "'invoice.paid' is listed twice",
        "severity": "warning",
    }


def test_events_next_to_the_wildcard_are_not_redundant(tmp_path: Path) -> None:
    """``['*']`` enables every event "except those that require explicit selection" (FACTS.md
    §1, stripe-python 16.1.0 ``_webhook_endpoint_create_params.py``): entries beside it count."""
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://example.com/h\n"
        "    enabled_events: ['*', invoice.paid]\n",
    )
    state = load_manifests([path], environ={})
    assert state.warnings == ()
    assert state.manifest.webhook_endpoints["a"].enabled_events == ("*", "invoice.paid")


def test_unreadable_file_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "secret.yaml", "version: 1\n")
    original = Path.open

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return original(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", deny)
    assert _errors([path]) == ["1:1: : cannot read file: Permission denied"]


def test_no_paths_is_an_error() -> None:
    assert _errors([]) == ["1:1: : no manifest paths given"]


def test_registration_windows_that_do_not_overlap(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\ntax_registrations:\n"
        "  old: {country: US, country_options: {us: {type: state_sales_tax, state: CA}},"
        " active_from: 2020-01-01, expires_at: 2021-01-01}\n"
        "  new: {country: US, country_options: {us: {type: state_sales_tax, state: CA}},"
        " active_from: 2021-01-01}\n"
        "  other-state: {country: US, country_options: {us: {type: state_sales_tax, state: NY}}}\n",
    )
    registrations = load_manifests([path], environ={}).manifest.tax_registrations
    old, other = registrations["old"], registrations["other-state"]
    assert natural_key(old.country, old.country_options) == "US/state_sales_tax/CA"
    assert natural_key(other.country, other.country_options) == "US/state_sales_tax/NY"


@pytest.mark.parametrize(
    ("country", "options", "key"),
    [
        ("DE", {"de": {"type": "oss_union"}}, "DE/oss_union"),
        ("CA", {"ca": {"type": "province_standard", "province_standard": {"province": "BC"}}},
         "CA/province_standard/BC"),
        ("US", {"us": {"type": "local_amusement_tax", "state": "IL",
                       "local_amusement_tax": {"jurisdiction": "14000"}}},
         "US/local_amusement_tax/IL/14000"),
        ("US", {"us": {"type": "state_sales_tax", "state": "CA",
                       "state_sales_tax": {"elections": [{"type": "local_use_tax"}]}}},
         "US/state_sales_tax/CA"),
        ("GB", {"gb": {"type": "standard", "standard": None}}, "GB/standard"),
        ("de", {"de": {"type": "oss_union"}}, "DE/oss_union"),
        ("DE", {}, "DE/"),  # incomplete: the overlap check skips it, matching finds nothing
    ],
)  # fmt: skip
def test_natural_key(country: str, options: dict[str, dict[str, object]], key: str) -> None:
    registration = TaxRegistration(country=country, country_options=options)
    assert natural_key(registration.country, registration.country_options) == key


def test_country_shapes_are_derived_from_the_spec() -> None:
    # The numbers FACTS.md §3 states for 2026-09-30.endive, plus BW, CI, GH and MU (simplified)
    # that 2026-10-28.endive, the pinned version, added (FACTS.md [S21]).
    titles = Counter(schema["title"] for schema in country_option_schemas().values())
    assert titles == {
        "simplified": 45,
        "default": 30,
        "europe": 26,
        "canada": 1,
        "spain": 1,
        "thailand": 1,
        "united_states": 1,
    }


def test_the_newest_api_versions_additions_validate(tmp_path: Path) -> None:
    """BW/CI/GH/MU and US utility_users_tax came with 2026-10-28.endive, the pinned version."""
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\ntax_registrations:\n"
        "  bw: {country: BW, country_options: {bw: {type: simplified}}}\n"
        "  mu: {country: MU, country_options: {mu: {type: simplified}}}\n"
        "  la-uut: {country: US, country_options: {us: {type: utility_users_tax, state: CA,"
        " utility_users_tax: {jurisdiction: LOSANGELES}}}}\n"
        "webhook_endpoints:\n  a:\n    url: https://example.com/h\n"
        "    enabled_events: [three_d_secure.authentication.succeeded]\n",
    )
    state = load_manifests([path], environ={})
    assert state.warnings == ()
    registration = state.manifest.tax_registrations["la-uut"]
    key = natural_key(registration.country, registration.country_options)
    assert key == "US/utility_users_tax/CA/LOSANGELES"


def test_utility_users_tax_names_its_jurisdiction(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\ntax_registrations:\n"
        "  la: {country: US, country_options: {us: {type: utility_users_tax, state: CA}}}\n",
    )
    assert _errors([path]) == [
        "3:50: tax_registrations.la.country_options.us.type: type 'utility_users_tax' needs "
        "'utility_users_tax: {jurisdiction: ...}' naming the jurisdiction"
    ]


def test_an_older_pinned_version_warns_about_newer_registrations(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\naccount: {api_version: 2026-09-30.endive}\ntax_registrations:\n"
        "  gh: {country: GH, country_options: {gh: {type: simplified}}}\n"
        "  tx: {country: US, country_options: {us: {type: digital_excise_tax, state: TX}}}\n"
        "  ca: {country: US, country_options: {us: {type: state_sales_tax, state: CA}}}\n",
    )
    state = load_manifests([path], environ={})
    assert [(d.path, d.message) for d in state.warnings] == [
        (
            "tax_registrations.gh.country",
            "registrations in GH came with API version 2026-10-28.endive, but "
            "account.api_version pins 2026-09-30.endive; Stripe may refuse it under that version",
        ),
        (
            "tax_registrations.tx.country_options",
            "type 'digital_excise_tax' came with API version 2026-10-28.endive, but "
            "account.api_version pins 2026-09-30.endive; Stripe may refuse it under that version",
        ),
    ]


def test_diagnostic_rendering() -> None:
    located = Diagnostic("m.yaml", 3, 7, "account.mode", "bad")
    assert str(located) == "m.yaml:3:7: account.mode: bad"
    assert str(Diagnostic("m.yaml", 1, 1, "", "empty")) == "m.yaml:1:1: empty"
    assert str(Diagnostic("m.yaml", 2, 1, "x", "hmm", "warning")) == "m.yaml:2:1: x: warning: hmm"
    assert located.location == Location("m.yaml", 3, 7)


def test_readme_manifest_reference_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Manifest reference") :]
    snippet = section[section.index("```yaml\n") + 8 : section.index("```\n", 8)]
    path = _write(tmp_path, "reference.yaml", snippet)
    manifest = load_manifests([path], environ={}).manifest
    assert list(manifest.webhook_endpoints) == ["orders"]
    assert manifest.webhook_endpoints["orders"].lifecycle.ignore_changes == (
        "description",
        "metadata.owner",
    )
    assert list(manifest.tax_registrations) == ["us-ca-sales"]


def test_a_secret_from_the_environment_is_allowed_but_never_echoed(tmp_path: Path) -> None:
    key = "sk_live_" + "q" * 24
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://example.com/h\n"
        "    enabled_events: ['*']\n    metadata: {token: '${LEAK}'}\n"
        "  b:\n    url: ${LEAK}\n    enabled_events: ['*']\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([path], environ={"LEAK": key})
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{path}:8:10: webhook_endpoints.b.url: '(sensitive)' is not an absolute https URL "
        "(e.g. https://example.com/stripe/webhooks)"
    ]
    assert "q" * 24 not in repr(caught.value.diagnostics)
    state = load_manifests([path.parent], environ={"LEAK": "https://example.com/b"})
    assert state.manifest.webhook_endpoints["b"].url == "https://example.com/b"


def test_diagnostics_redact_secrets_in_messages() -> None:
    secret = "whsec_" + "z" * 20
    diagnostic = Diagnostic("m.yaml", 1, 1, f"metadata.{secret}", f"'{secret}' is bad")
    assert str(diagnostic) == "m.yaml:1:1: metadata.(sensitive): '(sensitive)' is bad"


@pytest.mark.parametrize(
    "pattern", ["description", "metadata.owner", "metadata.*", "meta*", "api_version", "*"]
)
def test_ignore_changes_accepts_fields_keys_and_globs(tmp_path: Path, pattern: str) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://example.com/a\n"
        f"    enabled_events: ['*']\n    lifecycle: {{ignore_changes: ['{pattern}']}}\n",
    )
    endpoint = load_manifests([path], environ={}).manifest.webhook_endpoints["a"]
    assert endpoint.lifecycle.ignore_changes == (pattern,)


@pytest.mark.parametrize(
    "target",
    [ROOT / "examples" / "basic", ROOT / "tests" / "manifest" / "cases" / "done-when"],
    ids=["example", "done-when"],
)
def test_libyaml_and_pure_python_parsers_agree(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.manifest import yamlsource

    def outcome() -> object:
        try:
            state = load_manifests([target], environ={})
        except ManifestError as error:
            return [str(d) for d in error.diagnostics]
        return (state.manifest, dict(state.locations), state.warnings)

    fast = outcome()
    monkeypatch.setattr(yamlsource, "_FastLoader", None)
    assert outcome() == fast


def test_empty_sections_declare_nothing(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "m.yaml",
        "version: 1\naccount:\npolicy:\ntax_settings:\nwebhook_endpoints:\ntax_registrations:\n",
    )
    state = load_manifests([path], environ={})
    assert state.manifest.tax_settings is None
    assert state.manifest.webhook_endpoints == {}
    assert state.manifest.account.mode == "test"
    assert dict(state.locations) == {}


def test_recursive_search_skips_hidden_directories(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    _write(tmp_path / ".github" / "workflows", "ci.yml", "on: push\njobs: {}\n")
    _write(tmp_path, ".draft.yaml", "not: a manifest\n")
    (tmp_path / "team").mkdir()
    _write(tmp_path / "team", "hooks.yml", "version: 1\n")
    _write(tmp_path, "main.yaml", "version: 1\npolicy: {unmanaged: ignore}\n")
    state = load_manifests([tmp_path], recursive=True, environ={})
    assert state.manifest.policy.unmanaged == "ignore"
    # Named explicitly, it is read, and YAML 1.1's "on" stays a key rather than True.
    errors = _errors([tmp_path / ".github" / "workflows" / "ci.yml"])
    assert "1:1: version: missing required key 'version' (add 'version: 1')" in errors
    assert errors[0].startswith("1:1: on: unknown key 'on'")


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nx: " + "[" * 1000 + "]" * 1000 + "\n",
        "version: 1\nwebhook_endpoints:\n  a:\n    url: https://a.example.com/x\n"
        "    enabled_events: &e [invoice.paid, *e]\n",
    ],
    ids=["deep", "self-alias"],
)
def test_yaml_that_would_exhaust_the_stack_is_one_located_error(tmp_path: Path, text: str) -> None:
    """Review finding 10: both were RecursionError tracebacks."""
    path = tmp_path / "stripe.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifests([path], environ={})
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{path}:1:1: the YAML nests too deeply, or an alias (*name) refers to a node that "
        "contains it"
    ]

"""The steps of the live acceptance suite, each through the real CLI but the out-of-band edits
and the cleanup, which go to the Stripe API directly as a Dashboard user's would.

plan → apply → no-op plan → out-of-band edit → drift → apply → export round trip → cleanup.
The first apply is of a saved plan the step has checked (``plan --out``, then ``apply --plan``),
as a CI pipeline does, so nothing the suite did not expect is written to an account it has not
seen before; the fix applies the manifests and checks the plan it printed.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import yaml
from live_run import ENDPOINTS, LiveRun, flipped_tax_behavior

from reconciler.apply.envfile import read_dotenv

EDITED_EVENTS = ["invoice.paid"]
EDITED_END_DAYS = 30


def run_acceptance(run: LiveRun) -> None:
    """The whole scenario; a failing step names itself in its assertion message."""
    manifest = run.write_manifest()
    secrets = plan_and_apply(run, manifest)
    assert_no_changes(run, manifest)
    edited = edit_out_of_band(run)
    assert_drift_reports(run, manifest, edited)
    fix_drift(run, manifest, edited, secrets)
    assert_no_changes(run, manifest)
    export_round_trip(run)
    clean_up(run)


def plan_and_apply(run: LiveRun, manifest: Path) -> dict[str, str]:
    """Plan creates exactly the run's objects; apply makes them and hands out both secrets."""
    actions = checked_plan(run, manifest, "initial.plan.json")
    expected = {f"webhook_endpoints.{run.name(s)}": "create" for s in ENDPOINTS}
    if run.state is not None:
        expected[f"tax_registrations.{run.registration_name}"] = "create"
    if run.backend.tax_settings_writes and "tax_settings" in actions:
        expected["tax_settings"] = "update"  # the head office or tax behaviour the account lacks
    assert actions == expected, f"plan: unexpected actions {actions}"
    applied = apply_plan(run, "initial.plan.json")
    assert applied.splitlines()[-1].startswith("Apply complete:"), applied

    # Booleans first: pytest would show the operands of a failed comparison, the secrets.
    secrets = read_secrets(run)
    names = {f"STRIPE_WEBHOOK_SECRET_{run.name(s).upper().replace('-', '_')}" for s in ENDPOINTS}
    assert set(secrets) == names, f"apply: secrets file holds {sorted(secrets)}"
    shaped = all(value.startswith("whsec_") for value in secrets.values())
    assert shaped, "apply: a secret in the secrets file is not a whsec_ signing secret"
    distinct = len(set(secrets.values())) == len(secrets)
    assert distinct, "apply: two endpoints got the same signing secret"

    live = run.endpoints()
    assert set(live) == set(ENDPOINTS), f"apply: endpoints at {run.host}: {sorted(live)}"
    for suffix, (_, events) in ENDPOINTS.items():
        endpoint = live[suffix]
        listed_with_secret = "secret" in endpoint  # checked first: the messages below show it
        assert not listed_with_secret, "Stripe lists an endpoint with its signing secret"
        assert endpoint["status"] == "enabled", endpoint
        assert sorted(endpoint["enabled_events"]) == sorted(events), endpoint
        assert endpoint["metadata"]["reconciler_name"] == run.name(suffix), endpoint
    if run.state is not None:
        (registration,) = run.registrations()
        assert registration["status"] == "active", registration
        assert registration["expires_at"] == run.expires_at, registration
    return secrets


def assert_no_changes(run: LiveRun, manifest: Path) -> None:
    result = run.cli("plan", str(manifest), "--detailed-exitcode", *run.targets())
    assert result.code == 0, f"no-op plan: exit {result.code}\n{result.stdout}{result.stderr}"
    assert result.stdout.strip().splitlines()[-1] == "No changes.", result.stdout


def edit_out_of_band(run: LiveRun) -> dict[str, dict[str, Any]]:
    """Change the run's objects through the API; return, per address, each edited field's
    live value as drift reports it."""
    live = run.endpoints()
    orders, billing = live["orders"], live["billing"]
    description = f"edited out of band by live suite {run.run_id}"
    edited_orders = run.api.update(
        f"/v1/webhook_endpoints/{orders['id']}", {"description": description, "disabled": "true"}
    )
    assert edited_orders["status"] == "disabled", edited_orders
    run.api.update(f"/v1/webhook_endpoints/{billing['id']}", {"enabled_events[]": EDITED_EVENTS})
    edited: dict[str, dict[str, Any]] = {
        f"webhook_endpoints.{run.name('orders')}": {"description": description, "disabled": True},
        f"webhook_endpoints.{run.name('billing')}": {"enabled_events": EDITED_EVENTS},
    }
    if run.state is not None:
        (registration,) = run.registrations()
        end = run.expires_at - EDITED_END_DAYS * 86_400
        run.api.update(f"/v1/tax/registrations/{registration['id']}", {"expires_at": end})
        edited[f"tax_registrations.{run.registration_name}"] = {"expires_at": end}
    if run.backend.tax_settings_writes and run.tax_settings is not None:
        behavior = flipped_tax_behavior(run.tax_settings["defaults"]["tax_behavior"])
        run.api.update("/v1/tax/settings", {"defaults[tax_behavior]": behavior})
        edited["tax_settings"] = {"defaults.tax_behavior": behavior}
    return edited


def assert_drift_reports(run: LiveRun, manifest: Path, edited: dict[str, dict[str, Any]]) -> None:
    """drift exits 2 and reports exactly the edits, with the live values, for the run's objects
    (the account may hold other drift, such as other runs' endpoints, which is not checked)."""
    result = run.cli("drift", str(manifest), "--format", "json")
    assert result.code == 2, f"drift: exit {result.code}\n{result.stdout}{result.stderr}"
    report = ours(run, json.loads(result.stdout)["drift"])
    assert set(report) == set(edited), f"drift: reported {sorted(report)}"
    orders = f"webhook_endpoints.{run.name('orders')}"
    assert report[orders]["drift"] == "disabled", report[orders]
    for address, fields in edited.items():
        changes = {change["path"]: change["live"] for change in report[address]["changes"]}
        assert changes == fields, f"drift of {address}: {changes}, edited {fields}"


def fix_drift(
    run: LiveRun, manifest: Path, edited: dict[str, dict[str, Any]], secrets: dict[str, str]
) -> None:
    """apply puts every edited object back by updates alone: no new endpoint, no new secret."""
    result = run.cli(
        "apply",
        str(manifest),
        "--auto-approve",
        "--secrets-file",
        str(secrets_file(run)),
        *run.targets(),
    )
    assert result.code == 0, f"fix: exit {result.code}\n{result.stdout}{result.stderr}"
    summary = f"Plan: 0 to create, {len(edited)} to update, 0 to replace, 0 to delete, 0 to expire."
    assert summary in result.stdout.splitlines(), f"fix: {result.stdout}"
    for address in edited:
        assert f"  ~ {address}: update" in result.stdout, f"fix: {address} not updated"
    unchanged = read_secrets(run) == secrets
    assert unchanged, "fix: the signing secrets changed (an endpoint was replaced)"
    live = run.endpoints()
    assert live["orders"]["status"] == "enabled", live["orders"]
    assert sorted(live["billing"]["enabled_events"]) == sorted(ENDPOINTS["billing"][1])


def export_round_trip(run: LiveRun) -> None:
    """export writes the run's objects; plan of the export (for them) shows no changes."""
    out = run.directory / "export"
    result = run.cli("export", "--out", str(out))
    assert result.code == 0, f"export: exit {result.code}\n{result.stderr}"
    exported = yaml.safe_load((out / "webhook_endpoints.yaml").read_text())["webhook_endpoints"]
    targets = []
    for suffix, (path, events) in ENDPOINTS.items():
        spec = exported.get(run.name(suffix))
        assert spec is not None, f"export: no {run.name(suffix)} in {sorted(exported)}"
        assert spec["url"] == f"https://{run.host}{path}", spec
        assert sorted(spec["enabled_events"]) == sorted(events), spec
        targets.append(f"webhook_endpoints.{run.name(suffix)}")
    if run.tax_settings is not None:
        targets.append("tax_settings")
    if run.state is not None:
        document = yaml.safe_load((out / "tax_registrations.yaml").read_text())
        names = [
            name
            for name, spec in document["tax_registrations"].items()
            if spec["country_options"] == {"us": {"type": "state_sales_tax", "state": run.state}}
        ]
        assert len(names) == 1, f"export: registrations of {run.state}: {names}"
        targets.append(f"tax_registrations.{names[0]}")
    plan = run.cli("plan", str(out), "--detailed-exitcode", *run.targets(targets))
    assert plan.code == 0, f"plan of the export: exit {plan.code}\n{plan.stdout}{plan.stderr}"
    assert plan.stdout.strip().splitlines()[-1] == "No changes.", plan.stdout


def clean_up(run: LiveRun) -> None:
    """Cleanup leaves nothing of the run active on the account (the fixture runs it again)."""
    assert run.cleanup() == [], "cleanup left objects behind"
    assert run.endpoints() == {}
    assert run.registrations() == []


# --- shared -------------------------------------------------------------------------------


def checked_plan(run: LiveRun, manifest: Path, name: str) -> dict[str, str]:
    """``plan --out`` for the run's targets: its actions by address."""
    out = run.directory / name
    result = run.cli("plan", str(manifest), "--format", "json", "--out", str(out), *run.targets())
    assert result.code == 0, f"plan: exit {result.code}\n{result.stderr}"
    document = json.loads(result.stdout)
    return {action["address"]: action["action"] for action in document["actions"]}


def apply_plan(run: LiveRun, name: str) -> str:
    result = run.cli(
        "apply",
        "--plan",
        str(run.directory / name),
        "--auto-approve",
        "--secrets-file",
        str(secrets_file(run)),
    )
    assert result.code == 0, f"apply: exit {result.code}\n{result.stdout}{result.stderr}"
    return result.stdout


def secrets_file(run: LiveRun) -> Path:
    return run.directory / "webhook.secrets.env"


def read_secrets(run: LiveRun) -> dict[str, str]:
    """The secrets file's entries (mode 0600), each handed to the leak scan; never printed."""
    path = secrets_file(run)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the secrets file is not 0600"
    entries = read_dotenv(path.read_text(), path)
    for value in entries.values():
        run.on_secret(value)
    return entries


def ours(run: LiveRun, entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Drift entries of the run's own addresses, by address."""
    addresses = set(run.addresses())
    return {entry["address"]: entry for entry in entries if entry["address"] in addresses}

"""The GitHub Action's script (``action/run_action.py``) as a runner would start it.

End to end: the real script and the real CLI against the emulator over a socket, with a fake
GitHub API (:mod:`fake_api`) for the pull-request comment and fresh ``GITHUB_STEP_SUMMARY`` /
``GITHUB_OUTPUT`` files per step, as GitHub gives each step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from docs_helpers import ROOT, run_action
from fake_api import FakeGitHub, github, serve
from leakscan import LeakScan

from reconciler.emulator.server import EmulatorServer

SCRIPT = ROOT / "action" / "run_action.py"
REPOSITORY = "acme/shop"
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
KEY = "sk_test_" + "action" * 4
TOKEN = "ghs_" + "faketoken" * 3
MARKER = "<!-- stripe-reconciler-plan: stripe/ -->"
MANIFEST = """\
version: 1
webhook_endpoints:
  orders:
    url: https://shop.example.com/stripe/webhooks
    enabled_events: [invoice.paid, checkout.session.completed]
    description: Orders
"""


@dataclass(frozen=True)
class Step:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclass
class Runner:
    """One job's workspace: each :meth:`step` is one ``uses:`` of the action."""

    workspace: Path
    base_env: dict[str, str]
    scan: LeakScan
    steps: int = 0

    def step(self, command: str, args: str = "", **env: str | None) -> Step:
        self.steps += 1
        files = self.workspace.parent / f"step-{self.steps}"
        files.mkdir()
        merged: dict[str, str] = {
            **self.base_env,
            "INPUT_COMMAND": command,
            "INPUT_PATHS": "stripe/",
            "INPUT_ARGS": args,
            "INPUT_COMMENT": "true",
            "GITHUB_STEP_SUMMARY": str(files / "summary.md"),
            "GITHUB_OUTPUT": str(files / "output.txt"),
        }
        for name, value in env.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        result = subprocess.run(
            [sys.executable, str(SCRIPT)],
            cwd=self.workspace,
            env=merged,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.scan.scan_stream(f"action step {self.steps} stdout", result.stdout)
        self.scan.scan_stream(f"action step {self.steps} stderr", result.stderr)
        output_file = files / "output.txt"
        outputs = dict(
            line.split("=", 1)
            for line in (output_file.read_text().splitlines() if output_file.exists() else [])
        )
        summary_file = files / "summary.md"
        summary = summary_file.read_text() if summary_file.exists() else ""
        return Step(result.returncode, result.stdout, result.stderr, outputs, summary)


def pull_request_event(path: Path, *, head_repository: str = REPOSITORY) -> Path:
    event = {
        "pull_request": {
            "number": 7,
            "head": {"sha": HEAD_SHA, "repo": {"full_name": head_repository}},
        }
    }
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


@pytest.fixture
def api() -> Iterator[FakeGitHub]:
    fake = github(REPOSITORY, TOKEN)
    with serve(fake):
        yield fake


@pytest.fixture
def runner(
    tmp_path: Path, emulator: EmulatorServer, api: FakeGitHub, leak_scan: LeakScan
) -> Runner:
    workspace = tmp_path / "workspace"
    (workspace / "stripe").mkdir(parents=True)
    (workspace / "stripe" / "webhooks.yaml").write_text(MANIFEST, encoding="utf-8")
    leak_scan.keys.update({KEY, TOKEN})
    foreign = ("STRIPE_", "GITHUB_", "INPUT_", "RUNNER_", "NO_COLOR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(foreign)}
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(pull_request_event(tmp_path / "event.json")),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": api.base_url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "42",
            "GITHUB_SHA": "f" * 40,
            "GITHUB_TOKEN": TOKEN,
            "STRIPE_API_KEY": KEY,
            "STRIPE_API_BASE": emulator.base_url,
        }
    )
    return Runner(workspace, env, leak_scan)


def plan_comments(api: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in api.comments.get(7, []) if c["body"].startswith(MARKER)]


def test_plan_apply_drift_through_the_action(
    runner: Runner, api: FakeGitHub, emulator: EmulatorServer, leak_scan: LeakScan
) -> None:
    # 120 earlier comments: the plan comment lands on the second page of 100.
    api.comments[7] = [{"id": n, "body": f"review remark {n}"} for n in range(1, 121)]

    validate = runner.step("validate")
    assert (validate.returncode, validate.outputs["exitcode"]) == (0, "0")
    assert "**validate succeeded.**" in validate.summary

    plan = runner.step("plan", "--out stripe.plan.json")
    assert (plan.returncode, plan.outputs) == (0, {"exitcode": "2", "skipped": "false"})
    assert plan.summary.startswith("### stripe-reconciler plan\n")
    assert "**Plan: 1 to create," in plan.summary
    assert "Plan: 1 to create," in plan.stdout  # the log shows the plan too
    (comment,) = plan_comments(api)
    assert api.comments[7][-1] is comment  # created once, after the others
    assert f"at `{HEAD_SHA[:12]}`" in comment["body"]
    assert "https://github.example/acme/shop/actions/runs/42" in comment["body"]
    assert "**Plan: 1 to create," in comment["body"]
    assert (runner.workspace / "stripe.plan.json").exists()

    secrets = runner.workspace.parent / "webhook.secrets.env"
    leak_scan.sink_files.add(secrets)
    apply = runner.step("apply", f"--plan stripe.plan.json --auto-approve --secrets-file {secrets}")
    assert (apply.returncode, apply.outputs["exitcode"]) == (0, "0")
    assert "STRIPE_WEBHOOK_SECRET_ORDERS=whsec_" in secrets.read_text()
    # The runner gets the mask as soon as the secret exists; the summary never sees the secret.
    lines = apply.stdout.splitlines()
    (mask,) = [n for n, line in enumerate(lines) if line.startswith("::add-mask::whsec_")]
    assert mask < next(n for n, line in enumerate(lines) if "Created after" in line)
    assert "whsec_" not in apply.summary and "::" not in apply.summary
    assert "**apply succeeded.**" in apply.summary
    assert "Apply complete: 1 created" in apply.summary

    again = runner.step("plan")
    assert (again.returncode, again.outputs["exitcode"]) == (0, "0")
    (updated,) = plan_comments(api)
    assert updated["id"] == comment["id"]
    assert "**No changes.**" in updated["body"]
    assert len(api.comments[7]) == 121
    assert [m for m, _ in api.requests if m != "GET"] == ["POST", "PATCH"]
    # Finding the comment paged through both pages both times.
    assert sum(1 for m, p in api.requests if m == "GET") == 4

    in_sync = runner.step("drift")
    assert (in_sync.returncode, in_sync.outputs["exitcode"]) == (0, "0")
    assert "**No drift: 1 resource in sync.**" in in_sync.summary  # the CLI's own summary

    endpoint_id = json.loads((runner.workspace / "stripe.plan.json").read_text())
    assert endpoint_id  # the saved plan is a JSON document
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, "")) as stripe:
        (live,) = stripe.get("/v1/webhook_endpoints").json()["data"]
        stripe.post(f"/v1/webhook_endpoints/{live['id']}", data={"description": "Edited"})
    drifted = runner.step("drift")
    assert (drifted.returncode, drifted.outputs["exitcode"]) == (0, "2")  # a result, not a failure
    assert "::warning" in drifted.stdout
    assert drifted.summary.count("### Stripe drift") == 1
    assert len(api.comments[7]) == 121  # only plan comments

    for step in (validate, plan, apply, again, in_sync, drifted):
        assert KEY not in step.summary + step.stdout + step.stderr


def test_a_failed_plan_replaces_the_comment_and_fails_the_step(
    runner: Runner, api: FakeGitHub
) -> None:
    assert runner.step("plan").outputs["exitcode"] == "2"
    (runner.workspace / "stripe" / "webhooks.yaml").write_text(
        MANIFEST.replace("invoice.paid", "invoice.payed"), encoding="utf-8"
    )
    failed = runner.step("plan")
    assert (failed.returncode, failed.outputs["exitcode"]) == (1, "1")
    assert "::error::stripe-reconciler plan failed with exit code 1" in failed.stdout
    assert "**plan failed (exit code 1).**" in failed.summary
    assert "invoice.payed" in failed.summary
    (comment,) = plan_comments(api)
    assert "stripe-reconciler plan failed" in comment["body"]
    assert "invoice.payed" in comment["body"]
    assert "Plan: 1 to create" not in comment["body"]  # the old plan is gone


def test_each_shard_of_a_fleet_keeps_its_own_plan_comment(runner: Runner, api: FakeGitHub) -> None:
    # The README's matrix plans shards 1/2 and 2/2 with paths "": one comment for both would
    # show reviewers whichever shard finished last, and hide the other shard's changes.
    fleet = (
        "version: 1\nmanifests: [stripe/]\naccounts:\n"
        "  - stripe_account: acct_1ShardA\n  - stripe_account: acct_1ShardB\n"
    )
    (runner.workspace / "fleet.yaml").write_text(fleet, encoding="utf-8")
    for shard in ("1/2", "2/2"):
        step = runner.step("plan", f"--fleet fleet.yaml --shard {shard}", INPUT_PATHS="")
        assert step.outputs["exitcode"] in ("0", "2"), step.stdout + step.stderr
    comments = [c["body"] for c in api.comments.get(7, [])]
    assert len(comments) == 2
    for shard, body in zip(("1/2", "2/2"), comments, strict=True):
        assert body.startswith(
            f"<!-- stripe-reconciler-plan: --fleet fleet.yaml --shard {shard} -->\n"
        )
        assert f"Plan of `--fleet fleet.yaml --shard {shard}`" in body
    again = runner.step("plan", "--fleet fleet.yaml --shard=1/2", INPUT_PATHS="")
    assert again.returncode == 0
    assert len(api.comments[7]) == 2  # updated in place, also when written --shard=1/2


def test_a_fork_pull_request_skips_with_a_notice(runner: Runner, api: FakeGitHub) -> None:
    fork = pull_request_event(runner.workspace.parent / "fork.json", head_repository="eve/shop")
    skipped = runner.step("plan", GITHUB_EVENT_PATH=str(fork), STRIPE_API_KEY="")
    assert (skipped.returncode, skipped.outputs) == (0, {"exitcode": "", "skipped": "true"})
    assert skipped.stdout.startswith("::notice title=stripe-reconciler plan skipped::")
    assert "comes from a fork" in skipped.summary
    assert api.requests == []
    # validate needs no key, so it still runs on a fork's pull request
    validate = runner.step("validate", GITHUB_EVENT_PATH=str(fork), STRIPE_API_KEY=None)
    assert (validate.returncode, validate.outputs["exitcode"]) == (0, "0")


def test_a_missing_key_outside_a_fork_fails(runner: Runner, api: FakeGitHub) -> None:
    failed = runner.step("plan", STRIPE_API_KEY=None, INPUT_COMMENT="false")
    assert (failed.returncode, failed.outputs["exitcode"]) == (1, "1")
    assert "No Stripe API key" in failed.stderr
    assert api.requests == []


def test_a_token_without_permission_fails_the_step(runner: Runner, api: FakeGitHub) -> None:
    api.fail_with = 403
    failed = runner.step("plan")
    assert failed.returncode == 1
    assert failed.outputs["exitcode"] == "2"  # the plan itself worked
    assert "HTTP 403" in failed.stdout and "pull-requests: write" in failed.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INPUT_COMMAND": "destroy"}, "input command must be one of validate, plan, apply, drift"),
        ({"INPUT_COMMAND": "plan", "INPUT_ARGS": "--out 'x"}, "not valid shell words"),
        ({"INPUT_COMMAND": "plan", "INPUT_COMMENT": "yes"}, "input comment must be true or false"),
    ],
)
def test_bad_inputs_are_one_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(run_action.ActionError, match=message):
        run_action.Inputs.from_env(env)


PLAN = ["--no-color", "plan", "stripe/", "--format", "markdown", "--detailed-exitcode"]


@pytest.mark.parametrize(
    ("command", "args", "argv"),
    [
        ("validate", "", ["--no-color", "validate", "stripe/"]),
        ("plan", "--out p.json", [*PLAN, "--out", "p.json"]),
        ("drift", "", ["--no-color", "drift", "stripe/", "--format", "github"]),
        ("apply", "--auto-approve", ["--no-color", "apply", "stripe/", "--auto-approve"]),
        ("apply", "--plan p.json", ["--no-color", "apply", "--plan", "p.json"]),
    ],
)
def test_inputs_become_cli_arguments(command: str, args: str, argv: list[str]) -> None:
    inputs = run_action.Inputs.from_env(
        {"INPUT_COMMAND": command, "INPUT_PATHS": "stripe/", "INPUT_ARGS": args}
    )
    assert inputs.argv() == argv


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://x/c?page=2>; rel="next", <https://x/c?page=5>; rel="last"',
            "https://x/c?page=2",
        ),
        (
            '<https://x/c?page=1>; rel="prev", <https://x/c?page=3>; rel="next"',
            "https://x/c?page=3",
        ),
        ('<https://x/c?page=1>; rel="first"', None),
        ("", None),
    ],
)
def test_next_link(header: str, expected: str | None) -> None:
    assert run_action.next_link(header) == expected


def test_comment_body_stays_under_githubs_limit() -> None:
    body = run_action.comment_body("stripe/", "Plan of `stripe/`", "x" * 70_000)
    assert len(body) < run_action.COMMENT_LIMIT
    assert body.startswith(MARKER + "\n")
    assert body.endswith("the job summary has the whole plan.\n")
    short = run_action.comment_body("stripe/", "h", "plan")
    assert short == f"{MARKER}\nh\n\nplan"


def test_code_block_cannot_be_closed_by_its_content() -> None:
    assert run_action.code_block("a ``` b") == "````text\na ``` b\n````\n"
    assert run_action.code_block("plain") == "```text\nplain\n```\n"


def test_action_yml_passes_inputs_through_the_environment() -> None:
    """No input is pasted into shell text (script injection), and the script is the one tested."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert set(action["inputs"]) == {
        "command",
        "paths",
        "args",
        "comment",
        "github-token",
        "python",
    }
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]
    run_step = action["runs"]["steps"][-1]
    assert "$GITHUB_ACTION_PATH/action/run_action.py" in run_step["run"]
    assert {f"INPUT_{n.upper()}" for n in ("command", "paths", "args", "comment")} <= set(
        run_step["env"]
    )
    install = action["runs"]["steps"][0]["run"]
    assert 'pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"' in install

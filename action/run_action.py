"""The GitHub Action's logic (``action.yml`` at the repository root runs it; standard library only).

It runs one ``stripe-reconciler`` command with the Python it is started with (the action's own
virtualenv, where the tool is installed at the action's ref), writes the job summary, sets the
``exitcode`` output and, for ``plan`` on a pull request, creates or updates ONE comment found by a
hidden marker. Inputs come as environment variables (``INPUT_COMMAND``, ``INPUT_PATHS``,
``INPUT_ARGS``, ``INPUT_COMMENT``) so that no input is ever pasted into shell text.

Exit codes: ``plan`` always runs with ``--detailed-exitcode``; 0 (no changes / in sync) and 2
(changes / drift) are results, reported in the ``exitcode`` output, and the step succeeds; any
other code fails the step. Without ``STRIPE_API_KEY`` on a pull request from a fork (GitHub gives
such runs no secrets) a command that needs the key is skipped with a notice, not failed.

Secrets: ``apply`` prints ``::add-mask::`` for every new signing secret; its output is passed
through line by line as it comes, and workflow-command lines never reach the summary.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

COMMANDS = ("validate", "plan", "apply", "drift")
NEEDS_KEY = frozenset({"plan", "apply", "drift"})
#: Exit codes that are results, not failures (``plan --detailed-exitcode`` and ``drift``).
RESULTS = {"plan": (0, 2), "drift": (0, 2), "apply": (0,), "validate": (0,)}
MARKER = "<!-- stripe-reconciler-plan: {key} -->"
#: GitHub refuses issue comments of 65,536 characters or more.
COMMENT_LIMIT = 65_536
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
#: The options that choose what a fleet plan covers (``--fleet FILE --shard I/N`` in a matrix).
SELECTING = ("--fleet", "--shard", "--accounts")


class ActionError(Exception):
    """A problem the action reports as one ``::error::`` line (never a traceback)."""


@dataclass(frozen=True)
class Inputs:
    command: str
    paths: tuple[str, ...]
    args: tuple[str, ...]
    comment: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        command = env.get("INPUT_COMMAND", "").strip()
        if command not in COMMANDS:
            raise ActionError(
                f"input command must be one of {', '.join(COMMANDS)}, got {command!r}"
            )
        try:
            paths = tuple(shlex.split(env.get("INPUT_PATHS", "")))
            args = tuple(shlex.split(env.get("INPUT_ARGS", "")))
        except ValueError as error:
            raise ActionError(f"inputs paths/args are not valid shell words: {error}") from None
        comment = env.get("INPUT_COMMENT", "true").strip().lower()
        if comment not in ("true", "false"):
            raise ActionError(f"input comment must be true or false, got {comment!r}")
        return cls(command, paths, args, comment == "true")

    def subject(self) -> str:
        """What the plan covers: the manifest paths and, for a fleet, its file, shard and
        accounts as given (``--shard=1/4`` read as ``--shard 1/4``). It names the plan's comment,
        so each shard of a matrix keeps its own instead of overwriting the others'."""
        words = list(self.paths)
        args = iter(self.args)
        for arg in args:
            name, equals, value = arg.partition("=")
            if name in SELECTING:
                words += [name, value if equals else next(args, "")]
        return " ".join(words)

    def argv(self) -> list[str]:
        """The CLI arguments after ``python -m reconciler``."""
        if self.command == "plan":
            return ["--no-color", "plan", *self.paths, "--format", "markdown",
                    "--detailed-exitcode", *self.args]  # fmt: skip
        if self.command == "drift":
            # github: one ::warning per drifted resource, and the CLI appends the markdown
            # report to $GITHUB_STEP_SUMMARY itself.
            return ["--no-color", "drift", *self.paths, "--format", "github", *self.args]
        if self.command == "apply" and "--plan" in self.args:
            return ["--no-color", "apply", *self.args]  # a saved plan needs no manifests
        return ["--no-color", self.command, *self.paths, *self.args]


@dataclass(frozen=True)
class Run:
    exitcode: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str], *, capture_stdout: bool) -> Run:
    """Run the tool; stream its output to the log as it comes and keep a copy.

    ``capture_stdout`` keeps stdout out of the log (the plan's markdown is printed once, after);
    otherwise every stdout line is echoed at once, so ``::add-mask::`` reaches the runner before
    anything else could print the secret.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None and process.stderr is not None
    err_lines: list[str] = []

    def pump_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            err_lines.append(line)
            sys.stderr.write(line)
            sys.stderr.flush()

    thread = threading.Thread(target=pump_stderr, daemon=True)
    thread.start()
    out_lines: list[str] = []
    for line in process.stdout:
        out_lines.append(line)
        if not capture_stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
    code = process.wait()
    thread.join()
    return Run(code, "".join(out_lines), "".join(err_lines))


def without_workflow_commands(text: str) -> str:
    """``text`` minus lines such as ``::add-mask::…`` (a mask line holds the secret itself)."""
    return "".join(line for line in text.splitlines(True) if not line.startswith("::"))


def code_block(text: str) -> str:
    """A fenced block that no backtick run inside ``text`` can close early."""
    longest = 0
    current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}\n"


def summary_markdown(inputs: Inputs, run: Run) -> str:
    if inputs.command == "plan" and run.exitcode in RESULTS["plan"]:
        return run.stdout.rstrip() + "\n"  # the markdown has its own heading
    title = f"### stripe-reconciler {inputs.command} `{' '.join(inputs.paths)}`\n\n"
    ok = run.exitcode in RESULTS[inputs.command]
    status = "succeeded" if ok else f"failed (exit code {run.exitcode})"
    shown = without_workflow_commands(run.stdout + run.stderr)
    body = code_block(shown) if shown.strip() else ""
    return f"{title}**{inputs.command} {status}.**\n\n{body}"


def comment_body(key: str, heading: str, markdown: str) -> str:
    """Marker, heading, markdown; cut to stay under GitHub's comment limit."""
    head = f"{MARKER.format(key=key)}\n{heading}\n\n"
    note = "\n\n> ✂️ Cut to fit a comment; the job summary has the whole plan.\n"
    if len(head) + len(markdown) < COMMENT_LIMIT:
        return head + markdown
    return head + markdown[: COMMENT_LIMIT - len(head) - len(note) - 1] + note


# -- GitHub REST API ------------------------------------------------------------------------


class GitHub:
    """The three issue-comment calls the action needs, with ``GITHUB_TOKEN``."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.token = token

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", "stripe-reconciler-action")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = json.loads(response.read() or b"null")
                return payload, response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            hint = ""
            if error.code in (401, 403, 404):
                hint = " (the job needs `permissions: pull-requests: write` and a GITHUB_TOKEN)"
            raise ActionError(
                f"GitHub API {method} {url.removeprefix(self.base)}: HTTP {error.code}{hint}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ActionError(
                f"GitHub API {method} {url.removeprefix(self.base)}: {error}"
            ) from None

    def comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment on the pull request, following ``Link: rel="next"`` page by page."""
        url: str | None = f"{self.base}/issues/{number}/comments?per_page=100"
        found: list[dict[str, Any]] = []
        while url:
            page, link = self._call("GET", url)
            found.extend(page)
            url = next_link(link)
        return found

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        """Update the comment that starts with ``marker``, or create it; returns what it did."""
        mine = next(
            (c for c in self.comments(number) if str(c.get("body", "")).startswith(marker)), None
        )
        if mine is not None:
            self._call("PATCH", f"{self.base}/issues/comments/{mine['id']}", {"body": body})
            return "updated"
        self._call("POST", f"{self.base}/issues/{number}/comments", {"body": body})
        return "created"


def next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, as GitHub sends it."""
    for part in header.split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return url.strip().removeprefix("<").removesuffix(">")
    return None


# -- the runner's files and events ------------------------------------------------------------
def append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(text)


def event_payload(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            loaded = json.load(stream)
    except (OSError, ValueError) as error:
        raise ActionError(f"cannot read the event payload {path}: {error}") from None
    return loaded if isinstance(loaded, dict) else {}


def secrets_withheld(env: Mapping[str, str], event: Mapping[str, Any]) -> bool:
    """True for runs GitHub gives no secrets: a fork's pull request, or Dependabot's."""
    if env.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return False
    head = (event.get("pull_request") or {}).get("head") or {}
    head_repo = (head.get("repo") or {}).get("full_name")
    return head_repo != env.get("GITHUB_REPOSITORY") or env.get("GITHUB_ACTOR") == "dependabot[bot]"


def has_key(env: Mapping[str, str], args: Sequence[str]) -> bool:
    if env.get("STRIPE_API_KEY") or env.get("STRIPE_RECONCILER_EMULATOR_STATE"):
        return True
    return any(a.split("=", 1)[0] in ("--api-key", "--emulator-state") for a in args)


def run(env: Mapping[str, str], out: IO[str]) -> int:
    inputs = Inputs.from_env(env)
    event = event_payload(env)
    if (
        inputs.command in NEEDS_KEY
        and not has_key(env, inputs.args)
        and secrets_withheld(env, event)
    ):
        out.write(
            f"::notice title=stripe-reconciler {inputs.command} skipped::Pull requests from forks "
            "(and Dependabot's) get no secrets, so there is no STRIPE_API_KEY to read the account "
            "with. The manifests were not planned; a maintainer can run the plan from a branch of "
            "this repository.\n"
        )
        append(
            env.get("GITHUB_STEP_SUMMARY"),
            f"### stripe-reconciler {inputs.command}\n\nSkipped: this pull request comes from a "
            "fork, and GitHub gives such runs no secrets (no `STRIPE_API_KEY`).\n",
        )
        append(env.get("GITHUB_OUTPUT"), "exitcode=\nskipped=true\n")
        return 0

    result = run_cli(inputs.argv(), capture_stdout=inputs.command == "plan")
    if inputs.command == "plan" and result.stdout:
        out.write(result.stdout if result.stdout.endswith("\n") else result.stdout + "\n")
        out.flush()
    if inputs.command != "drift":  # drift --format github writes its own summary
        append(env.get("GITHUB_STEP_SUMMARY"), summary_markdown(inputs, result) + "\n")
    append(env.get("GITHUB_OUTPUT"), f"exitcode={result.exitcode}\nskipped=false\n")
    succeeded = result.exitcode in RESULTS[inputs.command]

    if (
        inputs.command == "plan"
        and inputs.comment
        and env.get("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS
    ):
        post_plan_comment(env, event, inputs, result, out)
    if not succeeded:
        out.write(
            f"::error::stripe-reconciler {inputs.command} failed with exit code {result.exitcode}\n"
        )
        return result.exitcode or 1
    return 0


def post_plan_comment(
    env: Mapping[str, str], event: Mapping[str, Any], inputs: Inputs, result: Run, out: IO[str]
) -> None:
    pull = event.get("pull_request") or {}
    number = pull.get("number")
    if not isinstance(number, int):
        raise ActionError("no pull request number in the event payload")
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        raise ActionError("no GITHUB_TOKEN to post the plan comment with (input github-token)")
    sha = str((pull.get("head") or {}).get("sha") or env.get("GITHUB_SHA", ""))[:12]
    run_url = (
        f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env.get('GITHUB_REPOSITORY')}"
        f"/actions/runs/{env.get('GITHUB_RUN_ID', '')}"
    )
    paths = inputs.subject()
    if result.exitcode in RESULTS["plan"]:
        heading = f"Plan of `{paths}` at `{sha}` ([run]({run_url})):"
        markdown = result.stdout
    else:
        # Replace the old plan: reviewers must never read a plan for an older commit as current.
        heading = f"**stripe-reconciler plan failed** for `{paths}` at `{sha}` ([run]({run_url}))"
        markdown = code_block(without_workflow_commands(result.stderr) or "(no output)")
    repository = env.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise ActionError("GITHUB_REPOSITORY is not set: the plan comment needs it")
    github = GitHub(env.get("GITHUB_API_URL", "https://api.github.com"), repository, token)
    marker = MARKER.format(key=paths)
    did = github.upsert_comment(number, marker, comment_body(paths, heading, markdown))
    out.write(f"Plan comment {did} on pull request #{number}.\n")


def main() -> int:
    try:
        return run(os.environ, sys.stdout)
    except ActionError as error:
        sys.stdout.write(f"::error title=stripe-reconciler action::{error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""GitLab helper for the stripe-reconciler recipe (standard library only).

    python3 mr_plan.py post-note plan.md --exit-code N   # create or update the MR's one plan note
    python3 mr_plan.py fetch-plan                        # the plan reviewed on the merged MR's head

Needs GITLAB_API_TOKEN (a project access token: role Reporter, scope api) and GitLab's predefined
CI variables. ``post-note`` finds its note by a hidden marker through every page of notes;
``fetch-plan`` takes the ``plan`` job artifact of the newest pipeline that ran on the merged MR's
head commit, never merely the newest successful plan of some other commit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

MARKER = "<!-- stripe-reconciler-plan -->"
PLAN_FILE = "stripe.plan.json"
PLAN_JOB = "plan"
#: GitLab refuses notes over 1,000,000 characters; the plan markdown stays far below.
NOTE_LIMIT = 1_000_000


class HelperError(Exception):
    """One clear message for the job log, never a traceback."""


class GitLab:
    def __init__(self, env: Mapping[str, str]) -> None:
        try:
            self.base = f"{env['CI_API_V4_URL']}/projects/{env['CI_PROJECT_ID']}"
            self.token = env["GITLAB_API_TOKEN"]
        except KeyError as missing:
            raise HelperError(f"{missing.args[0]} is not set") from None

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[bytes, Mapping[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("PRIVATE-TOKEN", self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as error:
            raise HelperError(f"GitLab API {method} {path}: HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise HelperError(f"GitLab API {method} {path}: {error}") from None

    def json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        raw, _ = self.call(method, path, body)
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise HelperError(f"GitLab API {method} {path}: the answer is not JSON") from None

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page after page until ``X-Next-Page`` is empty."""
        page = "1"
        separator = "&" if "?" in path else "?"
        while page:
            raw, headers = self.call("GET", f"{path}{separator}per_page=100&page={page}")
            items = json.loads(raw or b"[]")
            if not isinstance(items, list):
                raise HelperError(f"GitLab API GET {path}: expected a list")
            yield from items
            page = headers.get("X-Next-Page", "") or ""


def note_body(markdown: str, exit_code: int, env: Mapping[str, str]) -> str:
    sha = env.get("CI_COMMIT_SHA", "")[:12]
    if exit_code in (0, 2):
        heading = f"Plan at `{sha}` ([pipeline]({env.get('CI_PIPELINE_URL', '')})):"
        body = f"{MARKER}\n{heading}\n\n{markdown}"
    else:
        # Replace the old plan: reviewers must never read a plan for an older commit as current.
        body = (
            f"{MARKER}\n**stripe-reconciler plan failed** at `{sha}` (exit code {exit_code}): "
            f"see [the job]({env.get('CI_JOB_URL', '')}).\n"
        )
    return body[:NOTE_LIMIT]


def post_note(markdown_file: str, exit_code: int, env: Mapping[str, str]) -> str:
    api = GitLab(env)
    iid = env.get("CI_MERGE_REQUEST_IID")
    if not iid:
        raise HelperError(
            "CI_MERGE_REQUEST_IID is not set: post-note runs in merge request pipelines"
        )
    with open(markdown_file, encoding="utf-8") as handle:
        body = note_body(handle.read(), exit_code, env)
    notes = f"/merge_requests/{iid}/notes"
    mine = next((n for n in api.pages(notes) if str(n.get("body", "")).startswith(MARKER)), None)
    if mine is not None:
        api.json("PUT", f"{notes}/{mine['id']}", {"body": body})
        return "updated"
    api.json("POST", notes, {"body": body})
    return "created"


def merged_request(api: GitLab, sha: str) -> dict[str, Any]:
    """The merged MR whose merge, squash or (fast-forward) head commit is ``sha``."""
    found = api.json("GET", f"/repository/commits/{sha}/merge_requests")
    for mr in found if isinstance(found, list) else []:
        commits = {mr.get("merge_commit_sha"), mr.get("squash_commit_sha"), mr.get("sha")}
        if mr.get("state") == "merged" and sha in commits:
            return dict(mr)
    raise HelperError(
        f"no merged merge request has {sha[:12]} as its merge commit: nothing reviewed to apply "
        "(was it pushed without a merge request?)"
    )


def fetch_plan(env: Mapping[str, str], destination: str = PLAN_FILE) -> str:
    api = GitLab(env)
    sha = env.get("CI_COMMIT_SHA")
    if not sha:
        raise HelperError("CI_COMMIT_SHA is not set")
    mr = merged_request(api, sha)
    iid, head = mr["iid"], mr["sha"]
    for pipeline in api.pages(f"/merge_requests/{iid}/pipelines"):  # newest first
        if pipeline.get("sha") != head:
            continue
        jobs = api.pages(f"/pipelines/{pipeline['id']}/jobs?scope[]=success")
        job = next((j for j in jobs if j.get("name") == PLAN_JOB), None)
        if job is None:
            continue
        plan, _ = api.call("GET", f"/jobs/{job['id']}/artifacts/{PLAN_FILE}")
        with open(destination, "wb") as handle:
            handle.write(plan)
        return f"the plan of !{iid} at {head[:12]} (pipeline {pipeline['id']}, job {job['id']})"
    raise HelperError(
        f"no successful {PLAN_JOB} job ran on {head[:12]}, the head of !{iid} when it was merged: "
        "nothing reviewed to apply; retry that pipeline's plan job, then this job"
    )


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mr_plan.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    post = commands.add_parser("post-note", help="create or update the MR's plan note")
    post.add_argument("markdown_file")
    post.add_argument("--exit-code", type=int, default=0, help="plan's exit code (0, 2 or failed)")
    commands.add_parser("fetch-plan", help=f"write {PLAN_FILE} reviewed on the merged MR's head")
    args = parser.parse_args(argv)
    environ = os.environ if env is None else env
    try:
        if args.command == "post-note":
            print(f"Plan note {post_note(args.markdown_file, args.exit_code, environ)}.")
        else:
            print(f"Fetched {fetch_plan(environ)}.")
    except (HelperError, OSError) as error:
        print(f"mr_plan.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

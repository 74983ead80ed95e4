"""``examples/ci/gitlab/mr_plan.py`` run as the GitLab recipe runs it, against a fake GitLab API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_helpers import ROOT
from fake_api import FakeApi, GitLabProject, gitlab, serve

SCRIPT = ROOT / "examples" / "ci" / "gitlab" / "mr_plan.py"
TOKEN = "glpat-" + "fake" * 5
MARKER = "<!-- stripe-reconciler-plan -->"
MERGE = "a" * 40
HEAD = "b" * 40
OLDER = "c" * 40


@pytest.fixture
def project() -> GitLabProject:
    return GitLabProject()


@pytest.fixture
def api(project: GitLabProject) -> Iterator[FakeApi]:
    fake = gitlab("42", TOKEN, project)
    with serve(fake):
        yield fake


def helper(api: FakeApi, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_"))}
    base.update(
        {
            "CI_API_V4_URL": f"{api.base_url}/api/v4",
            "CI_PROJECT_ID": "42",
            "GITLAB_API_TOKEN": TOKEN,
            "CI_PIPELINE_URL": "https://gitlab.example/p/-/pipelines/9",
            "CI_JOB_URL": "https://gitlab.example/p/-/jobs/99",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def plan_notes(project: GitLabProject) -> list[str]:
    return [n["body"] for n in project.notes.get(5, []) if n["body"].startswith(MARKER)]


def test_post_note_creates_once_then_updates_past_the_first_page(
    api: FakeApi, project: GitLabProject, tmp_path: Path
) -> None:
    project.notes[5] = [{"id": n, "body": f"remark {n}"} for n in range(1, 151)]
    (tmp_path / "plan.md").write_text("**Plan: 1 to create.**\n", encoding="utf-8")
    env = {"CI_MERGE_REQUEST_IID": "5", "CI_COMMIT_SHA": HEAD}

    first = helper(api, tmp_path, "post-note", "plan.md", "--exit-code", "2", **env)
    assert (first.returncode, first.stdout) == (0, "Plan note created.\n")
    (tmp_path / "plan.md").write_text("**No changes.**\n", encoding="utf-8")
    second = helper(api, tmp_path, "post-note", "plan.md", "--exit-code", "0", **env)
    assert (second.returncode, second.stdout) == (0, "Plan note updated.\n")
    assert plan_notes(project) == [
        f"{MARKER}\nPlan at `{HEAD[:12]}` ([pipeline](https://gitlab.example/p/-/pipelines/9)):"
        "\n\n**No changes.**\n"
    ]
    assert len(project.notes[5]) == 151
    # The second run read both pages of notes before it found the plan note on page 2.
    reads = [path for method, path in api.requests if method == "GET"]
    assert reads == ["/api/v4/projects/42/merge_requests/5/notes"] * 4

    failed = helper(api, tmp_path, "post-note", "plan.md", "--exit-code", "1", **env)
    assert failed.returncode == 0
    (note,) = plan_notes(project)
    assert "**stripe-reconciler plan failed**" in note and "(exit code 1)" in note
    assert "No changes" not in note


def merged_mr(project: GitLabProject) -> None:
    project.commit_mrs[MERGE] = [
        {"iid": 3, "state": "opened", "sha": "d" * 40, "merge_commit_sha": None},
        {"iid": 5, "state": "merged", "sha": HEAD, "merge_commit_sha": MERGE},
    ]


def test_fetch_plan_takes_the_plan_of_the_merged_head(
    api: FakeApi, project: GitLabProject, tmp_path: Path
) -> None:
    merged_mr(project)
    # Newest first: another commit's pipeline, a head pipeline whose plan failed, the head
    # pipeline that planned, and an older commit's successful plan; 120 more on later pages.
    project.mr_pipelines[5] = [
        {"id": 40, "sha": OLDER, "status": "success"},
        {"id": 39, "sha": HEAD, "status": "failed"},
        {"id": 38, "sha": HEAD, "status": "success"},
        *({"id": n, "sha": OLDER, "status": "success"} for n in range(37, -83, -1)),
    ]
    project.jobs = {
        40: [{"id": 400, "name": "plan", "status": "success"}],
        39: [{"id": 390, "name": "plan", "status": "failed"}],
        38: [
            {"id": 381, "name": "validate", "status": "success"},
            {"id": 380, "name": "plan", "status": "success"},
        ],
    }
    project.artifacts = {400: {"stripe.plan.json": b"newest"}, 380: {"stripe.plan.json": b"head"}}

    result = helper(api, tmp_path, "fetch-plan", CI_COMMIT_SHA=MERGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"Fetched the plan of !5 at {HEAD[:12]} (pipeline 38, job 380).\n")
    assert (tmp_path / "stripe.plan.json").read_bytes() == b"head"


def test_fetch_plan_refuses_without_a_plan_of_the_merged_head(
    api: FakeApi, project: GitLabProject, tmp_path: Path
) -> None:
    merged_mr(project)
    project.mr_pipelines[5] = [{"id": 40, "sha": OLDER, "status": "success"}]
    project.jobs = {40: [{"id": 400, "name": "plan", "status": "success"}]}
    project.artifacts = {400: {"stripe.plan.json": b"older"}}
    result = helper(api, tmp_path, "fetch-plan", CI_COMMIT_SHA=MERGE)
    assert result.returncode == 1
    assert result.stderr == (
        f"mr_plan.py: no successful plan job ran on {HEAD[:12]}, the head of !5 when it was "
        "merged: nothing reviewed to apply; retry that pipeline's plan job, then this job\n"
    )
    assert not (tmp_path / "stripe.plan.json").exists()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["fetch-plan"],
            {"CI_COMMIT_SHA": OLDER},
            f"no merged merge request has {OLDER[:12]} as its merge commit",
        ),
        (["fetch-plan"], {"CI_COMMIT_SHA": MERGE, "GITLAB_API_TOKEN": "glpat-wrong"}, "HTTP 401"),
        (["post-note", "plan.md"], {}, "CI_MERGE_REQUEST_IID is not set"),
        (["post-note", "missing.md"], {"CI_MERGE_REQUEST_IID": "5"}, "No such file"),
    ],
)
def test_failures_are_one_line(
    api: FakeApi,
    project: GitLabProject,
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    merged_mr(project)
    (tmp_path / "plan.md").write_text("plan", encoding="utf-8")
    result = helper(api, tmp_path, *args, **env)
    assert result.returncode == 1
    assert result.stderr.startswith("mr_plan.py: ") and message in result.stderr
    assert result.stderr.count("\n") == 1  # no traceback

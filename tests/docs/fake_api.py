"""Tiny in-memory stand-ins for the GitHub and GitLab REST calls the CI helpers make.

Each serves real HTTP on 127.0.0.1 (an ephemeral port, a daemon thread, stopped by the context
manager), so ``action/run_action.py`` and ``examples/ci/gitlab/mr_plan.py`` run unchanged, with
only their API base URL pointed here. Only the endpoints those scripts use exist; anything else
answers 404, and every request is recorded for the tests to inspect.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: (status, headers, body) — a dict or list body is sent as JSON, bytes as they are.
Reply = tuple[int, dict[str, str], Any]
Route = Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    match: re.Match[str]


@dataclass
class FakeApi:
    """Routes are ``(METHOD, path regex)``; :attr:`requests` records ``(method, path)``."""

    routes: list[tuple[str, re.Pattern[str], Route]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    base_url: str = ""
    #: Set to a status code to fail every request with it (a token without permission).
    fail_with: int | None = None

    def route(self, method: str, pattern: str) -> Callable[[Route], Route]:
        def register(handler: Route) -> Route:
            self.routes.append((method, re.compile(pattern + r"\Z"), handler))
            return handler

        return register

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        parts = urlsplit(target)
        self.requests.append((method, parts.path))
        if self.fail_with is not None:
            return self.fail_with, {}, {"message": "forbidden"}
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = json.loads(raw) if raw else None
        for route_method, pattern, handler in self.routes:
            found = pattern.match(parts.path)
            if route_method == method and found:
                return handler(Request(method, parts.path, query, headers, body, found))
        return 404, {}, {"message": "Not Found"}


@contextmanager
def serve(api: FakeApi) -> Iterator[FakeApi]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = api.handle(
                self.command, self.path, headers, self.rfile.read(length)
            )
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = _any

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def page(items: list[Any], query: dict[str, str]) -> tuple[list[Any], int, bool]:
    """Offset pagination as both APIs do it: the slice, its page number, whether more follow."""
    per_page = int(query.get("per_page", "30"))
    number = int(query.get("page", "1"))
    chunk = items[(number - 1) * per_page : number * per_page]
    return chunk, number, number * per_page < len(items)


# -- GitHub: issue comments of one repository ---------------------------------------------------
@dataclass
class FakeGitHub(FakeApi):
    #: pull request number → its comments, oldest first
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def github(repository: str, token: str) -> FakeGitHub:
    """Pull-request comments (issues API) with ``Link: rel="next"`` pagination."""
    api = FakeGitHub()
    comments = api.comments
    ids = iter(range(1000, 10**6))
    base = f"/repos/{re.escape(repository)}"

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {token}"

    @api.route("GET", base + r"/issues/(\d+)/comments")
    def list_comments(request: Request) -> Reply:
        if not authorised(request):
            return 401, {}, {"message": "Bad credentials"}
        items, number, more = page(comments.get(int(request.match[1]), []), request.query)
        headers = {}
        if more:
            url = f"{api.base_url}{request.path}?per_page={request.query.get('per_page', '30')}"
            headers["Link"] = f'<{url}&page={number + 1}>; rel="next", <{url}&page=1>; rel="first"'
        return 200, headers, items

    @api.route("POST", base + r"/issues/(\d+)/comments")
    def create(request: Request) -> Reply:
        if not authorised(request):
            return 401, {}, {"message": "Bad credentials"}
        comment = {"id": next(ids), "body": request.body["body"], "user": {"login": "bot"}}
        comments.setdefault(int(request.match[1]), []).append(comment)
        return 201, {}, comment

    @api.route("PATCH", base + r"/issues/comments/(\d+)")
    def update(request: Request) -> Reply:
        if not authorised(request):
            return 401, {}, {"message": "Bad credentials"}
        for thread in comments.values():
            for comment in thread:
                if comment["id"] == int(request.match[1]):
                    comment["body"] = request.body["body"]
                    return 200, {}, comment
        return 404, {}, {"message": "Not Found"}

    return api


# -- GitLab: merge request notes, pipelines, jobs and artifacts of one project -------------------
@dataclass
class GitLabProject:
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: commit sha → merge requests (``iid``, ``sha`` = head, ``state``, ``merge_commit_sha``)
    commit_mrs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: MR iid → pipelines, newest first (``id``, ``sha``, ``status``)
    mr_pipelines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: pipeline id → jobs (``id``, ``name``, ``status``)
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: job id → artifact files
    artifacts: dict[int, dict[str, bytes]] = field(default_factory=dict)


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def gitlab(project_id: str, token: str, project: GitLabProject) -> FakeApi:
    api = FakeApi()
    base = f"/api/v4/projects/{project_id}"
    ids = iter(range(5000, 10**6))

    def denied(request: Request) -> Reply | None:
        if request.headers.get("private-token") != token:
            return 401, {}, {"message": "401 Unauthorized"}
        return None

    def paged(items: list[Any], request: Request) -> Reply:
        chunk, number, more = page(items, request.query)
        return 200, {"X-Next-Page": str(number + 1) if more else "", "X-Page": str(number)}, chunk

    @api.route("GET", base + r"/merge_requests/(\d+)/notes")
    def list_notes(request: Request) -> Reply:
        return denied(request) or paged(project.notes.get(int(request.match[1]), []), request)

    @api.route("POST", base + r"/merge_requests/(\d+)/notes")
    def create_note(request: Request) -> Reply:
        if refused := denied(request):
            return refused
        note = {"id": next(ids), "body": request.body["body"]}
        project.notes.setdefault(int(request.match[1]), []).append(note)
        return 201, {}, note

    @api.route("PUT", base + r"/merge_requests/(\d+)/notes/(\d+)")
    def update_note(request: Request) -> Reply:
        if refused := denied(request):
            return refused
        for note in project.notes.get(int(request.match[1]), []):
            if note["id"] == int(request.match[2]):
                note["body"] = request.body["body"]
                return 200, {}, note
        return 404, {}, {"message": "404 Not found"}

    @api.route("GET", base + r"/repository/commits/([0-9a-f]+)/merge_requests")
    def commit_mrs(request: Request) -> Reply:
        return denied(request) or (200, {}, project.commit_mrs.get(request.match[1], []))

    @api.route("GET", base + r"/merge_requests/(\d+)/pipelines")
    def mr_pipelines(request: Request) -> Reply:
        return denied(request) or paged(
            project.mr_pipelines.get(int(request.match[1]), []), request
        )

    @api.route("GET", base + r"/pipelines/(\d+)/jobs")
    def pipeline_jobs(request: Request) -> Reply:
        if refused := denied(request):
            return refused
        jobs = project.jobs.get(int(request.match[1]), [])
        wanted = request.query.get("scope[]")
        return paged([j for j in jobs if wanted in (None, j["status"])], request)

    @api.route("GET", base + r"/jobs/(\d+)/artifacts/(.+)")
    def artifact_file(request: Request) -> Reply:
        if refused := denied(request):
            return refused
        files = project.artifacts.get(int(request.match[1]), {})
        if request.match[2] not in files:
            return 404, {}, {"message": "404 Not found"}
        return 200, {"Content-Type": "application/octet-stream"}, files[request.match[2]]

    return api

"""GitLab helper for the stripe-reconciler recipe (standard library only).

    python3 mr_plan.py post-note plan.md      # create or update the one plan note on the MR
    python3 mr_plan.py fetch-plan             # download the merged MR's reviewed stripe.plan.json

Needs GITLAB_API_TOKEN (api scope) and GitLab's predefined CI variables.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.parse
import urllib.request
import zipfile
from typing import Any

MARKER = "<!-- stripe-reconciler-plan -->"


def _api(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("PRIVATE-TOKEN", os.environ["GITLAB_API_TOKEN"])
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return raw if path.endswith("download?job=plan") else json.loads(raw or b"null")


def post_note(markdown_file: str) -> None:
    iid = os.environ["CI_MERGE_REQUEST_IID"]
    with open(markdown_file, encoding="utf-8") as handle:
        body = f"{MARKER}\n{handle.read()}"
    notes = _api("GET", f"/merge_requests/{iid}/notes?per_page=100")
    mine = next((n for n in notes if n["body"].startswith(MARKER)), None)
    if mine:
        _api("PUT", f"/merge_requests/{iid}/notes/{mine['id']}", {"body": body})
    else:
        _api("POST", f"/merge_requests/{iid}/notes", {"body": body})


def fetch_plan() -> None:
    mrs = _api("GET", f"/repository/commits/{os.environ['CI_COMMIT_SHA']}/merge_requests")
    if not mrs:
        sys.exit("no merge request found for this commit; cannot find its reviewed plan")
    ref = f"refs/merge-requests/{mrs[0]['iid']}/head"
    archive = _api("GET", f"/jobs/artifacts/{urllib.parse.quote(ref, safe='')}/download?job=plan")
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        bundle.extract("stripe.plan.json")


if __name__ == "__main__":
    if sys.argv[1:2] == ["post-note"] and len(sys.argv) == 3:
        post_note(sys.argv[2])
    elif sys.argv[1:] == ["fetch-plan"]:
        fetch_plan()
    else:
        sys.exit(__doc__)

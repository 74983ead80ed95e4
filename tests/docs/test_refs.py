"""What the docs and recipes tell people to install, and every ref they name, is safe and real.

* No line installs ``stripe-reconciler`` by name from a package index: the name is not published,
  and whoever registered it would run code in jobs that hold a Stripe key. Installs come from the
  repository (``git+…@<ref>``), a checkout (``.``) or the GitHub Action's own ref.
* Every ref of this repository that they name (``git+URL@ref``, ``OWNER/stripe-reconciler@ref``,
  pre-commit's ``rev:``, GitLab's ``STRIPE_RECONCILER_REF``) is an obvious placeholder
  (``<commit-sha>``) or the full SHA of a commit that exists in this repository (git).
* The repository URL is one placeholder, the same as ``[project.urls]`` in pyproject.toml, so
  setting the real one is a single search and replace; README links work off the repository (on
  the package index's project page): no relative links, and repository links name real files.
* Third-party actions are pinned to full commit SHAs with the version in a comment.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from docs_helpers import ROOT

from reconciler.manifest.schema import SCHEMA_ID

REPOSITORY = re.search(
    r'^Repository = "(.+)"$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE
)[1]  # type: ignore[index]
ACTION_NAME = REPOSITORY.removeprefix("https://github.com/")
DOCUMENTS = sorted(
    {
        ROOT / "README.md",
        ROOT / "action.yml",
        ROOT / ".pre-commit-hooks.yaml",
        ROOT / "schemas" / "manifest.schema.json",  # its $id
        *(p for p in (ROOT / "examples" / "ci").rglob("*") if p.is_file()),
    }
)
PLACEHOLDER = re.compile(r"<[a-z-]+>")
_INSTALL = re.compile(r"\b(?:pip3?|pipx|uv pip|uv tool)\s+install\b(?P<rest>.*)")
_PINNED_NAME = re.compile(r"stripe-reconciler\s*==\s*\d")
_REFS = [
    re.compile(r"git\+\S+?stripe-reconciler(?:\.git)?@(?P<ref>[^\s\"'#]+)"),
    re.compile(r"\b[\w.-]+/stripe-reconciler@(?P<ref>[^\s\"'#]+)"),
    re.compile(r"^\s*(?:#\s*)?rev:\s*(?P<ref>\S+)"),
    re.compile(r"STRIPE_RECONCILER_REF:\s*\"?(?P<ref>[^\s\"]+)"),
]
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)$")
_GITHUB_REPO_URL = re.compile(r"https://github\.com/[\w.-]+/stripe-reconciler\b")
_MARKDOWN_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def install_problems(text: str, where: str) -> list[str]:
    """Lines that install the tool from a package index by name (pinned or not)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _PINNED_NAME.search(line):
            problems.append(f"{where}:{number}: names an unpublished release: {line.strip()}")
            continue
        found = _INSTALL.search(line)
        if not found or "stripe-reconciler" not in found["rest"]:
            continue
        words = found["rest"].replace('"', " ").replace("'", " ").split()
        by_name = [w for w in words if re.fullmatch(r"stripe-reconciler(\[.*\])?([<>=~!].*)?", w)]
        from_source = "git+" in found["rest"] or "@" in words
        if by_name and not from_source:
            problems.append(f"{where}:{number}: installs by name from an index: {line.strip()}")
    return problems


def commit_exists(ref: str) -> bool:
    """A full commit SHA of this repository (a branch or tag name can move: not immutable)."""
    if not re.fullmatch(r"[0-9a-f]{40}", ref):
        return False
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def ref_problems(text: str, where: str) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        refs = {
            found["ref"].rstrip(".,;:)`") for pattern in _REFS for found in pattern.finditer(line)
        }
        for ref in sorted(refs):
            if not (PLACEHOLDER.fullmatch(ref) or commit_exists(ref)):
                problems.append(f"{where}:{number}: ref {ref!r} is no commit of this repository")
    return problems


def test_no_document_installs_the_tool_from_an_index() -> None:
    found = [p for d in DOCUMENTS for p in install_problems(d.read_text(), relative(d))]
    assert found == []


def test_every_ref_of_this_repository_exists_or_is_a_placeholder() -> None:
    found = [p for d in DOCUMENTS for p in ref_problems(d.read_text(), relative(d))]
    assert found == []
    # The docs do name refs: an empty search proves nothing.
    assert sum(len(ref_problems(d.read_text().replace("<commit-sha>", "x"), "")) for d in DOCUMENTS)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('pip install "stripe-reconciler==0.1.0"', "names an unpublished release"),
        ("pip install stripe-reconciler", "installs by name from an index"),
        ("pipx install 'stripe-reconciler>=0.1'", "installs by name from an index"),
        ("  - uv pip install stripe-reconciler[test]", "installs by name from an index"),
        ('pip install "stripe-reconciler @ git+https://x/y/stripe-reconciler@<commit-sha>"', None),
        ("pip install -e .", None),
        ("python -m pip install stripe-reconcilerx", None),
    ],
)
def test_the_install_check(line: str, problem: str | None) -> None:
    found = install_problems(line, "f")
    assert [problem in p for p in found] == ([True] if problem else [])


def test_the_ref_check() -> None:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    lines = [
        f"uses: OWNER/stripe-reconciler@{head} # a real commit",
        "uses: OWNER/stripe-reconciler@<commit-sha>",
        '  STRIPE_RECONCILER_REF: "<commit-sha>"',
        "  rev: v0.1.0",
        "pip install git+https://github.com/OWNER/stripe-reconciler@" + "0" * 40,
        "uses: OWNER/stripe-reconciler@main",
    ]
    assert ref_problems("\n".join(lines), "f") == [
        "f:4: ref 'v0.1.0' is no commit of this repository",
        f"f:5: ref '{'0' * 40}' is no commit of this repository",
        "f:6: ref 'main' is no commit of this repository",
    ]


def test_one_repository_url_everywhere() -> None:
    assert PLACEHOLDER.search(REPOSITORY) is None  # a URL PyPI and pip accept
    assert ACTION_NAME == "OWNER/stripe-reconciler"  # obviously a placeholder until settled
    for document in DOCUMENTS:
        text = document.read_text()
        assert set(_GITHUB_REPO_URL.findall(text)) <= {REPOSITORY}, relative(document)
        named = set(re.findall(r"\b([\w.-]+/stripe-reconciler)@", text))
        assert named <= {ACTION_NAME}, relative(document)


def test_schema_id_is_the_committed_schema_on_the_repository() -> None:
    """Editors fetch the ``$id`` (README's modeline and ``yaml.schemas``): it is the one
    repository URL plus the committed file's path, which GitHub's ``/raw/`` serves."""
    assert f"{REPOSITORY}/raw/main/schemas/manifest.schema.json" == SCHEMA_ID
    assert (ROOT / SCHEMA_ID.removeprefix(f"{REPOSITORY}/raw/main/")).is_file()


def test_readme_links_work_off_the_repository() -> None:
    """The package index shows README.md without the repository around it."""
    targets = _MARKDOWN_LINK.findall((ROOT / "README.md").read_text())
    assert targets  # the README has links at all
    relative_links = [t for t in targets if not t.startswith(("#", "https://"))]
    assert relative_links == []
    for target in targets:
        for prefix in (f"{REPOSITORY}/blob/main/", f"{REPOSITORY}/tree/main/"):
            if target.startswith(prefix):
                path = target.removeprefix(prefix).split("#")[0]
                assert (ROOT / path).exists(), target


def test_third_party_actions_are_pinned_to_commit_shas() -> None:
    files = [ROOT / "action.yml", *sorted((ROOT / "examples" / "ci" / "github").glob("*.yml"))]
    pins = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found = _USES.match(line)
            if found is None or found["action"] == ACTION_NAME:
                continue
            where = f"{relative(path)}:{number}"
            assert re.fullmatch(r"[0-9a-f]{40}", found["ref"]), f"{where}: not a full commit SHA"
            assert re.fullmatch(r"\s*# v\d+(\.\d+)*", found["comment"]), f"{where}: no version"
            pins.append((found["action"], found["ref"], found["comment"].strip()))
    # One SHA per action and version across all recipes.
    assert len({(a, r) for a, r, _ in pins}) == len({a for a, _, _ in pins})
    assert {a for a, _, _ in pins} == {
        "actions/checkout",
        "actions/upload-artifact",
        "actions/download-artifact",
    }

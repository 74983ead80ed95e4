"""Property tests: whatever the bytes, loading ends in a DesiredState or a ManifestError whose
diagnostics are well-formed and located — never any other exception."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ManifestError
from reconciler.manifest import DesiredState, Diagnostic, load_manifests

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_TEXTS = [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples" / "basic").glob("*.yaml"))
]
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def _load_bytes(directory: Path, content: bytes) -> DesiredState | ManifestError:
    path = directory / "m.yaml"
    path.write_bytes(content)
    try:
        return load_manifests([path], environ={"SET": "value"})
    except ManifestError as error:
        return error


def _assert_well_formed(outcome: DesiredState | ManifestError, lines: int) -> None:
    if isinstance(outcome, DesiredState):
        return
    assert outcome.diagnostics, "a ManifestError must carry diagnostics"
    assert any(d.severity == "error" for d in outcome.diagnostics)  # type: ignore[attr-defined]
    for diagnostic in outcome.diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert 1 <= diagnostic.line <= max(lines, 1) + 1
        assert diagnostic.column >= 1
        assert diagnostic.message
        assert "Traceback" not in str(diagnostic)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        ["now", "US", "us", "invoice.paid", "${SET}", "${UNSET}", "$$", "https://x.io"]
    ),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["version", "account", "policy", "webhook_endpoints", "tax_settings", "tax_registrations",
         "url", "enabled_events", "country", "country_options", "type", "state", "metadata",
         "active_from", "expires_at", "lifecycle", "head_office", "address", "defaults"]
    ),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


@FAST
@given(document=documents, with_version=st.booleans())
def test_random_yaml_documents(workdir: Path, document: Any, with_version: bool) -> None:
    if with_version and isinstance(document, dict):
        document = {"version": 1, **document}
    text = yaml.safe_dump(document, allow_unicode=True)
    _assert_well_formed(_load_bytes(workdir, text.encode("utf-8")), text.count("\n") + 1)


@FAST
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_random_bytes(workdir: Path, content: bytes) -> None:
    _assert_well_formed(_load_bytes(workdir, content), content.count(b"\n") + 1)


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate-line", "drop-line", "indent"]))
        lines = text.split("\n")
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if kind == "delete" and text:
            start = draw(st.integers(min_value=0, max_value=len(text) - 1))
            text = text[:start] + text[start + draw(st.integers(min_value=1, max_value=12)) :]
        elif kind == "insert":
            start = draw(st.integers(min_value=0, max_value=len(text)))
            piece = draw(
                st.sampled_from(["\t", ":", "- ", "{", "]", '"', "'", "&a ", "*a", "${", "\n  x: 1",
                                 "\x00", "0", "\ud7ff", "---\n", "!!binary ", "<<: *a\n", "? "])
                | st.text(max_size=5)
            )  # fmt: skip
            text = text[:start] + piece + text[start:]
        elif kind == "duplicate-line":
            lines.insert(index, lines[index])
            text = "\n".join(lines)
        elif kind == "drop-line":
            del lines[index]
            text = "\n".join(lines)
        else:
            lines[index] = " " * draw(st.integers(min_value=0, max_value=6)) + lines[index].lstrip()
            text = "\n".join(lines)
    return text


@FAST
@given(text=mutated_examples())
def test_mutated_examples(workdir: Path, text: str) -> None:
    content = text.encode("utf-8", errors="surrogatepass")
    _assert_well_formed(_load_bytes(workdir, content), content.count(b"\n") + 1)


@st.composite
def structurally_mutated(draw: st.DrawFn) -> Any:
    document = yaml.safe_load(draw(st.sampled_from(EXAMPLE_TEXTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        node: Any = document
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            keys_ = list(node) if isinstance(node, dict) else list(range(len(node)))
            child = node[draw(st.sampled_from(keys_))]
            if not isinstance(child, (dict, list)) or not child:
                break
            node = child
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(list(node)))
            node[key] = draw(documents)
        elif isinstance(node, list) and node:
            node[draw(st.integers(min_value=0, max_value=len(node) - 1))] = draw(documents)
    return document


@FAST
@given(document=structurally_mutated())
def test_structurally_mutated_examples(workdir: Path, document: Any) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    _assert_well_formed(_load_bytes(workdir, text.encode("utf-8")), text.count("\n") + 1)

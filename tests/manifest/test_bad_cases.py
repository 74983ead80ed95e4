"""Table-driven bad manifests: each case in cases/bad/ (a file, or a directory of files merged as
one set) is named after its failure; ``<case>.expected`` beside it lists the exact diagnostics,
one ``file:line:col: path: message`` per line, with file names relative to cases/bad/.
Every case is loaded with an empty environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import Diagnostic, load_manifests

BAD = Path(__file__).parent / "cases" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.suffix != ".expected")


def _diagnostics(case: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifests([case], environ={})
    diagnostics = caught.value.diagnostics
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    return [str(d) for d in diagnostics]


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


def test_every_case_has_its_expectation() -> None:
    missing = [case for case in CASES if not (BAD / f"{Path(case).stem}.expected").is_file()]
    assert missing == []


@pytest.mark.parametrize("case", CASES)
def test_bad_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    expected = (BAD / f"{Path(case).stem}.expected").read_text(encoding="utf-8").splitlines()
    assert _diagnostics(case) == expected


if __name__ == "__main__":  # pragma: no cover - regenerate expectations, then review the diff
    os.chdir(BAD)
    for name in CASES:
        try:
            load_manifests([name], environ={})
        except ManifestError as error:
            lines = "".join(f"{d}\n" for d in error.diagnostics)
            Path(f"{Path(name).stem}.expected").write_text(lines, encoding="utf-8")

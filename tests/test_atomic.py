"""``write_text_atomically``: the one atomic file write behind plan --out, schema --out, export
and the emulator's state file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.atomic import write_text_atomically


@pytest.mark.parametrize(
    ("relative", "before", "parents"),
    [
        ("plan.json", None, False),
        ("plan.json", "old", False),
        ("deep/er/plan.json", None, True),
        ("deep/plan.json", "old", True),
    ],
)
def test_writes_the_text_and_leaves_no_temporary_file(
    tmp_path: Path, relative: str, before: str | None, parents: bool
) -> None:
    path = tmp_path / relative
    if before is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(before, encoding="utf-8")
    write_text_atomically(path, "ünïcode\n", parents=parents)
    assert path.read_bytes() == "ünïcode\n".encode()
    assert sorted(p.name for p in path.parent.iterdir()) == ["plan.json"]


def test_a_missing_folder_is_an_error_unless_parents_is_asked_for(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_text_atomically(tmp_path / "missing" / "plan.json", "x")
    assert not (tmp_path / "missing").exists()


def test_a_failed_rename_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_text("old", encoding="utf-8")

    def refuse(source: str, target: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_text_atomically(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]

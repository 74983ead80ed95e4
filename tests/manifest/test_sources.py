"""Finding manifest files: an entry that cannot be read is an error naming it, never skipped.

A skipped file is a file whose resources plan would delete, so a broken link, a link loop or a
permission problem must stop the run. Permission tests run twice: with real modes (skipped as
root, who can read anything) and with the failing system call simulated, so the code path is
covered whoever runs the suite.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load_manifests
from reconciler.manifest.sources import discover, read_source

VALID = "version: 1\n"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _problems(paths: list[Path], *, recursive: bool = False) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths, environ={}, recursive=recursive)
    return [str(d) for d in caught.value.diagnostics]


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "stripe"
    (root / "sub").mkdir(parents=True)
    (root / "a.yaml").write_text(VALID, encoding="utf-8")
    (root / "sub" / "c.yaml").write_text(VALID, encoding="utf-8")
    return root


def test_a_broken_link_in_a_directory_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "b.yaml").symlink_to(tmp_path / "moved.yaml")
    assert _problems([root]) == [
        f"{root}/b.yaml:1:1: broken symbolic link: its target {tmp_path}/moved.yaml does not exist"
    ]


def test_a_link_loop_in_a_directory_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "b.yaml").symlink_to(root / "c.yaml")
    (root / "c.yaml").symlink_to(root / "b.yaml")
    assert _problems([root]) == [
        f"{root}/b.yaml:1:1: symbolic link loop: the link leads back to itself",
        f"{root}/c.yaml:1:1: symbolic link loop: the link leads back to itself",
    ]


def test_an_explicit_link_loop_is_one_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert _problems([loop]) == [f"{loop}:1:1: symbolic link loop: the link leads back to itself"]


def test_other_names_are_not_manifests_unless_recursive(tmp_path: Path) -> None:
    """Without --recursive only *.yaml/*.yml entries matter; with it, an entry that cannot be
    inspected may be the directory that held manifests (a moved ``base -> ../shared``)."""
    root = _tree(tmp_path)
    (root / "README").symlink_to(tmp_path / "nowhere")
    (root / ".hidden.yaml").symlink_to(tmp_path / "nowhere")  # hidden entries are never read
    files, problems = discover([root], recursive=False)
    assert (files, problems) == ([f"{root}/a.yaml"], [])
    files, problems = discover([root], recursive=True)
    assert files == [f"{root}/a.yaml", f"{root}/sub/c.yaml"]
    assert [str(p) for p in problems] == [
        f"{root}/README:1:1: broken symbolic link: its target {tmp_path}/nowhere does not exist"
    ]


def test_recursive_walk_follows_linked_directories_once(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "sub" / "up").symlink_to(root)  # a loop through a directory link
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "s.yaml").write_text(VALID, encoding="utf-8")
    (root / "base").symlink_to(shared)
    files, problems = discover([root], recursive=True)
    assert problems == []
    assert files == [f"{root}/a.yaml", f"{root}/base/s.yaml", f"{root}/sub/c.yaml"]


@pytest.mark.skipif(AS_ROOT, reason="root reads directories whatever their mode")
def test_an_unreadable_subdirectory_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "sub").chmod(0)
    try:
        assert _problems([root], recursive=True) == [
            f"{root}/sub:1:1: cannot read directory: permission denied"
        ]
        assert _problems([root / "sub"]) == [
            f"{root}/sub:1:1: cannot read directory: permission denied"
        ]
    finally:
        (root / "sub").chmod(0o755)


@pytest.mark.skipif(AS_ROOT, reason="root reads directories whatever their mode")
def test_an_entry_behind_an_unsearchable_directory_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "b.yaml").symlink_to(root / "sub" / "c.yaml")
    (root / "sub").chmod(0o600)  # listable, not searchable: stat of c.yaml is refused
    try:
        assert _problems([root]) == [f"{root}/b.yaml:1:1: permission denied"]
    finally:
        (root / "sub").chmod(0o755)


def test_permission_denied_on_a_directory_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path) == root / "sub":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert _problems([root], recursive=True) == [
        f"{root}/sub:1:1: cannot read directory: permission denied"
    ]


def test_permission_denied_on_an_entry_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    (root / "b.yaml").write_text(VALID, encoding="utf-8")
    real_stat = os.stat

    def stat(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        if Path(path) == root / "b.yaml":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", stat)
    assert _problems([root]) == [f"{root}/b.yaml:1:1: permission denied"]


def test_a_fifo_named_like_a_manifest_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.mkfifo(root / "b.yaml")
    assert _problems([root]) == [f"{root}/b.yaml:1:1: not a regular file"]


def test_an_upper_case_suffix_is_a_manifest_too(tmp_path: Path) -> None:
    """Review finding 12: Orders.YAML was silently skipped, so plan deleted what it declared."""
    root = _tree(tmp_path)
    (root / "Orders.YAML").write_text(VALID, encoding="utf-8")
    (root / "b.Yml").write_text(VALID, encoding="utf-8")
    files, problems = discover([root], recursive=False)
    assert (sorted(files), problems) == (
        sorted([f"{root}/a.yaml", f"{root}/Orders.YAML", f"{root}/b.Yml"]),
        [],
    )


def test_a_path_with_a_nul_character_is_one_located_error() -> None:
    # The operating system cannot even look such a path up (Python raises ValueError).
    files, problems = discover(["bad\x00name.yaml"], recursive=False)
    assert files == []
    assert [str(p) for p in problems] == [
        "bad\x00name.yaml:1:1: the path holds a NUL character, which no file name can"
    ]
    assert str(read_source("bad\x00name.yaml")) == (
        "bad\x00name.yaml:1:1: the path holds a NUL character, which no file name can"
    )

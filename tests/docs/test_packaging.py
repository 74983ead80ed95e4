"""The sdist and wheel build, carry their data, licence and console script, pass ``twine check``,
and the wheel works installed on its own.

Runs in the normal suite (so in CI): building takes a few seconds. The build runs on a copy of
the sources, so it never leaves ``build/`` or egg-info behind in the shared tree. ``python -m
build`` makes the sdist first and the wheel from the unpacked sdist, so a wheel here also proves
that the sdist carries everything the build needs.
"""

from __future__ import annotations

import email
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from reconciler import __version__

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
#: What the build sees: the package and its metadata files, plus the directories the sdist must
#: leave out (copied so that leaving them out is tested, not assumed).
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in")
LEFT_OUT = ("tests", "bench", "examples")
DIST = f"stripe_reconciler-{__version__}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy2(ROOT / name, source / name)
    for name in ("reconciler", *LEFT_OUT):
        shutil.copytree(
            ROOT / name,
            source / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "results"),
        )
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="module")
def wheel(dists: dict[str, Path]) -> Path:
    return dists["wheel"]


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        return email.message_from_bytes(archive.read(f"{DIST}.dist-info/METADATA"))


def test_wheel_name_and_contents(wheel: Path) -> None:
    assert wheel.name == f"stripe_reconciler-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(
            f"stripe_reconciler-{__version__}.dist-info/entry_points.txt"
        ).decode()
        events = archive.read("reconciler/data/enabled-events.txt").decode()
        schema = archive.read("reconciler/manifest/manifest.schema.json")
    for required in (
        "reconciler/data/openapi-subset.json",
        "reconciler/data/enabled-events.txt",
        "reconciler/py.typed",
        "reconciler/__main__.py",
        "reconciler/emulator/server.py",
        "reconciler/manifest/manifest.schema.json",
    ):
        assert required in names
    assert entry_points.split() == [
        "[console_scripts]",
        "stripe-reconciler",
        "=",
        "reconciler.cli.main:main",
    ]
    assert events == (ROOT / "reconciler" / "data" / "enabled-events.txt").read_text()
    # the committed, current schema (tests/manifest/test_schema.py keeps that one current)
    assert schema == (ROOT / "schemas" / "manifest.schema.json").read_bytes()
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))]


def test_sdist_carries_the_package_and_licence_but_no_tests(dists: dict[str, Path]) -> None:
    """The tests need the repository around them, so the sdist ships none rather than a few
    ``tests/test_*.py`` files (setuptools' default) that cannot run without their conftest."""
    with tarfile.open(dists["sdist"]) as archive:
        names = {name.removeprefix(f"{DIST}/") for name in archive.getnames()}
        licence = archive.extractfile(f"{DIST}/LICENSE")
        assert licence is not None
        assert licence.read() == (ROOT / "LICENSE").read_bytes()
    assert {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO"} <= names
    assert "reconciler/data/openapi-subset.json" in names
    assert [n for n in names if n.split("/")[0] in LEFT_OUT] == []


def test_licence_file_matches_the_licence_expression(wheel: Path) -> None:
    metadata = wheel_metadata(wheel)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(f"{DIST}.dist-info/licenses/LICENSE").decode()
    words = shipped.split()
    # The full Apache 2.0 text: title, version, all nine sections and the appendix.
    assert words[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in shipped
    assert "9. Accepting Warranty or Additional Liability." in shipped
    assert "END OF TERMS AND CONDITIONS" in shipped
    assert "APPENDIX: How to apply the Apache License to your work." in shipped


def test_metadata_has_classifiers_and_project_urls(wheel: Path) -> None:
    metadata = wheel_metadata(wheel)
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    # PEP 639: with a License-Expression, licence classifiers are forbidden.
    assert [c for c in classifiers if c.startswith("License ::")] == []
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL") or [])
    assert set(urls) == {"Homepage", "Repository", "Documentation", "Issues"}
    assert all(url.startswith(urls["Repository"]) for url in urls.values())


def test_twine_check_passes(dists: dict[str, Path]) -> None:
    """What PyPI's upload checks: metadata and a README that renders."""
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists.values())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_installed_wheel_runs_on_its_own(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run([*install, "--no-deps", str(wheel)], check=True, timeout=120)
    # Dependencies come from the test environment's site-packages, appended after the venv's
    # own: a .pth line only extends sys.path, so the project's editable hook there stays inert.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "test-deps.pth").write_text(deps + "\n", encoding="utf-8")

    version = subprocess.run(
        [str(venv / "bin" / "stripe-reconciler"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (version.returncode, version.stdout) == (
        0,
        f"stripe-reconciler, version {__version__}\n",
    )

    # cwd: `python -m` / `-c` put the working directory first on sys.path; not the source tree.
    module = subprocess.run(
        [str(python), "-m", "reconciler", "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert (module.returncode, module.stdout) == (0, f"stripe-reconciler, version {__version__}\n")

    where = subprocess.run(
        [str(python), "-c", "import reconciler.data as d; print(d.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(purelib)  # the installed copy, not the working tree

    # The JSON Schema is package data, for tools that check manifests without the generator.
    schema_id = subprocess.run(
        [
            str(python),
            "-c",
            "import json, importlib.resources as r; "
            "f = r.files('reconciler.manifest') / 'manifest.schema.json'; "
            "print(json.loads(f.read_text())['$id'])",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert schema_id == json.loads((ROOT / "schemas" / "manifest.schema.json").read_text())["$id"]

    validate = subprocess.run(
        [str(venv / "bin" / "stripe-reconciler"), "validate", str(ROOT / "examples" / "basic")],
        capture_output=True,
        text=True,
        check=False,
    )
    # text diagnostics and the summary go to stderr
    assert (validate.returncode, validate.stderr) == (0, "Valid: 6 resources declared.\n")


def test_python_dash_m_reconciler_in_the_development_install() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, f"stripe-reconciler, version {__version__}\n")
    assert (VENV_BIN / "stripe-reconciler").exists()

"""The wheel builds, carries its data and console script, and works installed on its own.

Runs in the normal suite (so in CI): building takes a few seconds. The build runs on a copy of
the sources, so it never leaves ``build/`` or egg-info behind in the shared tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reconciler import __version__

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "reconciler",
        source / "reconciler",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    out = tmp_path_factory.mktemp("wheelhouse")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (built,) = out.glob("*.whl")
    return built


def test_wheel_name_and_contents(wheel: Path) -> None:
    assert wheel.name == f"stripe_reconciler-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(
            f"stripe_reconciler-{__version__}.dist-info/entry_points.txt"
        ).decode()
        events = archive.read("reconciler/data/enabled-events.txt").decode()
    for required in (
        "reconciler/data/openapi-subset.json",
        "reconciler/data/enabled-events.txt",
        "reconciler/py.typed",
        "reconciler/__main__.py",
        "reconciler/emulator/server.py",
    ):
        assert required in names
    assert entry_points.split() == [
        "[console_scripts]",
        "stripe-reconciler",
        "=",
        "reconciler.cli.main:main",
    ]
    assert events == (ROOT / "reconciler" / "data" / "enabled-events.txt").read_text()
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))]


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
